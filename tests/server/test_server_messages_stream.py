"""POST /v1/messages streamed: Anthropic's event sequence, block by block, as its SDK reads it
(text, thinking, tool calls sent in fragments), the final usage, and a failure mid-stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from messages_helpers import VERSION, body, events_of, names, stream
from server_helpers import StartServer

from jackfield import Registry, RetryPolicy
from jackfield._server import create_app
from jackfield._server.listen import serving
from jackfield.provider import CompletionRequest, Finish, HttpResponse, ToolCallDelta, hookimpl
from mockprovider import MockServer
from nativeprovider import NativeProvider, NativeServer

WEATHER = {"name": "get_weather", "input_schema": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture
async def url(native_registry: Registry, start_server: StartServer) -> str:
    return await start_server(native_registry)


async def test_a_text_stream_is_anthropics_event_sequence(url: str) -> None:
    status, headers, events = await stream(url, body())
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    assert names(events) == ["message_start", "ping", "content_block_start",
                             *["content_block_delta:text_delta"] * 4,
                             "content_block_stop", "message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert start["id"].startswith("msg_") and start["role"] == "assistant"
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"] == {"input_tokens": 2, "output_tokens": 0}  # the estimate
    assert events[2][1] == {"type": "content_block_start", "index": 0,
                            "content_block": {"type": "text", "text": ""}}
    text = "".join(data["delta"]["text"] for _, data in events[3:7])
    assert text == "You said: one two"
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["input_tokens"] == 5 and delta["usage"]["output_tokens"] == 3


async def test_thinking_then_text_are_two_blocks(url: str) -> None:
    _, _, events = await stream(url, body(model="thinker"))
    assert names(events)[2:6] == ["content_block_start", "content_block_delta:thinking_delta",
                                  "content_block_stop", "content_block_start"]
    assert events[2][1]["content_block"] == {"type": "thinking", "thinking": "",
                                             "signature": ""}
    assert events[3][1]["delta"]["thinking"] == "Thinking about it."
    assert events[5][1] == {"type": "content_block_start", "index": 1,
                            "content_block": {"type": "text", "text": ""}}
    assert all(data["index"] == 1 for name, data in events[6:-3])


async def test_a_streamed_tool_call_is_a_tool_use_block_of_json_fragments(url: str) -> None:
    _, _, events = await stream(url, body(tools=[WEATHER]))
    assert events[2][1]["content_block"] == {"type": "tool_use", "id": "call_1",
                                             "name": "get_weather", "input": {}}
    fragments = [data["delta"]["partial_json"] for name, data in events
                 if name == "content_block_delta"]
    assert len(fragments) > 1  # the service sends 7 characters at a time
    assert json.loads("".join(fragments)) == {"city": "sunny"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


class SplitNames(NativeProvider):
    """Streams two calls as some services do: the id alone, then the name, then arguments."""

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest,
                                 response: HttpResponse) -> AsyncIterator[Any]:
        async def events() -> AsyncIterator[Any]:
            await response.read()
            yield ToolCallDelta(0, id="a")
            yield ToolCallDelta(0, name="get_")
            yield ToolCallDelta(0, name="weather")
            yield ToolCallDelta(0, arguments='{"city": ')
            yield ToolCallDelta(1, id="b", name="get_weather")
            yield ToolCallDelta(0, arguments='"Oslo"}')
            yield ToolCallDelta(1, arguments='{"city": "Rome"}')
            yield Finish("tool_calls")
        return events()


async def test_tool_blocks_start_when_their_name_is_whole(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer) -> None:
    upstream = await serve_app(native_server.app)
    registry = make_registry([SplitNames()], base_urls={"native": upstream},
                             retry=RetryPolicy(attempts=1))
    url = await start_server(registry)
    _, _, events = await stream(url, body(tools=[WEATHER]))
    starts = [data for name, data in events if name == "content_block_start"]
    assert [(s["index"], s["content_block"]["id"], s["content_block"]["name"])
            for s in starts] == [(0, "a", "get_weather"), (1, "b", "get_weather")]
    by_block: dict[int, str] = {}
    for name, data in events:
        if name == "content_block_delta":
            by_block[data["index"]] = by_block.get(data["index"], "") + data["delta"][
                "partial_json"]
    assert {i: json.loads(text) for i, text in by_block.items()} == {
        0: {"city": "Oslo"}, 1: {"city": "Rome"}}


async def test_a_failure_mid_stream_is_an_error_event(
        strict_registry: Registry, start_server: StartServer, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()  # the first piece only; then the provider stalls past its timeout
    url = await start_server(strict_registry)
    status, _, events = await stream(url, body(model="echo"))
    assert status == 200
    assert names(events)[:4] == ["message_start", "ping", "content_block_start",
                                 "content_block_delta:text_delta"]
    name, error = events[-1]
    assert name == "error" and set(error) == {"type", "error"}
    assert error["error"]["type"] == "api_error"
    assert "message_stop" not in names(events)


async def test_a_failure_before_the_first_event_is_an_http_error(
        strict_registry: Registry, start_server: StartServer, mock_server: MockServer) -> None:
    mock_server.fail.append((429, {"Retry-After": "3"}, '{"message": "slow down"}'))
    url = await start_server(strict_registry)
    status, headers, [(_, reply)] = await stream(url, body(model="echo"))
    assert status == 429 and headers["Retry-After"] == "3"
    assert reply["type"] == "error" and reply["error"]["type"] == "rate_limit_error"


async def test_a_stream_cut_by_shutdown_ends_with_anthropics_error_event(
        strict_registry: Registry, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()  # the first word only; then the provider waits
    started = asyncio.Event()

    async def read(url: str) -> str:
        async with aiohttp.ClientSession() as session, session.post(
                f"{url}/v1/messages", json=body(model="echo", stream=True),
                headers=VERSION) as response:
            assert response.status == 200
            text = ""
            async for line in response.content:
                text += line.decode()
                if "text_delta" in text:
                    started.set()
            return text

    async with serving(create_app(strict_registry, grace=0.3)) as url:
        client = asyncio.create_task(read(url))
        await asyncio.wait_for(started.wait(), 5)
    events = events_of(await asyncio.wait_for(client, 5))
    name, error = events[-1]
    assert name == "error" and error["error"]["type"] == "overloaded_error"  # a 503's type
    assert "shutting down" in error["error"]["message"]
