"""What comes back: tool calls (streamed as deltas, assembled in Completion.tool_calls with
finish_reason "tool_calls"), reasoning kept apart from the answer, and n > 1 as n calls."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from jackfield import (
    Chunk,
    Completion,
    InvalidRequestError,
    ProviderError,
    Registry,
    ToolCall,
    Usage,
)
from jackfield.testing import STATS_KEY
from mockprovider import MockServer
from nativeprovider import NativeServer

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"},
                                         "days": {"type": "integer"}},
        "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time"}}
TWO_CALLS = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_a", "type": "function",
     "function": {"name": "get_weather", "arguments": '{"city": "Paris", "days": 2}'}},
    {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}


async def streamed(registry: Registry, *args: Any, **kwargs: Any) -> tuple[list[Chunk], Any]:
    async with await registry.complete(*args, stream=True, **kwargs) as stream:
        chunks = [chunk async for chunk in stream]
        return chunks, stream.completion


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_call_comes_back_whole_with_finish_reason_tool_calls(
        native_registry: Registry, stream: bool) -> None:
    if stream:
        chunks, reply = await streamed(native_registry, "omni", "weather?", tools=[WEATHER])
        deltas = [chunk.tool_call for chunk in chunks if chunk.tool_call is not None]
        assert len(deltas) > 2  # the id and name first, then argument fragments
        assert (deltas[0].id, deltas[0].name, deltas[0].arguments) == (
            "call_1", "get_weather", "")
        assert all(d.index == 0 and d.id is None for d in deltas[1:])
    else:
        reply = await native_registry.complete("omni", "weather?", tools=[WEATHER])
    assert reply.tool_calls == (ToolCall("call_1", "get_weather",
                                         '{"city": "sunny", "days": 7}'),)
    assert reply.tool_calls[0].parsed_arguments() == {"city": "sunny", "days": 7}
    assert (reply.finish_reason, reply.text) == ("tool_calls", "")


@pytest.mark.parametrize("stream", [False, True])
async def test_parallel_calls_keep_their_order_and_arguments(
        native_registry: Registry, native_server: NativeServer, stream: bool) -> None:
    native_server.script.append(TWO_CALLS)
    if stream:
        _, reply = await streamed(native_registry, "omni", "both", tools=[WEATHER, TIME])
    else:
        reply = await native_registry.complete("omni", "both", tools=[WEATHER, TIME])
    assert [call.to_dict() for call in reply.tool_calls] == TWO_CALLS["tool_calls"]


async def test_a_service_that_says_stop_after_a_call_still_ends_in_tool_calls(
        native_registry: Registry, native_server: NativeServer) -> None:
    native_server.finish = "stop"
    for stream in (False, True):
        if stream:
            _, reply = await streamed(native_registry, "omni", "w", tools=[WEATHER])
        else:
            reply = await native_registry.complete("omni", "w", tools=[WEATHER])
        assert reply.finish_reason == "tool_calls"
    native_server.finish = "length"  # a call cut short is not a finished call
    reply = await native_registry.complete("omni", "w", tools=[WEATHER])
    assert reply.finish_reason == "length"


async def test_a_named_tool_choice_calls_that_tool(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete(
        "omni", "time?", tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert [call.name for call in reply.tool_calls] == ["get_time"]
    assert native_server.seen[-1]["tool_choice"] == {"type": "function",
                                                     "function": {"name": "get_time"}}


async def test_a_tool_result_round_trip(native_registry: Registry,
                                        native_server: NativeServer) -> None:
    first = await native_registry.complete("omni", "weather?", tools=[WEATHER])
    [call] = first.tool_calls
    messages = [{"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None,
                 "tool_calls": [call.to_dict() for call in first.tool_calls]},
                {"role": "tool", "tool_call_id": call.id,
                 "content": json.dumps({"sky": "clear"})}]
    second = await native_registry.complete("omni", messages, tools=[WEATHER])
    assert second.text == 'The tool said {"sky": "clear"}'
    assert second.tool_calls == () and second.finish_reason == "stop"
    assert native_server.seen[-1]["messages"][1]["tool_calls"][0]["id"] == call.id


@pytest.mark.parametrize("stream", [False, True])
async def test_reasoning_is_kept_apart_from_the_answer(native_registry: Registry,
                                                       stream: bool) -> None:
    if stream:
        chunks, reply = await streamed(native_registry, "thinker", "why?")
        assert chunks[0] == Chunk(reasoning="Thinking about it.")
        assert "".join(chunk.text for chunk in chunks) == "You said: why?"
    else:
        reply = await native_registry.complete("thinker", "why?")
    assert (reply.reasoning, reply.text) == ("Thinking about it.", "You said: why?")


async def test_n_runs_n_calls_and_counts_the_prompt_once_and_every_reply(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("omni", "hi", n=3, seed=1)
    assert len(native_server.seen) == 3
    assert all("n" not in body and body["seed"] == 1 for body in native_server.seen)
    assert [choice.text for choice in reply.choices] == ["You said: hi"] * 3
    assert reply.text == "You said: hi"
    assert reply.usage == Usage(5, 9, 14)  # as OpenAI counts n: the prompt once
    native_server.usage = False
    assert (await native_registry.complete("omni", "hi", n=2)).usage is None


async def test_n_choices_report_the_warnings_of_every_call(
        native_registry: Registry) -> None:
    reply = await native_registry.complete("plain", "hi", n=2, seed=1)
    assert [w.param for w in reply.warnings] == ["seed"]  # once, not once per call
    assert all(choice.warnings == reply.warnings for choice in reply.choices)


async def test_n_with_stream_is_refused_before_any_io(
        native_registry: Registry, native_server: NativeServer) -> None:
    with pytest.raises(InvalidRequestError, match="cannot be streamed") as caught:
        await native_registry.complete("omni", "hi", n=2, stream=True)
    assert caught.value.param == "n"
    assert native_server.seen == []


async def test_one_failed_call_of_n_cancels_the_others_and_closes_their_connections(
        native_registry: Registry, native_server: NativeServer) -> None:
    native_server.fail.append(400)  # the first request to arrive fails at once
    native_server.hold = asyncio.Event()  # the others would wait for ever
    stats = native_server.app[STATS_KEY]
    with pytest.raises(ProviderError, match="failed with 400"):
        await asyncio.wait_for(native_registry.complete("omni", "hi", n=3), 5)
    for _ in range(200):
        if stats.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert len(native_server.seen) == 3
    assert stats.in_flight == 0


async def test_n_images_from_an_image_model_are_all_in_images(
        mock_registry: Registry, mock_server: MockServer) -> None:
    reply = await mock_registry.complete("painter", "a red square", n=2)
    assert len(mock_server.seen) == 2
    assert len(reply.images) == 2 and len(reply.choices) == 2
    assert reply.images == tuple(choice.images[0] for choice in reply.choices)


def test_a_reply_of_n_without_completion_counts_leaves_the_sum_unknown() -> None:
    from jackfield._engine.completion import combined

    counted, uncounted = Completion("a", usage=Usage(5, 3, 8)), Completion("b")
    assert combined([counted, uncounted]).usage == Usage(5, None, None)
    assert combined([uncounted, counted]).usage == Usage(5, None, None)
    assert combined([counted, counted]).usage == Usage(5, 6, 11)
