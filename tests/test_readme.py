"""Every ```python block of README.md runs as written, against the emulators on loopback.

Nothing in a block is replaced: the environment points the providers at the emulators, as
`jackfield emulate` tells a user to, and the OpenAI-client block talks to a real
`jackfield serve` app on the very port it names.

The seed providers have no native tools, JSON modes or image input. A block that shows
those is marked in README.md by the line NATIVE just above it, and runs with one more
provider installed, as a user would have one: tests/nativeprovider.py's provider (its
`gpt-4o` has everything), registered through a real entry point (a dist-info directory on
sys.path) and served on loopback. Routing by need then sends such calls to it.
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
NATIVE = "<!-- test_readme: with a provider that has native tools, JSON and image input -->"
# A block under this line runs with jackfield-openai installed too, pointed at its emulator
# (with a key, as a user with an endpoint would have it).
OPENAI = "<!-- test_readme: with jackfield-openai pointed at its emulator -->"
OPENAI_KEY = "sk-readme-emulator"
_T = TypeVar("_T")


def python_blocks() -> list[tuple[int, str, str]]:
    """Return (line number, code, the marker above it or "") for each block."""
    text = README.read_text()
    markers = "|".join(re.escape(marker) for marker in (NATIVE, OPENAI))
    return [(text.count("\n", 0, match.start()) + 2, match.group(2),
             (match.group(1) or "").strip())
            for match in re.finditer(rf"^((?:{markers})\n)?```python\n(.*?)^```", text,
                                     re.S | re.M)]


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


def install_native(background: BackgroundLoop, monkeypatch: pytest.MonkeyPatch,
                   folder: Path) -> None:
    """Install the native provider as a plugin distribution would be, and serve it."""
    from nativeprovider import NativeServer

    info = folder / "jackfield_native-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: jackfield-native\n"
                                   "Version: 1.0\n\n")
    (info / "entry_points.txt").write_text("[jackfield]\nnative = readme_native:PLUGIN\n")
    (folder / "readme_native.py").write_text(
        "from nativeprovider import NativeProvider\n\nPLUGIN = NativeProvider()\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("JACKFIELD_LOAD_PLUGINS",
                       "jackfield-aichats,jackfield-amigochat,jackfield-native")
    monkeypatch.setenv("JACKFIELD_NATIVE_BASE_URL", background.serve(NativeServer().app))


def install_openai(background: BackgroundLoop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load jackfield-openai as well, pointed at its emulator as a user's endpoint."""
    import jackfield_openai.emulator

    url = background.serve(jackfield_openai.emulator.create_app(api_key=OPENAI_KEY))
    monkeypatch.setenv("JACKFIELD_LOAD_PLUGINS",
                       "jackfield-aichats,jackfield-amigochat,jackfield-openai")
    monkeypatch.setenv("JACKFIELD_OPENAI_BASE_URL", f"{url}/v1")
    monkeypatch.setenv("JACKFIELD_OPENAI_API_KEY", OPENAI_KEY)


def test_the_readme_has_python_examples() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 3
    markers = [marker for _, _, marker in blocks]
    assert 0 < markers.count(NATIVE) < len(blocks) and markers.count(OPENAI) > 0


def test_the_markers_stand_only_above_blocks() -> None:
    text = README.read_text()
    markers = [marker for _, _, marker in python_blocks()]
    assert text.count(NATIVE) == markers.count(NATIVE)
    assert text.count(OPENAI) == markers.count(OPENAI)


@pytest.mark.parametrize(("line", "code", "marker"), python_blocks(),
                         ids=[f"README.md:{line}" for line, _, _ in python_blocks()])
def test_readme_python_block_runs(line: int, code: str, marker: str,
                                  emulated: BackgroundLoop, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    if marker == NATIVE:
        install_native(emulated, monkeypatch, tmp_path)
    elif marker == OPENAI:
        install_openai(emulated, monkeypatch)
    for port in sorted({int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)/v1", code)}):
        try:
            emulated.serve(create_app(), port=port)  # `jackfield serve` on the block's port
        except OSError as error:
            pytest.skip(f"README.md:{line} needs port {port}, which is in use: {error}")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, f"README.md:{line}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert printed.strip(), f"README.md:{line} printed nothing"
