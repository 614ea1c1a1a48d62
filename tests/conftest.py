"""Shared test set-up: the network guard, the aioresponses compat shim, the mock provider
plugin and the native provider (tools, JSON modes, images, reasoning)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import aioresponses.core
import pytest

from jackfield._http.transport import Transport
from jackfield._settings.limits import Limits, RetryPolicy, Timeouts
from jackfield.testing import only_loopback
from mockprovider import MockProvider, MockServer
from nativeprovider import NativeProvider, NativeServer

# Compat shim: aioresponses 0.7.9 builds ClientResponse without the `stream_writer` argument
# that aiohttp 3.14 made required (pnuckowski/aioresponses#289). We must not downgrade aiohttp
# (3.14 carries a security fix), so give the argument a stand-in until upstream releases a fix.
# Keep aioresponses bodies under 64 KiB: 3.14's pause_reading also breaks larger ones (#292).


class _CompatClientResponse(aioresponses.core.ClientResponse):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", mock.Mock(output_size=0))
        super().__init__(*args, **kwargs)


aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[misc]


# Credentials and endpoints of real services a developer may have exported: never in a test.
CLOSED_PORT_URL = "http://127.0.0.1:9"  # the discard port: nothing listens there
REAL_SERVICE_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORG_ID",
                    "OPENAI_PROJECT_ID")


@pytest.fixture(autouse=True, scope="session")
def _network_guard() -> Iterator[list[str]]:
    """Refuse every connection beyond loopback for the whole session (the test kit's audit
    hook sees each socket.connect and connect_ex, whatever library makes it), and hide real
    services' credentials."""
    with only_loopback() as refused, pytest.MonkeyPatch.context() as patch:
        for name in [*REAL_SERVICE_ENV, *(key for key in os.environ
                                           if key.startswith("JACKFIELD_OPENAI_"))]:
            patch.delenv(name, raising=False)
        # The Ollama example's default base URL is a loopback port where a developer may run
        # a real Ollama: a registry of every installed plugin must not list its models.
        patch.setenv("JACKFIELD_OLLAMA_BASE_URL", CLOSED_PORT_URL)
        yield refused  # the addresses refused so far


@pytest.fixture(autouse=True)
def _stays_on_loopback(_network_guard: list[str]) -> Iterator[None]:
    """Fail the test that tried to reach beyond loopback, even if it caught the error."""
    _network_guard.clear()
    yield
    if _network_guard:
        tried = ", ".join(_network_guard)
        _network_guard.clear()
        pytest.fail(f"the test tried to connect beyond loopback ({tried}); tests must "
                    "reach only 127.0.0.1")


@pytest.fixture(autouse=True, scope="session")
def _own_config_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point the user config directory (keys, default models) away from the real user's."""
    os.environ["JACKFIELD_CONFIG_DIR"] = str(tmp_path_factory.mktemp("config"))
    # and the cache of `jackfield models` away from the real user's cache directory
    os.environ["JACKFIELD_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    """Return the core transport on its own (to unit-test a parser), closed after the test."""
    transport = Transport(timeouts=Timeouts(connect=5, read_idle=5, total=60), limits=Limits())
    try:
        yield transport
    finally:
        await transport.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain aiohttp session for talking to an emulator directly."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def mock_server() -> MockServer:
    """A fresh mock service (not yet running)."""
    return MockServer()


@pytest.fixture
async def mock_registry(mock_server: MockServer, serve_app: Any, make_registry: Any) -> Any:
    """A registry with only the mock provider, pointed at a running mock service."""
    url = await serve_app(mock_server.app)

    return make_registry([MockProvider()], base_urls={"mock": url},
                         retry=RetryPolicy(backoff=0.01, max_backoff=0.05))


@pytest.fixture
def native_server() -> NativeServer:
    """A fresh native service (not yet running)."""
    return NativeServer()


@pytest.fixture
async def native_registry(native_server: NativeServer, serve_app: Any,
                          make_registry: Any) -> Any:
    """A registry with only the native provider, pointed at a running native service."""
    url = await serve_app(native_server.app)
    return make_registry([NativeProvider()], base_urls={"native": url},
                         retry=RetryPolicy(backoff=0.01, max_backoff=0.05))


_REPO_ROOT = Path(__file__).resolve().parent.parent


def _root_files() -> set[str]:
    """Return the plain files at the repository root (directories such as .hypothesis and
    the venvs are made by tools, not by tests)."""
    return {entry.name for entry in os.scandir(_REPO_ROOT) if entry.is_file()}


@pytest.fixture(autouse=True)
def _leaves_no_file_in_the_repository() -> Iterator[None]:
    """Fail the test that writes into the working tree (an image saved to the current
    directory was once committed by mistake): tests write under tmp_path."""
    before = _root_files()
    yield
    new = sorted(_root_files() - before)
    if new:
        for name in new:
            (_REPO_ROOT / name).unlink(missing_ok=True)
        pytest.fail(f"the test left {', '.join(new)} in the repository root; write under "
                    "tmp_path instead")
