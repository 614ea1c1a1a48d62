"""Slow or many clients cannot hold the server: header and body timeouts, a connection cap."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, suppress

import pytest
from server_helpers import StartServer, exchange, raw

from jackfield import Registry
from jackfield._server.listen import FD_RESERVE, _fit_to_file_limit, _rate_limited_accept_errors

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


@pytest.fixture
async def sockets() -> AsyncIterator[AsyncExitStack]:
    """Raw client connections, all closed at the end of the test."""
    async with AsyncExitStack() as stack:
        yield stack


async def connect(stack: AsyncExitStack, url: str) -> tuple[asyncio.StreamReader,
                                                             asyncio.StreamWriter]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))

    async def close() -> None:
        writer.close()
        with suppress(ConnectionError):  # the server cut it first: what these tests want
            await writer.wait_closed()

    stack.push_async_callback(close)
    return reader, writer


async def test_a_client_sending_headers_byte_by_byte_is_cut_after_the_header_timeout(
        strict_registry: Registry, start_server: StartServer,
        sockets: AsyncExitStack) -> None:
    url = await start_server(strict_registry, listen={"header_timeout": 0.5})
    reader, writer = await connect(sockets, url)
    started = time.monotonic()
    cut = False
    for byte in b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 100:  # 100 bytes, 5 s at most
        writer.write(bytes([byte]))
        try:
            await writer.drain()
            if await asyncio.wait_for(reader.read(1), 0.05) == b"":
                cut = True
                break
        except TimeoutError:
            continue
        except ConnectionError:
            cut = True
            break
    elapsed = time.monotonic() - started
    assert cut and 0.4 < elapsed < 2.5, elapsed
    assert (await exchange(url, HEALTH))[0] == 200  # and the server still answers


async def test_a_slow_body_is_408_after_the_body_timeout(
        strict_registry: Registry, start_server: StartServer,
        sockets: AsyncExitStack) -> None:
    url = await start_server(strict_registry, body_timeout=0.5)
    reader, writer = await connect(sockets, url)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mo")
    started = time.monotonic()
    reply = await asyncio.wait_for(reader.read(2000), 5)
    assert 0.4 < time.monotonic() - started < 3
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(body)["error"]["code"] == "request_timeout"


async def test_idle_connections_make_room_at_the_cap_so_health_keeps_answering(
        strict_registry: Registry, start_server: StartServer,
        sockets: AsyncExitStack) -> None:
    url = await start_server(strict_registry, listen={"max_connections": 4})
    held = [await connect(sockets, url) for _ in range(8)]  # twice the cap, all half-sent
    for _, writer in held:
        writer.write(b"GET /health HTTP/1.1\r\n")
    await asyncio.sleep(0.2)
    for _ in range(5):
        status, _, body = await exchange(url, HEALTH)
        assert status == 200 and json.loads(body)["status"] == "ok"
    closed = 0
    for reader, _ in held:  # the oldest idle ones were closed to make room
        with suppress(TimeoutError, ConnectionError):
            closed += await asyncio.wait_for(reader.read(1), 0.2) == b""
    assert closed >= 4


async def test_over_the_cap_with_every_connection_busy_a_newcomer_gets_503(
        strict_registry: Registry, start_server: StartServer,
        sockets: AsyncExitStack) -> None:
    url = await start_server(strict_registry, listen={"max_connections": 3})
    for _ in range(3):  # each inside a request: its headers came, its body has not
        _, writer = await connect(sockets, url)
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
    await asyncio.sleep(0.2)
    started = time.monotonic()
    status, headers, body = await exchange(url, HEALTH)
    assert time.monotonic() - started < 2
    assert status == 503 and headers["retry-after"] == "1"
    assert json.loads(body)["error"]["code"] == "too_many_connections"


async def test_the_cap_is_not_reached_by_connections_that_closed(
        strict_registry: Registry, start_server: StartServer) -> None:
    url = await start_server(strict_registry, listen={"max_connections": 2})
    for _ in range(10):
        assert (await raw("GET", f"{url}/health"))[0] == 200


async def test_accept_errors_are_logged_once_a_minute(
        caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    restore = _rate_limited_accept_errors(loop)
    try:
        for _ in range(1000):
            loop.call_exception_handler({
                "message": "socket.accept() out of system resource",
                "exception": OSError(24, "Too many open files")})
    finally:
        restore()
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "Too many open files" in lines[0].getMessage()
    assert "ulimit" in lines[0].getMessage() and not lines[0].exc_info


def test_the_cap_fits_under_the_file_limit(monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(resource, "getrlimit", lambda _: (256, 512))
    raised: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "setrlimit", lambda _, limits: raised.append(limits))
    assert _fit_to_file_limit(100) == 100 and raised == []  # 100 + the reserve fits in 256
    assert _fit_to_file_limit(300) == 300 and raised == [(300 + FD_RESERVE, 512)]
    raised.clear()
    assert _fit_to_file_limit(1024) == 512 - FD_RESERVE  # the hard limit is the ceiling
    assert raised == [(512, 512)] and "room for 384 client connections" in caplog.text
