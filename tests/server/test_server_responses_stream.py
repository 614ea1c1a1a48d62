"""POST /v1/responses streamed: the semantic events in OpenAI's order, each `event:` named
as its type, numbered from 0, every one validated as `openai.types.responses
.ResponseStreamEvent`, with the item ids and indices the SDK's stream accumulator checks;
the SDK's `responses.stream()` helper, streamed function calls and reasoning, logprobs, an
incomplete reply, and failures before and after the headers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import attrs
import openai
import pydantic
import pytest
from openai.types.responses import ResponseStreamEvent
from server_helpers import MakeClient, StartServer

from jackfield import Registry, RetryPolicy
from jackfield.provider import ModelSpec
from mockprovider import MockServer
from nativeprovider import ALL, NativeProvider, NativeServer

EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
WEATHER = {"type": "function", "name": "get_weather",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}
TEXT_ITEM = ["response.output_item.added", "response.content_part.added",
             "response.output_text.delta", "response.output_text.done",
             "response.content_part.done", "response.output_item.done"]


async def stream_events(url: str, body: dict[str, Any]) -> tuple[dict[str, str],
                                                                 list[dict[str, Any]]]:
    """POST a streamed request; return the headers and each event's data, checked: the
    `event:` line names its type, and it validates as the SDK's event type."""
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/responses", json=body | {"stream": True}) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = (await response.read()).decode()
        headers = dict(response.headers)
    events = []
    for block in text.strip().split("\n\n"):
        head, data = block.split("\n")
        payload = json.loads(data.removeprefix("data: "))
        assert head == f"event: {payload['type']}"
        EVENTS.validate_python(payload)
        events.append(payload)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return headers, events


def squeezed(kinds: list[str]) -> list[str]:
    """Return kinds with runs of one kind of delta shown once."""
    return [kind for number, kind in enumerate(kinds)
            if not (kind.endswith(".delta") and number and kinds[number - 1] == kind)]


@pytest.fixture
async def url(native_registry: Registry, start_server: StartServer) -> str:
    return await start_server(native_registry)


async def test_a_text_reply_streams_in_openais_order_with_one_item_id(url: str) -> None:
    _, events = await stream_events(url, {"model": "omni", "input": "four words in all"})
    kinds = [event["type"] for event in events]
    assert squeezed(kinds) == ["response.created", "response.in_progress", *TEXT_ITEM,
                               "response.completed"]
    created, final = events[0]["response"], events[-1]["response"]
    assert created["status"] == "in_progress" and created["output"] == []
    assert final["id"] == created["id"] and final["status"] == "completed"
    added = events[2]
    assert added["item"] == {"type": "message", "id": added["item"]["id"],
                             "status": "in_progress", "role": "assistant", "content": []}
    item_id = added["item"]["id"]
    assert {e["item_id"] for e in events[3:-2]} == {item_id}
    assert all(e["output_index"] == 0 for e in events[2:-1])
    assert all(e["content_index"] == 0 for e in events[3:-2])
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == "You said: four words in all"
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert done["text"] == "".join(deltas)
    assert final["output"] == [events[-2]["item"]]
    assert final["output"][0]["content"][0]["text"] == "".join(deltas)
    assert final["usage"]["total_tokens"] == 8 and final["provider"] == "native"


async def test_the_sdk_stream_helper_accumulates_and_returns_the_final_response(
        native_api: openai.AsyncOpenAI) -> None:
    async with native_api.responses.stream(model="omni", input="hello there") as stream:
        snapshots = [event.snapshot async for event in stream
                     if event.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert snapshots[-1] == final.output_text == "You said: hello there"
    assert final.status == "completed"


async def test_function_calls_stream_their_arguments_in_fragments(
        url: str, native_api: openai.AsyncOpenAI) -> None:
    _, events = await stream_events(url, {"model": "omni", "input": "Oslo?",
                                          "tools": [WEATHER]})
    kinds = squeezed([event["type"] for event in events])
    assert kinds == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.function_call_arguments.delta",
                     "response.function_call_arguments.done", "response.output_item.done",
                     "response.completed"]
    added = events[2]["item"]
    assert added["type"] == "function_call" and added["arguments"] == ""
    assert added["call_id"] == "call_1" and added["name"] == "get_weather"
    fragments = [e["delta"] for e in events if e["type"].endswith("arguments.delta")]
    assert len(fragments) > 1
    done = next(e for e in events if e["type"].endswith("arguments.done"))
    assert done["arguments"] == "".join(fragments) == '{"city": "sunny"}'
    assert done["name"] == "get_weather" and done["item_id"] == added["id"]
    assert events[-1]["response"]["output"] == [events[-2]["item"]]
    async with native_api.responses.stream(model="omni", input="Oslo?",
                                           tools=[WEATHER]) as stream:  # type: ignore[list-item]
        final = await stream.get_final_response()
    [call] = final.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "sunny"}


