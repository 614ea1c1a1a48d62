"""Fixtures of the client-library tests: a live jackfield server, and a clean environment.

These tests run only in their own environments (scripts/test_clients.sh, with
tests/clients/pytest.ini); the main suite, which has none of the client libraries, skips
this folder.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clientkit import LiveServer
from endpointkit import EndpointServer

HERE = Path(__file__).resolve().parent
# Before any test module imports litellm (at collection): litellm fetches its model cost map
# from the internet at import unless told to read the copy it bundles.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
# What a client library reads from the environment would point it elsewhere than the test
# server, or at a real service: each test passes base URL and key explicitly instead.
CLIENT_ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORG_ID",
                      "OPENAI_PROJECT_ID", "LLM_USER_PATH", "LLM_OPENAI_SHOW_RESPONSES",
                      "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                      "all_proxy")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave this folder to scripts/test_clients.sh: the main suite lacks the clients."""
    if config.inipath is None or config.inipath.parent != HERE:
        return True
    return None


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CLIENT_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # Client libraries that keep state in the home directory (llm, caches) keep it here.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def server() -> Iterator[LiveServer]:
    """jackfield serving the native provider (omni, thinker, plain; gpt-4o means omni)."""
    with LiveServer() as live:
        yield live


@pytest.fixture
def prompted_server() -> Iterator[LiveServer]:
    """The same, with prompted tools and JSON on for models without native support."""
    with LiveServer(prompted=True) as live:
        yield live


@pytest.fixture
def aichats_server() -> Iterator[LiveServer]:
    """The native provider and the aichats plugin (over its emulator) behind one server."""
    with LiveServer(aichats=True) as live:
        yield live



@pytest.fixture
def endpoint_server() -> Iterator[EndpointServer]:
    """jackfield serving the jackfield-openai plugin's `openai` provider, pointed at that
    plugin's strict OpenAI emulator (its models discovered; pinned ids passed through)."""
    with EndpointServer() as live:
        yield live


@pytest.fixture
def chained_server() -> Iterator[EndpointServer]:
    """jackfield-openai pointed at a second jackfield server whose providers are the seed
    plugins aichats and amigochat over their emulators."""
    with EndpointServer(chain=True) as live:
        yield live


@pytest.fixture
def litellm_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop set as the main thread's current one for the test, closed after it.

    litellm's synchronous calls ask asyncio.get_event_loop(), which (Python 3.11) makes a
    loop when the thread has none and keeps it as the current one; nothing closes it, and
    the next test whose event loop replaces it (any async test) drops it unclosed: a
    ResourceWarning, an error in these tests. Given this one, litellm uses it instead.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()
