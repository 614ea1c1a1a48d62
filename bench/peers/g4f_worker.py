"""Peer: gpt4free's own AmigoChat provider (g4f 6.5.0), pointed at the emulator.

g4f 6.5.0 still ships the provider, under g4f/Provider/not_working/, but that package's
__init__ fails to import (its har/ subpackage imports g4f.Provider.deprecated.LegacyLMArena,
which is not shipped). So the provider's own file is loaded directly under its real module
name, its relative imports (g4f.typing, g4f.requests, ...) resolving as they would in place.
Only its two endpoint attributes are changed; `url`, which it sends as origin and referer,
is left as it is. It is run with stream=True, the only mode in which it returns the text of
an OpenAI-shaped reply (with stream=False it still reads `data:` lines and finds none).
Run in bench/.venvs/g4f. Usage: g4f_worker.py EMULATOR_URL
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import benchloop


def load_amigochat() -> Any:
    """Import g4f/Provider/not_working/AmigoChat.py without its failing package __init__."""
    # g4f is installed only in bench/.venvs/g4f, never where mypy runs: untyped (Any) here.
    import g4f  # type: ignore[import-not-found, unused-ignore]
    import g4f.Provider  # type: ignore[import-not-found, unused-ignore]  # its package
    from g4f import debug  # type: ignore[import-not-found, unused-ignore]

    debug.version_check = False  # never ask PyPI for a newer g4f from the benchmark
    path = Path(g4f.__file__).parent / "Provider" / "not_working" / "AmigoChat.py"
    name = "g4f.Provider.not_working.AmigoChat"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.AmigoChat


class G4fClient:
    name = "g4f AmigoChat"

    def __init__(self) -> None:
        self.provider: Any = None

    async def start(self, url: str) -> None:
        self.provider = load_amigochat()
        self.provider.chat_api_endpoint = url + "/v1/chat/completions"
        self.provider.image_api_endpoint = url + "/v1/images/generations"

    async def _pieces(self, prompt: str) -> Any:
        return self.provider.create_async_generator(
            benchloop.MODEL, [{"role": "user", "content": prompt}], stream=True)

    async def one(self, mode: str) -> str:
        if mode != "sse":
            raise ValueError("g4f's AmigoChat returns text only with stream=True")
        parts = [piece async for piece in await self._pieces(benchloop.SHORT_PROMPT)
                 if isinstance(piece, str)]
        return "".join(parts)

    async def stream(self, prompt: str, first: Callable[[], None] | None = None) -> int:
        count = 0
        async for piece in await self._pieces(prompt):
            if isinstance(piece, str) and piece:
                count += 1
                if count == 1 and first is not None:
                    first()
        return count

    async def close(self) -> None:
        pass  # the provider opens and closes a session per call

    def versions(self) -> dict[str, str]:
        return {name: version(name) for name in ("g4f", "aiohttp")}


if __name__ == "__main__":
    benchloop.run(G4fClient())