async def test_reasoning_streams_as_a_summary_before_the_message(url: str) -> None:
    _, events = await stream_events(url, {"model": "thinker", "input": "think"})
    kinds = squeezed([event["type"] for event in events])
    assert kinds == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.reasoning_summary_part.added",
                     "response.reasoning_summary_text.delta",
                     "response.reasoning_summary_text.done",
                     "response.reasoning_summary_part.done", "response.output_item.done",
                     *TEXT_ITEM, "response.completed"]
    reasoning, message = events[-1]["response"]["output"]
    assert reasoning["type"] == "reasoning" and reasoning["summary"] == [
        {"type": "summary_text", "text": "Thinking about it."}]
    assert message["type"] == "message"
    indices = {e["item"]["id"]: e["output_index"] for e in events
               if e["type"] == "response.output_item.added"}
    assert indices == {reasoning["id"]: 0, message["id"]: 1}


async def test_a_reply_cut_short_ends_with_response_incomplete(
        url: str, native_server: NativeServer) -> None:
    native_server.finish = "length"
    _, events = await stream_events(url, {"model": "omni", "input": "hi",
                                          "max_output_tokens": 2})
    last = events[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["status"] == "incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert last["response"]["output"][0]["status"] == "incomplete"


async def test_logprobs_go_out_with_the_text_they_describe(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer) -> None:
    scorer = ModelSpec("scorer", capabilities=attrs.evolve(ALL, logprobs=True))
    registry = make_registry([NativeProvider(extra_models=[scorer])],
                             base_urls={"native": await serve_app(native_server.app)},
                             retry=RetryPolicy(attempts=1))
    url = await start_server(registry)
    _, events = await stream_events(url, {"model": "scorer", "input": "three words here",
                                          "include": ["message.output_text.logprobs"],
                                          "top_logprobs": 1})
    assert native_server.seen[-1]["logprobs"] is True
    assert native_server.seen[-1]["top_logprobs"] == 1
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert all([entry["token"] for entry in e["logprobs"]] == [e["delta"]] for e in deltas)
    final = events[-1]["response"]["output"][0]["content"][0]
    assert [entry["token"] for entry in final["logprobs"]] == [e["delta"] for e in deltas]


async def test_warnings_of_a_stream_are_in_its_headers_and_final_response(url: str) -> None:
    headers, events = await stream_events(url, {"model": "omni", "input": "hi",
                                                "store": True})
    assert [w["param"] for w in json.loads(headers["X-Jackfield-Warnings"])] == ["store"]
    assert [w["param"] for w in events[-1]["response"]["jackfield_warnings"]] == ["store"]


async def test_a_failure_before_the_first_chunk_is_an_http_error(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    native_server.fail = [500]
    with pytest.raises(openai.APIStatusError) as caught:
        await native_api.responses.create(model="omni", input="hi", stream=True)
    assert caught.value.status_code == 502
    assert native_server.seen and len(native_server.seen) == 1


async def test_a_failure_after_the_headers_is_an_error_event_then_response_failed(
        strict_registry: Registry, start_server: StartServer, client: MakeClient,
        mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()  # the first piece only; then the provider stalls past its timeout
    url = await start_server(strict_registry)
    stream = await client(url).responses.create(model="echo", input="hi", stream=True)
    events = [event async for event in stream]  # the SDK raises on neither: both are events
    kinds = [event.type for event in events]
    assert kinds[-2:] == ["error", "response.failed"]
    error, failed = events[-2], events[-1]
    assert error.type == "error" and error.code == "provider_partial_response"
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error is not None
    assert failed.response.error.code == "server_error"
    assert failed.response.error.message == error.message
    [message] = failed.response.output
    assert message.type == "message" and message.status == "incomplete"
    assert message.content[0].type == "output_text" and message.content[0].text == "You"
    assert "response.completed" not in kinds and "response.output_item.done" not in kinds
