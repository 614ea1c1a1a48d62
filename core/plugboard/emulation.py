"""Building blocks for protocol emulators: run an aiohttp app on loopback, count, draw PNGs."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import hashlib
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
from aiohttp import web

__all__ = [
    "STATS_KEY", "EmulatorStats", "new_app", "png_bytes", "serve_app", "stats_middleware",
    "words_of",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def png_bytes(seed: str, width: int = 64, height: int = 64) -> bytes:
    """Return a valid RGB PNG whose colours are derived from seed (same seed, same bytes)."""
    digest = hashlib.sha256(seed.encode()).digest()
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type 0 for every scanline
        for x in range(width):
            row += bytes((digest[0] ^ x * 4 & 255, digest[1] ^ y * 4 & 255, digest[2]))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def words_of(text: str) -> list[str]:
    """Split text into streaming pieces that keep their leading space ("Hello", " world")."""
    words = text.split(" ")
    return [words[0], *(" " + w for w in words[1:])] if words else []


@attrs.define
class EmulatorStats:
    """What an emulator saw: requests by path, the last request bodies, handlers still running."""

    requests: int = 0
    in_flight: int = 0
    by_path: dict[str, int] = attrs.field(factory=dict)
    last_json: Any = None
    last_headers: dict[str, str] = attrs.field(factory=dict)


STATS_KEY = web.AppKey("plugboard_stats", EmulatorStats)


@web.middleware
async def stats_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request and how many handlers are still running (for leak tests)."""
    stats = request.app[STATS_KEY]
    stats.requests += 1
    stats.by_path[request.path] = stats.by_path.get(request.path, 0) + 1
    stats.last_headers = dict(request.headers)
    stats.in_flight += 1
    try:
        return await handler(request)
    finally:
        stats.in_flight -= 1


def new_app(**kwargs: Any) -> web.Application:
    """Return an Application with the stats middleware installed (app[STATS_KEY])."""
    app = web.Application(middlewares=[stats_middleware], **kwargs)
    app[STATS_KEY] = EmulatorStats()
    return app


@asynccontextmanager
async def serve_app(app: web.Application, host: str = "127.0.0.1",
                    port: int = 0) -> AsyncIterator[str]:
    """Run app on loopback until the block ends; yield its base URL (http://127.0.0.1:PORT)."""
    # handler_cancellation: a client that goes away cancels the handler, as a real server's
    # would stop writing; leak tests rely on it.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        # TCPSite keeps its asyncio.Server private; port=0 needs the port the OS picked.
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        bound_port = server.sockets[0].getsockname()[1]
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()
