"""Every ```python block of README.md runs as written, against the emulators on loopback.

Nothing in a block is replaced: the environment points the providers at the emulators, as
`jackfield emulate` tells a user to, and the OpenAI-client block talks to a real
`jackfield serve` app on the very port it names.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

import jackfield_aichats.emulator
import jackfield_amigochat.emulator
from jackfield import create_app
from jackfield.testing import serve_app

README = Path(__file__).resolve().parents[1] / "README.md"
COOKIE = "session=readme"
_T = TypeVar("_T")


def python_blocks() -> list[tuple[int, str]]:
    """Return (line number, code) for each ```python block."""
    text = README.read_text()
    return [(text.count("\n", 0, match.start()) + 2, match.group(1))
            for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)]


class BackgroundLoop:
    """An event loop in a thread, so that blocking README code can call servers it runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.stack = AsyncExitStack()

    def run(self, awaitable: Awaitable[_T]) -> _T:
        async def wrapped() -> _T:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(30)

    def serve(self, app: web.Application, port: int = 0) -> str:
        return self.run(self.stack.enter_async_context(serve_app(app, port=port)))

    def __enter__(self) -> BackgroundLoop:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundLoop]:
    """Both emulators on loopback and the environment `jackfield emulate` would print."""
    for name in ("JACKFIELD_CONFIG", "JACKFIELD_ROUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JACKFIELD_LOAD_PLUGINS", "jackfield-aichats,jackfield-amigochat")
    with BackgroundLoop() as background:
        monkeypatch.setenv("JACKFIELD_AICHATS_BASE_URL", background.serve(
            jackfield_aichats.emulator.create_app(cookie=COOKIE)))
        monkeypatch.setenv("JACKFIELD_AICHATS_COOKIE", COOKIE)
        monkeypatch.setenv("JACKFIELD_AMIGOCHAT_BASE_URL", background.serve(
            jackfield_amigochat.emulator.create_app()))
        yield background


def test_the_readme_has_python_examples() -> None:
    assert len(python_blocks()) >= 3


@pytest.mark.parametrize(("line", "code"), python_blocks(),
                         ids=[f"README.md:{line}" for line, _ in python_blocks()])
def test_readme_python_block_runs(line: int, code: str, emulated: BackgroundLoop,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    for port in sorted({int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)/v1", code)}):
        try:
            emulated.serve(create_app(), port=port)  # `jackfield serve` on the block's port
        except OSError as error:
            pytest.skip(f"README.md:{line} needs port {port}, which is in use: {error}")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, f"README.md:{line}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert printed.strip(), f"README.md:{line} printed nothing"
