"""Clients of `jackfield serve` that do not read cannot hold upstream connections for ever."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from jackfield import RetryPolicy, Timeouts
from jackfield._server import create_app
from jackfield.testing import STATS_KEY, new_app
from mockprovider import MockProvider, MockServer

EVENT = json.dumps({"text": "x" * 32 * 1024})


def firehose_app(events: int = 2000) -> web.Application:
    """A provider that streams 32 KiB events as fast as they are read (at most `events`)."""
    app = new_app()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for _ in range(events):
            await response.write(f"data: {EVENT}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response

    app.router.add_post("/chat", chat)
    return app


def holding_app() -> web.Application:
    """A provider whose streams send their headers, then nothing until the client leaves."""
    app = new_app()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(30)
        return response

    app.router.add_post("/chat", chat)
    return app


class NonReader:
    """Raw connections that send one streaming chat request each and never read a byte."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []

    async def open(self, url: str, model: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills up sooner
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        _, writer = await asyncio.open_connection(sock=sock)
        body = json.dumps({"model": model, "stream": True,
                           "messages": [{"role": "user", "content": "hi"}]}).encode()
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\n"
                     + f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        self.writers.append(writer)

    async def close(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()


@pytest.fixture
async def non_reader() -> AsyncIterator[NonReader]:
    clients = NonReader()
    yield clients
    await clients.close()


async def _until(condition: Any, seconds: float) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_client_that_does_not_read_is_cut_and_its_upstream_released(
        serve_app: Any, make_registry: Any, non_reader: NonReader) -> None:
    upstream = firehose_app()
    registry = make_registry([MockProvider()], base_urls={"mock": await serve_app(upstream)},
                             retry=RetryPolicy(attempts=1),
                             timeouts=Timeouts(connect=2, read_idle=20, total=60))
    url = await serve_app(create_app(registry, write_timeout=0.5))
    await non_reader.open(url, "mock/echo")
    assert await _until(lambda: upstream[STATS_KEY].in_flight == 1, 5)
    started = asyncio.get_running_loop().time()
    # Once the client's buffers are full, the server waits 0.5 s, drops the client and
    # closes the upstream call, whose handler the emulator then sees end.
    assert await _until(lambda: upstream[STATS_KEY].in_flight == 0, 10), \
        "the upstream connection is still held by a client that reads nothing"
    assert asyncio.get_running_loop().time() - started < 8


async def test_non_reading_clients_of_one_provider_do_not_delay_another(
        serve_app: Any, make_registry: Any, non_reader: NonReader) -> None:
    held, healthy = holding_app(), MockServer()
    registry = make_registry(
        [MockProvider("slow"), MockProvider()], retry=RetryPolicy(attempts=1),
        base_urls={"slow": await serve_app(held), "mock": await serve_app(healthy.app)},
        timeouts=Timeouts(connect=1, read_idle=20, total=60))
    url = await serve_app(create_app(registry))
    for _ in range(110):  # more than the 100 connections of the pool of "slow"
        await non_reader.open(url, "slow/echo")
    assert await _until(lambda: held[STATS_KEY].in_flight == 100, 10)
    started = asyncio.get_running_loop().time()
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/chat/completions", timeout=aiohttp.ClientTimeout(total=2),
            json={"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]},
    ) as response:
        reply = await response.json()
    assert response.status == 200, reply
    assert reply["choices"][0]["message"]["content"] == "You said: hi"
    assert asyncio.get_running_loop().time() - started < 2


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), "30"])
def test_write_timeout_is_validated(value: Any) -> None:
    with pytest.raises(ValueError, match="write_timeout must be a positive number"):
        create_app(None, write_timeout=value)



class PacedResponse:
    """Stands in for the aiohttp response: each write takes the next of `waits` seconds."""

    def __init__(self, waits: list[float]) -> None:
        self.waits = waits
        self.written: list[bytes] = []

    async def write(self, data: bytes) -> None:
        await asyncio.sleep(self.waits.pop(0))
        self.written.append(data)

    async def write_eof(self, data: bytes = b"") -> None:
        await self.write(data)


def _writer(response: PacedResponse, write_timeout: float) -> tuple[Any, Any]:
    from unittest import mock

    from aiohttp.test_utils import make_mocked_request

    from jackfield._server import sse

    app = web.Application()
    app[sse.WRITE_TIMEOUT_KEY] = write_timeout
    transport = mock.Mock()
    request = make_mocked_request("POST", "/v1/chat/completions", app=app,
                                  transport=transport)
    return sse.EventWriter(request, response), transport  # type: ignore[arg-type]


async def test_the_write_timeout_bounds_each_write_not_the_stream() -> None:
    """Writes that each wait less than the timeout are never cut, however long they take
    together; one that waits longer is, and its connection aborted."""
    from jackfield._server import sse

    response = PacedResponse([0.15] * 8 + [0.6])
    writer, transport = _writer(response, write_timeout=0.3)
    started = asyncio.get_running_loop().time()
    for number in range(8):  # 1.2 s in all, four write timeouts
        await writer.write(b"event %d" % number)
    assert asyncio.get_running_loop().time() - started > 1.1
    assert len(response.written) == 8 and not transport.abort.called
    with pytest.raises(sse._ClientNotReading):
        await writer.write(b"the one the client does not read", eof=True)
    assert transport.abort.called and len(response.written) == 8
    writer.close()
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_cancel_from_elsewhere_is_not_taken_for_a_timeout() -> None:
    response = PacedResponse([5.0])
    writer, transport = _writer(response, write_timeout=0.3)
    task = asyncio.ensure_future(writer.write(b"x"))
    await asyncio.sleep(0.05)
    task.cancel()  # the client went away: the handler is cancelled, not timed out
    with pytest.raises(asyncio.CancelledError):
        await task
    writer.close()
    assert not transport.abort.called


async def test_the_write_watch_ends_with_the_reply(
        serve_app: Any, make_registry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one timer a stream's writer keeps is stopped when the reply ends: nothing holds
    the writer (and with it the request and response) for a write timeout afterwards."""
    import gc
    import weakref

    from jackfield._server import sse

    writers: list[weakref.ref[sse.EventWriter]] = []
    made = sse.EventWriter.__init__

    def watched(self: sse.EventWriter, *args: Any) -> None:
        made(self, *args)
        writers.append(weakref.ref(self))

    monkeypatch.setattr(sse.EventWriter, "__init__", watched)
    upstream = firehose_app(events=3)
    registry = make_registry([MockProvider()], base_urls={"mock": await serve_app(upstream)})
    url = await serve_app(create_app(registry, write_timeout=600))
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/chat/completions", json={"model": "mock/echo", "stream": True,
                                                "messages": [{"role": "user", "content": "hi"}]},
    ) as response:
        assert response.status == 200
        assert (await response.read()).rstrip().endswith(b"data: [DONE]")
    for _ in range(50):
        gc.collect()
        if writers and all(ref() is None for ref in writers):
            break
        await asyncio.sleep(0.02)
    assert writers and all(ref() is None for ref in writers), "a writer outlived its reply"
