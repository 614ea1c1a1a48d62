"""Fixtures for the scale-out tests: a real redis-server on a free loopback port, and servers
over the native provider that share it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from scaleout_helpers import REDIS, RedisServer

from jackfield import CooldownPolicy, Registry, RetryPolicy
from jackfield._server import create_app
from jackfield._server.listen import serving
from nativeprovider import NativeProvider, NativeServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A running redis-server, killed at the end of the test."""
    if REDIS is None:
        pytest.fail("redis-server is not installed: `apt-get install redis-server` "
                    "(.ci/run installs it)")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def native_url(native_server: NativeServer, serve_app: Any) -> str:
    """The native provider's service, running."""
    url: str = await serve_app(native_server.app)
    return url


@pytest.fixture
async def instance(native_url: str, make_registry: Any) -> AsyncIterator[Any]:
    """`url = await instance(**create_app_keywords)`: one more server, with a registry of
    its own over the same native service (no retries; 2 failures in a row: a 30 s
    cooldown), as another process of `jackfield serve` would have."""
    async with AsyncExitStack() as stack:
        async def start(**kwargs: Any) -> tuple[str, Registry]:
            registry: Registry = make_registry(
                [NativeProvider()], base_urls={"native": native_url},
                retry=RetryPolicy(attempts=1), cooldown=CooldownPolicy(failures=2, seconds=30))
            app = create_app(registry, **kwargs)
            url = await stack.enter_async_context(serving(app, max_connections=256))
            return str(url), registry

        yield start
