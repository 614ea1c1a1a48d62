"""Fixtures of the client-library tests: a live jackfield server, and a clean environment.

These tests run only in their own environments (scripts/test_clients.sh, with
tests/clients/pytest.ini); the main suite, which has none of the client libraries, skips
this folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from clientkit import LiveServer, load_native

HERE = Path(__file__).resolve().parent
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


def _prompted_missing() -> str | None:
    """Return why prompted tools cannot run here (None when jackfield has them)."""
    from jackfield import JackfieldError, Registry

    async def probe() -> str | None:
        native = load_native()
        async with Registry([native.NativeProvider()], environ={}, prompted=True) as registry:
            tool = {"type": "function", "function": {"name": "probe", "parameters": {
                "type": "object", "properties": {}}}}
            try:
                # A text-only model with a tool: planning happens before any I/O, so the
                # placeholder raises here; an implementation goes on to connect (port 9).
                await registry.complete("native/plain", "hi", tools=[tool], timeout=2)
            except NotImplementedError as error:
                return f"prompted emulation not implemented in this jackfield: {error}"
            except JackfieldError:  # past planning: the connection to port 9 failed
                return None
        return None

    return asyncio.run(probe())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked `prompted` while the prompted emulation is a placeholder."""
    if not any(item.get_closest_marker("prompted") for item in items):
        return
    reason = _prompted_missing()
    if reason is not None:
        for item in items:
            if item.get_closest_marker("prompted"):
                item.add_marker(pytest.mark.skip(reason=reason))


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

