"""The server over an upstream that quotes our request headers: no secret in any reply."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from server_helpers import StartServer

from echoing import SECRET, CookieMock, echoing_app, leaks
from jackfield import Registry, RetryPolicy
from jackfield._server.errors import ApiError, error_body

API_KEY = "server-key-5f4e3d2c1b0a"


async def echo_registry(serve_app: Any, make_registry: Any, status: int,
                        shape: str = "json") -> Registry:
    url = await serve_app(echoing_app(status, shape=shape))
    registry: Registry = make_registry(
        [CookieMock()], config={"mock": {"base_url": url, "token": SECRET}},
        retry=RetryPolicy(attempts=1))
    return registry


async def send(method: str, url: str, payload: Any = None,
               key: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession() as session, session.request(
            method, url, json=payload, headers=headers) as response:
        return response.status, await response.text()


def chat(stream: bool = False) -> dict[str, Any]:
    return {"model": "echo", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(("status", "shape", "served"), [
    (401, "json", 502), (403, "text", 502), (500, "json", 502), (400, "json", 502),
    (200, "json", 502),  # a 200 the parser rejects
])
@pytest.mark.parametrize("stream", [False, True])
async def test_an_error_reply_quotes_no_secret(
        status: int, shape: str, served: int, stream: bool, serve_app: Any,
        make_registry: Any, start_server: StartServer) -> None:
    registry = await echo_registry(serve_app, make_registry, status, shape)
    url = await start_server(registry, api_key=API_KEY)
    got, text = await send("POST", f"{url}/v1/chat/completions", chat(stream), key=API_KEY)
    assert got == served, text
    assert leaks(text) == []
    if not (stream and status == 200):  # a JSON 200 is no stream: its body goes unquoted
        assert "***" in json.loads(text)["error"]["message"]


async def test_a_stream_error_event_quotes_no_secret(
        serve_app: Any, make_registry: Any, start_server: StartServer) -> None:
    registry = await echo_registry(serve_app, make_registry, 200, "sse")
    url = await start_server(registry)
    got, text = await send("POST", f"{url}/v1/chat/completions", chat(stream=True))
    assert got == 200
    events = [line.removeprefix("data: ") for line in text.splitlines() if line]
    error = json.loads(events[-1])["error"]
    assert error["code"] == "provider_partial_response"
    assert leaks(text) == []
    assert "***" in error["message"]


async def test_health_shows_no_error_text_without_the_key(
        serve_app: Any, make_registry: Any, start_server: StartServer) -> None:
    registry = await echo_registry(serve_app, make_registry, 401)
    url = await start_server(registry, api_key=API_KEY)
    await send("POST", f"{url}/v1/chat/completions", chat(), key=API_KEY)
    for key in (None, "wrong-key-0000000"):
        got, text = await send("GET", f"{url}/health", key=key)
        assert got == 200
        mock = json.loads(text)["providers"]["mock"]
        assert (mock["failures"], mock["successes"]) == (1, 0)  # counts are still shown
        assert mock["last_error"].startswith("withheld: send the API key")
        assert leaks(text) == []
    got, text = await send("GET", f"{url}/health", key=API_KEY)
    last_error = json.loads(text)["providers"]["mock"]["last_error"]
    assert "refused our credentials" in last_error and "***" in last_error
    assert leaks(text) == []


async def test_health_without_a_server_key_shows_masked_error_text(
        serve_app: Any, make_registry: Any, start_server: StartServer) -> None:
    registry = await echo_registry(serve_app, make_registry, 500)
    url = await start_server(registry)
    await send("POST", f"{url}/v1/chat/completions", chat())
    _, text = await send("GET", f"{url}/health")
    last_error = json.loads(text)["providers"]["mock"]["last_error"]
    assert "HTTP 500" in last_error and "***" in last_error
    assert leaks(text) == []


async def test_the_server_key_and_provider_secrets_are_masked_in_any_error_reply(
        serve_app: Any, make_registry: Any, start_server: StartServer) -> None:
    registry = await echo_registry(serve_app, make_registry, 401)
    await start_server(registry, api_key=API_KEY)  # the app learns both secrets
    body = error_body(ApiError(502, "provider_error", "x",
                               f"key {API_KEY} and token {SECRET} quoted by a bug"))
    assert body["error"]["message"] == "key *** and token *** quoted by a bug"


async def test_health_with_a_key_that_is_not_utf8_withholds_instead_of_failing(
        serve_app: Any, make_registry: Any, start_server: StartServer) -> None:
    registry = await echo_registry(serve_app, make_registry, 401)
    url = await start_server(registry, api_key=API_KEY)
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: " + f"{host}:{port}".encode() + b"\r\n"
                     b"Authorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n")
        reply = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    assert reply.startswith(b"HTTP/1.1 200 ")
