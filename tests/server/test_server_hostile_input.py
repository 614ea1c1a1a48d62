"""Hostile bytes get a 4xx in the JSON error shape and one log line, never a 500 or traceback."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from typing import Any

import pytest
from aiohttp import web
from server_helpers import StartServer, exchange, post_bytes

from jackfield import Registry
from jackfield._server.errors import error_middleware
from jackfield._server.listen import serving
from mockprovider import MockServer

JSON = "Content-Type: application/json"


def json_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert headers["content-type"].startswith("application/json"), body
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert 400 <= status < 500, (status, error)
    return dict(error)


@pytest.mark.parametrize(("body", "lines", "code", "needle"), [
    (b"[" * 100_000 + b"]" * 100_000, [JSON], "invalid_request", "nests deeper"),
    (b'{"model": "echo", "messages": ' + b"[" * 200 + b"]" * 200 + b"}", [JSON],
     "invalid_request", "nests deeper"),
    (b"{}", [JSON, "Content-Encoding: bogus"], "unsupported_content_encoding", "bogus"),
    (b"{}", [JSON, "Content-Encoding: gzip"], "invalid_request", "could not be read"),
    (gzip.compress(b"{") [:-4], [JSON, "Content-Encoding: gzip"], "invalid_request", ""),
])
async def test_hostile_bodies_are_4xx_json(
        strict_registry: Registry, start_server: StartServer, mock_server: MockServer,
        caplog: pytest.LogCaptureFixture, body: bytes, lines: list[str], code: str,
        needle: str) -> None:
    url = await start_server(strict_registry)
    error = json_error(*await exchange(url, post_bytes(body, *lines)))
    assert error["code"] == code and needle in error["message"]
    assert mock_server.seen == []
    assert not [r for r in caplog.records if r.exc_info], caplog.text


async def test_a_non_ascii_byte_in_the_api_key_is_401(
        strict_registry: Registry, start_server: StartServer,
        caplog: pytest.LogCaptureFixture) -> None:
    url = await start_server(strict_registry, api_key="s3cret")
    request = (b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               b"Authorization: Bearer s3cr\xe9t\r\n\r\n")
    status, headers, body = await exchange(url, request)
    assert status == 401 and json_error(status, headers, body)["code"] == "invalid_api_key"
    assert not [r for r in caplog.records if r.exc_info], caplog.text


async def test_a_client_gone_mid_reply_is_one_log_line(
        serve_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Writing to a client that went away raises ConnectionResetError inside the handler."""
    async def vanished(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        raise ConnectionResetError("Cannot write to closing transport")

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/gone", vanished)
    url = await serve_app(app)
    caplog.set_level(logging.INFO)
    status, _, _ = await exchange(url, b"GET /gone HTTP/1.1\r\nHost: x\r\n"
                                       b"Connection: close\r\n\r\n")
    assert status == 200  # the headers had gone out; then the connection is cut
    assert [r.getMessage() for r in caplog.records] == [
        "client went away during GET /gone: Cannot write to closing transport"]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n{}",
])
async def test_what_aiohttp_cannot_parse_is_a_json_400_and_one_line(
        strict_registry: Registry, start_server: StartServer,
        caplog: pytest.LogCaptureFixture, request_bytes: bytes) -> None:
    url = await start_server(strict_registry)
    caplog.set_level(logging.INFO)
    error = json_error(*await exchange(url, request_bytes))
    assert error["code"] == "bad_http_request" and "not valid HTTP" in error["message"]
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert len([r for r in caplog.records if r.name.startswith(("jackfield", "aiohttp"))]) == 1


async def test_clients_that_vanish_mid_stream_leave_no_traceback(
        strict_registry: Registry, start_server: StartServer,
        caplog: pytest.LogCaptureFixture) -> None:
    url = await start_server(strict_registry)
    caplog.set_level(logging.INFO)
    body = json.dumps({"model": "echo", "stream": True,
                       "messages": [{"role": "user", "content": "word " * 2000}]}).encode()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    for attempt in range(20):  # cut at different points: before, at and after the headers
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(post_bytes(body, JSON))
        await writer.drain()
        if attempt % 2:
            await asyncio.wait_for(reader.read(500 * attempt), 5)
        writer.transport.abort()
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    ours = [r for r in caplog.records if r.name.startswith("jackfield._server")]
    assert not [r for r in ours if r.exc_info], caplog.text
    assert (await exchange(url, post_bytes(b'{"model": "echo", "messages": []}', JSON)))[0] == 400


async def test_a_bug_outside_the_error_middleware_is_a_json_500_and_keeps_its_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: web.Request) -> web.StreamResponse:
        raise KeyError("oops")

    app = web.Application()  # no error_middleware: what serving() does when it is bypassed
    app.router.add_get("/broken", broken)
    async with serving(app) as url:
        status, headers, body = await exchange(
            url, b"GET /broken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 500 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == "internal_error" and b"oops" not in body
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [KeyError]


def _nested(levels: int) -> bytes:
    """A chat body nesting `levels` deep in all (the object itself is level 1)."""
    inner = b"[" * (levels - 1) + b"]" * (levels - 1)
    return b'{"model": "echo", "messages": [], "metadata": ' + inner + b"}"


@pytest.mark.parametrize(("body", "refused"), [
    (_nested(64), False),
    (_nested(65), True),
    # Brackets inside strings are counted by the cheap bound, not by the walk: not refused.
    (b'{"model": "echo", "messages": [{"role": "user", "content": "' + b"[{" * 200
     + b'"}]}', False),
])
async def test_the_depth_limit_counts_nesting_not_brackets(
        strict_registry: Registry, start_server: StartServer, body: bytes,
        refused: bool) -> None:
    url = await start_server(strict_registry)
    status, _headers, reply = await exchange(url, post_bytes(body, JSON))
    assert (b"nests deeper" in reply) is refused, (status, reply[:300])
