"""Fixtures for the server tests: the server over a chosen registry, and OpenAI clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from typing import Any

import openai
import pytest
from server_helpers import MakeClient, StartServer

import jackfield_aichats
import jackfield_aichats.emulator
import jackfield_amigochat
import jackfield_amigochat.emulator
from jackfield import Registry, RetryPolicy, Timeouts
from jackfield._server import create_app
from jackfield._server.listen import serving
from mockprovider import MockProvider, MockServer
from nativeprovider import NativeProvider, NativeServer

COOKIE = "session=abc"


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """`url = await start_server(registry, api_key=..., max_body_bytes=...)` on loopback.

    The server runs as `jackfield serve` runs it; `listen={...}` sets serving()'s options.
    """
    async with AsyncExitStack() as stack:
        async def start(registry: Registry, *, listen: Mapping[str, Any] | None = None,
                        **kwargs: Any) -> str:
            app = create_app(registry, **kwargs)
            # A cap well under any file limit: the tests never depend on raising the limit.
            options = {"max_connections": 256, **(listen or {})}
            return str(await stack.enter_async_context(serving(app, **options)))

        yield start


@pytest.fixture
async def client() -> AsyncIterator[MakeClient]:
    """`client(url, api_key="k")`: an AsyncOpenAI for the server at url, closed after the test."""
    async with AsyncExitStack() as stack:
        def make(url: str, api_key: str = "unused") -> openai.AsyncOpenAI:
            made = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=api_key, max_retries=0,
                                      timeout=10)
            stack.push_async_callback(made.close)
            return made

        yield make


@pytest.fixture
async def strict_registry(mock_server: MockServer, serve_app: Any,
                          make_registry: Any) -> Registry:
    """The mock provider with no retries and short timeouts: each failure surfaces at once."""
    url = await serve_app(mock_server.app)
    registry: Registry = make_registry(
        [MockProvider()], base_urls={"mock": url}, retry=RetryPolicy(attempts=1),
        timeouts=Timeouts(connect=2, read_idle=0.5, total=10))
    return registry


@pytest.fixture
async def mock_api(strict_registry: Registry, start_server: StartServer,
                   client: MakeClient) -> openai.AsyncOpenAI:
    """An OpenAI client for a server over the mock provider (no API key)."""
    return client(await start_server(strict_registry))


@pytest.fixture
async def native_registry(native_server: NativeServer, serve_app: Any,
                          make_registry: Any) -> Registry:
    """A registry of the native provider alone, pointed at native_server (from
    tests/conftest.py); unlike the core tests' one it never retries, as each server test
    counts the requests the service saw."""
    url = await serve_app(native_server.app)
    registry: Registry = make_registry([NativeProvider()], base_urls={"native": url},
                                       retry=RetryPolicy(attempts=1))
    return registry


@pytest.fixture
async def native_api(native_registry: Registry, start_server: StartServer,
                     client: MakeClient) -> openai.AsyncOpenAI:
    """An OpenAI client for a server over the native provider."""
    return client(await start_server(native_registry))


@pytest.fixture
async def seed_registry(serve_app: Any, make_registry: Any) -> Registry:
    """Both real plugins, each pointed at its emulator."""
    aichats = await serve_app(jackfield_aichats.emulator.create_app(cookie=COOKIE))
    amigochat = await serve_app(jackfield_amigochat.emulator.create_app())
    registry: Registry = make_registry(
        [jackfield_aichats, jackfield_amigochat],
        base_urls={"aichats": aichats, "amigochat": amigochat},
        config={"aichats": {"cookie": COOKIE}})
    return registry


@pytest.fixture
async def seed_api(seed_registry: Registry, start_server: StartServer,
                   client: MakeClient) -> openai.AsyncOpenAI:
    """An OpenAI client (with an API key) for a server over both real plugins."""
    return client(await start_server(seed_registry, api_key="k"), api_key="k")
