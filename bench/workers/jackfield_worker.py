"""jackfield as a benchmark contender: every call through one Registry.complete().

The registry is discovered as a user would (every installed plugin), with AmigoChat's base URL
pointed at the emulator. Usage: jackfield_worker.py EMULATOR_URL [MAX_CONNECTIONS]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import version

import benchloop

from jackfield import Limits, Registry


class JackfieldClient:
    name = "jackfield"

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self.registry: Registry | None = None

    async def start(self, url: str) -> None:
        # The pool is sized by Limits.max_connections (default 100): the memory benchmark
        # raises it so that 1,000 streams are open at once instead of queueing for a slot.
        self.registry = Registry.discover(
            config={"amigochat": {"base_url": url}},
            limits=Limits(max_connections=self.max_connections))

    async def one(self, mode: str) -> str:
        assert self.registry is not None
        messages = [{"role": "user", "content": benchloop.SHORT_PROMPT}]
        if mode == "sse":
            stream = await self.registry.complete(benchloop.MODEL, messages, stream=True)
            async with stream:
                return await stream.text()
        completion = await self.registry.complete(benchloop.MODEL, messages)
        return completion.text

    async def stream(self, prompt: str, first: Callable[[], None] | None = None) -> int:
        assert self.registry is not None
        count = 0
        stream = await self.registry.complete(
            benchloop.MODEL, [{"role": "user", "content": prompt}], stream=True)
        async with stream:
            async for chunk in stream:
                if chunk.text:
                    count += 1
                    if count == 1 and first is not None:
                        first()
        return count

    async def close(self) -> None:
        if self.registry is not None:
            await self.registry.aclose()

    def versions(self) -> dict[str, str]:
        return {name: version(name) for name in ("jackfield", "aiohttp", "pluggy", "attrs")}


if __name__ == "__main__":
    benchloop.run(JackfieldClient(int(sys.argv[2]) if len(sys.argv) > 2 else 100))
