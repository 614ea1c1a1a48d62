"""Building blocks for protocol emulators: run an aiohttp app on loopback, count, draw PNGs,
and inject faults (docs/faults.md)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
from aiohttp import web

from jackfield._types.specs import ProviderSpec

__all__ = [
    "FAULTS_ENV",
    "FAULTS_KEY",
    "FAULT_KEY",
    "FAULT_MODES",
    "GENERIC_FAULTS",
    "PROTOCOL_FAULTS",
    "STATS_KEY",
    "EmulatorStats",
    "Faults",
    "drop_connection",
    "emulator_credentials",
    "faults_middleware",
    "new_app",
    "png_bytes",
    "request_fault",
    "serve_app",
    "stats_middleware",
    "words_of",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def png_bytes(seed: str, width: int = 64, height: int = 64) -> bytes:
    """Return a valid RGB PNG whose colours are derived from seed (same seed, same bytes)."""
    if not isinstance(seed, str):
        raise TypeError(f"png_bytes(seed) takes a str seed, such as the prompt; got "
                        f"{type(seed).__name__}: pass str(seed) for another value.")
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


STATS_KEY = web.AppKey("jackfield_stats", EmulatorStats)


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


# -- fault injection (docs/faults.md) ------------------------------------------------------

# What each fault makes the emulator do. The generic ones are answered by faults_middleware
# before the emulator's handler runs; the protocol ones are passed to the handler (see
# request_fault) because only the emulator knows what a valid piece of its protocol is.
FAULT_MODES: Mapping[str, str] = {
    "rate_limit": "429 with Retry-After (120 s) and a JSON body",
    "error_then_ok": "500 for the next `times` requests (default 1), then normal answers",
    "unavailable": "503 with a JSON body, every time",
    "forbidden_json": '403 with {"message": "Forbidden"}',
    "challenge_html": "403 with an HTML bot-challenge page (a Cloudflare-like <title>)",
    "html_200": "200 with an HTML page instead of the protocol",
    "empty_body": "200 with the protocol's content type and an empty body",
    "stall_after_headers": "200 headers sent, then nothing until the client goes away",
    "slow_start": "a delay before the headers (well within a read timeout), then normal",
    "huge_line": "200 with one multi-megabyte line (`data: xxxx...`, 5 MiB)",
    "drop_mid_stream": "a couple of valid pieces, then the connection is closed abruptly",
    "invalid_lines": "lines that break the protocol (which ones: the emulator's docs)",
    "no_images": "an image reply without images (no entries, or an entry without a url)",
}
PROTOCOL_FAULTS = frozenset({"drop_mid_stream", "invalid_lines", "no_images"})
GENERIC_FAULTS = frozenset(FAULT_MODES) - PROTOCOL_FAULTS
FAULTS_ENV = "JACKFIELD_EMULATOR_FAULT"  # "name" or "name:times", read by new_app()

ReplyType = Callable[[web.Request], Awaitable[str]]

CHALLENGE_PAGE = """<!DOCTYPE html>
<html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head>
<body><h1>Checking if the site connection is secure</h1>
<p>Enable JavaScript and cookies to continue.</p></body></html>
"""
HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Welcome back! Please sign in</title></head>
<body><form method="post" action="/login"><input name="email"></form></body></html>
"""


async def _json_reply_type(request: web.Request) -> str:
    return "application/json"


@attrs.define
class Faults:
    """Which fault the emulator injects next; tests set it, the middleware consumes it.

    `app[FAULTS_KEY].set("rate_limit")` faults every protocol request from now on;
    `set("unavailable", times=2)` only the next two, after which answers are normal again.
    Protocol requests are those whose path starts with one of `endpoints` (every request but
    GET and HEAD when it is empty), so image downloads are left alone unless a test widens it.
    """

    fault: str | None = None
    remaining: int | None = None  # protocol requests still to fault; None: every one
    endpoints: tuple[str, ...] = ()
    # The content type of the reply the protocol would send to a request (empty_body,
    # huge_line and stall_after_headers send it); emulators install their own.
    reply_type: ReplyType = _json_reply_type
    retry_after: int = 120
    slow_start_delay: float = 1.0
    stall_seconds: float = 3600.0
    huge_line_bytes: int = 5 * 1024 * 1024
    drop_pause: float = 0.05  # between the last valid piece and the drop, so it is delivered
    applied: dict[str, int] = attrs.field(factory=dict)  # fault -> requests it was applied to

    def set(self, fault: str | None, *, times: int | None = None) -> None:
        """Inject fault into the next `times` protocol requests (all of them if None)."""
        if fault is not None and fault not in FAULT_MODES:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULT_MODES)}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1, got {times!r}")
        if fault == "error_then_ok" and times is None:
            times = 1  # "then ok": one failure unless told otherwise
        self.fault = fault
        self.remaining = None if fault is None else times

    def clear(self) -> None:
        """Answer normally from now on."""
        self.set(None)

    def set_from_spec(self, spec: str) -> None:
        """Set from "name" or "name:times" (the JACKFIELD_EMULATOR_FAULT syntax)."""
        name, _, times = spec.strip().partition(":")
        if times and not times.strip().isdigit():
            raise ValueError(f"{FAULTS_ENV}={spec!r}: expected name or name:times")
        self.set(name.strip() or None, times=int(times) if times else None)

    def is_protocol_request(self, request: web.Request) -> bool:
        """Return True if faults apply to request (see `endpoints`)."""
        if not self.endpoints:
            return request.method not in ("GET", "HEAD")
        return request.path.startswith(self.endpoints)

    def take(self, request: web.Request) -> str | None:
        """Return the fault for this request (None: answer normally), counting it down."""
        if self.fault is None or not self.is_protocol_request(request):
            return None
        fault = self.fault
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.clear()
        self.applied[fault] = self.applied.get(fault, 0) + 1
        return fault


