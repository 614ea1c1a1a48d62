"""The parser on byte-exact streams (the API's event sequence, written by hand from its
documentation) cut at arbitrary chunk boundaries: text, thinking with its signature, two
streamed tool calls, usage with cache tokens; errors inside the stream; broken streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from anthropic_helpers import KEY, SONNET, SPEC, anthropic_registry

import jackfield_anthropic
from jackfield import (
    PartialResponseError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
)
from jackfield.provider import Finish, ModelSpec, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from jackfield.testing import ProviderHarness, RegistryFactory, ServeApp, make_config, make_request
from jackfield_anthropic.spec import capabilities_for


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


START = {"type": "message_start", "message": {
    "id": "msg_01", "type": "message", "role": "assistant", "content": [], "model": SONNET,
    "stop_reason": None, "stop_sequence": None, "usage": {
        "input_tokens": 25, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 5,
        "output_tokens": 1}}}


def delta(index: int, **fields: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": fields}


STREAM = sse(
    START,
    {"type": "content_block_start", "index": 0, "content_block": {
        "type": "thinking", "thinking": "", "signature": ""}},
    {"type": "ping"},
    delta(0, type="thinking_delta", thinking="Let me think"),
    delta(0, type="thinking_delta", thinking=" about Paris."),
    delta(0, type="signature_delta", signature="EqQBCgIYAhIM1gbcDa9GJwZA2b3h"),
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    delta(1, type="text_delta", text="I\u2019ll check "),
    delta(1, type="text_delta", text="both. 🌤"),
    {"type": "content_block_stop", "index": 1},
    {"type": "content_block_start", "index": 2, "content_block": {
        "type": "tool_use", "id": "toolu_01A", "name": "weather", "input": {}}},
    delta(2, type="input_json_delta", partial_json=""),
    delta(2, type="input_json_delta", partial_json='{"city": "Pa'),
    delta(2, type="input_json_delta", partial_json='ris"}'),
    {"type": "content_block_stop", "index": 2},
    {"type": "content_block_start", "index": 3, "content_block": {
        "type": "tool_use", "id": "toolu_01B", "name": "clock", "input": {}}},
    delta(3, type="input_json_delta", partial_json="{}"),
    {"type": "content_block_stop", "index": 3},
    {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
     "usage": {"output_tokens": 89}},
    {"type": "message_stop"},
)
EXPECTED = [
    ReasoningDelta("Let me think"), ReasoningDelta(" about Paris."),
    TextDelta("I\u2019ll check "), TextDelta("both. 🌤"),
    ToolCallDelta(0, id="toolu_01A", name="weather"),
    ToolCallDelta(0, arguments='{"city": "Pa'), ToolCallDelta(0, arguments='ris"}'),
    ToolCallDelta(1, id="toolu_01B", name="clock"), ToolCallDelta(1, arguments="{}"),
    Usage(prompt_tokens=40, completion_tokens=89, total_tokens=129), Finish("tool_calls"),
]
TOOLS = [{"type": "function", "function": {"name": name, "parameters": {
    "type": "object", "properties": {}}}} for name in ("weather", "clock")]


async def raw_server(serve_app: ServeApp, body: bytes, chunk: int,
                     content_type: str = "text/event-stream") -> str:
    """Serve `body` at /v1/messages, written `chunk` bytes at a time."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": content_type})
        await response.prepare(request)
        for at in range(0, len(body), chunk):
            await response.write(body[at:at + chunk])
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/messages", handler)
    return await serve_app(app)


def request(stream: bool = True, **params: Any) -> Any:
    spec = SPEC.with_models([ModelSpec(SONNET, capabilities=capabilities_for(SONNET))])
    return make_request(spec, SONNET, "Paris?", stream=stream, **params)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
async def test_a_stream_cut_anywhere_gives_the_same_events(
        chunk: int, serve_app: ServeApp, provider_harness: ProviderHarness) -> None:
    url = await raw_server(serve_app, STREAM, chunk)
    events = await provider_harness.events(jackfield_anthropic, request(tools=TOOLS),
                                           make_config(SPEC, base_url=url, api_key=KEY))
    assert events == EXPECTED