FAULTS_KEY = web.AppKey("jackfield_faults", Faults)
FAULT_KEY = web.RequestKey("jackfield_fault", str)


def request_fault(request: web.Request) -> str | None:
    """Return the fault the middleware chose for this request, for protocol-specific faults."""
    return request.get(FAULT_KEY)


async def drop_connection(request: web.Request) -> None:
    """Close the client's connection abruptly (no end of body), as a crashing server would."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    await asyncio.sleep(0)  # let the loss reach the handler (cancelled when the runner says so)


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"message": message}, status=status, headers=headers)


async def _stall(request: web.Request, faults: Faults) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": await faults.reply_type(request)})
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + faults.stall_seconds
    # Ends when the client goes away: cancelled by a runner with handler_cancellation (as
    # serve_app's), or noticed here by polling, for runners without it.
    while loop.time() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            break
        await asyncio.sleep(0.05)
    return response


async def _huge_line(request: web.Request, faults: Faults) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": await faults.reply_type(request)})
    await response.prepare(request)
    await response.write(b"data: " + b"x" * faults.huge_line_bytes + b"\n\n")
    await response.write_eof()
    return response


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer protocol requests with the generic fault set in app[FAULTS_KEY], if any."""
    faults = request.app.get(FAULTS_KEY)
    fault = faults.take(request) if faults is not None else None
    if faults is None or fault is None:
        return await handler(request)
    request[FAULT_KEY] = fault
    if fault == "rate_limit":
        return _error(429, "Too many requests", {"Retry-After": str(faults.retry_after)})
    if fault == "error_then_ok":
        return _error(500, "Internal Server Error")
    if fault == "unavailable":
        return _error(503, "Service Unavailable")
    if fault == "forbidden_json":
        return _error(403, "Forbidden")
    if fault == "challenge_html":
        return web.Response(status=403, text=CHALLENGE_PAGE, content_type="text/html",
                            headers={"cf-mitigated": "challenge"})
    if fault == "html_200":
        return web.Response(text=HTML_PAGE, content_type="text/html")
    if fault == "empty_body":
        return web.Response(body=b"", headers={"content-type": await faults.reply_type(request)})
    if fault == "stall_after_headers":
        return await _stall(request, faults)
    if fault == "huge_line":
        return await _huge_line(request, faults)
    if fault == "slow_start":
        await asyncio.sleep(faults.slow_start_delay)
    # slow_start after its delay, and the protocol faults: the emulator's handler answers.
    return await handler(request)


def new_app(*, fault: str | None = None, fault_endpoints: Iterable[str] = (),
            reply_type: ReplyType | None = None, environ: Mapping[str, str] | None = None,
            **kwargs: Any) -> web.Application:
    """Return an Application with the stats and faults middlewares installed.

    app[STATS_KEY] counts requests; app[FAULTS_KEY] injects faults into the requests whose
    path starts with one of fault_endpoints (docs/faults.md). The initial fault is `fault`,
    else the JACKFIELD_EMULATOR_FAULT environment variable ("name" or "name:times").
    Other keyword arguments go to web.Application.
    """
    app = web.Application(middlewares=[stats_middleware, faults_middleware], **kwargs)
    app[STATS_KEY] = EmulatorStats()
    faults = Faults(endpoints=tuple(fault_endpoints))
    if reply_type is not None:
        faults.reply_type = reply_type
    spec = fault if fault is not None else (os.environ if environ is None else environ).get(
        FAULTS_ENV, "")
    if spec:
        faults.set_from_spec(spec)
    app[FAULTS_KEY] = faults
    return app


EMULATOR_CREDENTIAL = "emulator-placeholder"


def emulator_credentials(spec: ProviderSpec) -> dict[str, str]:
    """Return a stand-in for each secret setting of a provider, for use with its emulator.

    By convention an emulator built by its factory's defaults accepts any credential, so the
    demo and `jackfield emulate` can fill in what the real service would need.
    """
    return {name: EMULATOR_CREDENTIAL for name, setting in spec.settings.items()
            if setting.secret}


@asynccontextmanager
async def serve_app(app: web.Application, host: str = "127.0.0.1",
                    port: int = 0) -> AsyncIterator[str]:
    """Run app on loopback until the block ends; yield its base URL (http://127.0.0.1:PORT)."""
    # handler_cancellation: a client that goes away cancels the handler, as a real server's
    # would stop writing; leak tests rely on it.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_port = runner.addresses[0][1]  # the port the OS picked when port=0
        shown = f"[{host}]" if ":" in host else host  # an IPv6 literal needs brackets in a URL
        yield f"http://{shown}:{bound_port}"
    finally:
        await runner.cleanup()