async def test_a_whole_message(serve_app: ServeApp,
                               provider_harness: ProviderHarness) -> None:
    body = json.dumps({**START["message"], "content": [  # type: ignore[dict-item]
        {"type": "thinking", "thinking": "Hmm.", "signature": "sig"},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "clock", "input": {}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 3, "output_tokens": 4}}).encode()
    url = await raw_server(serve_app, body, 1 << 20, "application/json")
    events = await provider_harness.events(jackfield_anthropic, request(False, tools=TOOLS),
                                           make_config(SPEC, base_url=url, api_key=KEY))
    assert events == [ReasoningDelta("Hmm."), TextDelta("Checking."),
                      ToolCallDelta(0, id="toolu_1", name="clock", arguments="{}"),
                      Usage(3, 4, 7), Finish("tool_calls")]


@pytest.mark.parametrize(("reason", "finish"), [("end_turn", "stop"), ("max_tokens", "length"),
                                                ("stop_sequence", "stop"),
                                                ("refusal", "content_filter")])
async def test_stop_reasons(reason: str, finish: str, serve_app: ServeApp,
                            provider_harness: ProviderHarness) -> None:
    body = sse(START, {"type": "message_delta", "delta": {"stop_reason": reason},
                       "usage": {"output_tokens": 0}}, {"type": "message_stop"})
    url = await raw_server(serve_app, body, 5)
    events = await provider_harness.events(jackfield_anthropic, request(),
                                           make_config(SPEC, base_url=url, api_key=KEY))
    assert events[-1] == Finish(finish)


OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
TEXT = [{"type": "content_block_start", "index": 0, "content_block": {"type": "text",
                                                                      "text": ""}},
        delta(0, type="text_delta", text="Hello")]


async def test_an_error_event_before_text_is_retried(serve_app: ServeApp,
                                                     make_registry: RegistryFactory) -> None:
    url = await raw_server(serve_app, sse(START, {"type": "ping"}, OVERLOADED), 9)
    registry = anthropic_registry(make_registry, url, retry=RetryPolicy(
        attempts=2, backoff=0.01, max_backoff=0.02))
    stream = await registry.complete(f"anthropic/{SONNET}", "hi", stream=True)
    with pytest.raises(ProviderUnavailableError, match="Overloaded"):
        async with stream:
            [chunk async for chunk in stream]


async def test_an_error_event_after_text_is_a_partial_reply(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    rate = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    url = await raw_server(serve_app, sse(START, *TEXT, rate), 11)
    registry = anthropic_registry(make_registry, url)
    stream = await registry.complete(f"anthropic/{SONNET}", "hi", stream=True)
    with pytest.raises(PartialResponseError) as raised:
        async with stream:
            [chunk async for chunk in stream]
    assert isinstance(raised.value.cause, RateLimitError)


@pytest.mark.parametrize(("body", "says"), [
    (sse(START, *TEXT), "ended before message_stop"),
    (sse(*TEXT), "does not begin with message_start"),
    (sse(START, delta(4, type="text_delta", text="x")), "no started block"),
    (sse(START, {"type": "surprise"}), "unknown event type"),
    (b"", "without any event"),
    (b"data: {not json\n\n", "not JSON"),
])
async def test_broken_streams(body: bytes, says: str, serve_app: ServeApp,
                              provider_harness: ProviderHarness) -> None:
    url = await raw_server(serve_app, body, 4)
    with pytest.raises(ResponseFormatError, match=says):
        await provider_harness.events(jackfield_anthropic, request(),
                                      make_config(SPEC, base_url=url, api_key=KEY))


def test_the_parser_raises_only_when_iterated() -> None:
    parsed = jackfield_anthropic.jackfield_parse_response(
        request=request(), response=None, transport=None)  # type: ignore[arg-type]
    assert hasattr(parsed, "__anext__")
