"""Tool calls through the server with the openai SDK, in OpenAI's exact shapes: not streamed,
streamed as the SDK's `.stream()` helper reassembles them, and a tool result sent back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pydantic
from server_helpers import MakeClient, StartServer

from jackfield import Registry, RetryPolicy
from jackfield.provider import CompletionRequest, Finish, HttpResponse, ToolCallDelta, hookimpl
from nativeprovider import NativeProvider, NativeServer

USER: list[Any] = [{"role": "user", "content": "What is the weather in Oslo?"}]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


class GetWeather(pydantic.BaseModel):
    """The weather in a city."""

    city: str


async def test_a_tool_call_not_streamed(native_api: openai.AsyncOpenAI,
                                        native_server: NativeServer) -> None:
    reply = await native_api.chat.completions.create(
        model="omni", messages=USER, tools=[WEATHER], tool_choice="required",
        parallel_tool_calls=False)
    [choice] = reply.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None  # OpenAI's null when the reply is only tool calls
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.id == "call_1"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sunny"}
    sent = native_server.seen[-1]
    assert sent["tools"] == [WEATHER]
    assert sent["tool_choice"] == "required" and sent["parallel_tool_calls"] is False


async def test_the_stream_helper_reassembles_a_streamed_tool_call(
        native_api: openai.AsyncOpenAI) -> None:
    async with native_api.chat.completions.stream(
            model="omni", messages=USER, tools=[openai.pydantic_function_tool(GetWeather)],
    ) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_completion()
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.name, e.index, e.arguments) for e in done] == [
        ("GetWeather", 0, '{"city": "sunny"}')]
    fragments = [e.arguments_delta for e in events
                 if e.type == "tool_calls.function.arguments.delta"]
    assert len([f for f in fragments if f]) > 1  # the arguments came in pieces
    [choice] = final.choices
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert call.id == "call_1" and call.function.name == "GetWeather"
    assert call.function.parsed_arguments == GetWeather(city="sunny")


async def test_streamed_tool_call_deltas_have_openai_shape(
        native_api: openai.AsyncOpenAI) -> None:
    stream = await native_api.chat.completions.create(model="omni", messages=USER,
                                                      tools=[WEATHER], stream=True)
    chunks = [chunk async for chunk in stream]
    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    first = deltas[0]
    assert first.role == "assistant" and first.content is None
    assert first.tool_calls is not None
    assert first.tool_calls[0].to_dict() == {
        "index": 0, "id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": ""}}
    pieces = [call.to_dict() for delta in deltas[1:] for call in delta.tool_calls or ()]
    assert pieces and all(set(piece) == {"index", "function"} for piece in pieces)
    assert all(set(piece["function"]) == {"arguments"} for piece in pieces)
    assert "".join(p["function"]["arguments"] for p in pieces) == '{"city": "sunny"}'
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "tool_calls"


async def test_a_tool_result_round_trip(native_api: openai.AsyncOpenAI,
                                        native_server: NativeServer) -> None:
    first = await native_api.chat.completions.create(model="omni", messages=USER,
                                                     tools=[WEATHER])
    message = first.choices[0].message
    assert message.tool_calls is not None
    [call] = message.tool_calls
    # The assistant message goes back exactly as the SDK gives it (content null, refusal
    # null, tool_calls), then the tool's result.
    history = [*USER, message.to_dict(), {"role": "tool", "tool_call_id": call.id,
                                          "content": "12 degrees and rain"}]
    second = await native_api.chat.completions.create(model="omni", messages=history,
                                                      tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "The tool said 12 degrees and rain"
    sent = native_server.seen[-1]["messages"]
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": [call.to_dict()]}
    assert sent[2] == {"role": "tool", "tool_call_id": call.id,
                       "content": "12 degrees and rain"}


async def test_two_tool_calls_in_one_streamed_reply(native_api: openai.AsyncOpenAI,
                                                    native_server: NativeServer) -> None:
    calls = [{"id": "call_a", "type": "function",
              "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
             {"id": "call_b", "type": "function",
              "function": {"name": "get_weather", "arguments": '{"city": "Bergen"}'}}]
    native_server.script.append({"role": "assistant", "content": None, "tool_calls": calls})
    async with native_api.chat.completions.stream(model="omni", messages=USER,
                                                  tools=[WEATHER]) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.tool_calls is not None
    got = [call.model_dump(include={"id", "type", "function"}, exclude_none=True)
           for call in final.choices[0].message.tool_calls]
    assert got == calls


class OddStreamer(NativeProvider):
    """A provider whose parser streams tool calls the ways some services do: the name in
    pieces, the name again in every piece, the first fragment with the id."""

    def __init__(self, events: list[Any]) -> None:
        super().__init__("odd")
        self.events = events

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest,
                                 response: HttpResponse) -> AsyncIterator[Any]:
        return self._events(response)

    async def _events(self, response: HttpResponse) -> AsyncIterator[Any]:
        await response.read()
        for event in self.events:
            yield event


async def test_tool_calls_streamed_oddly_reach_the_client_whole(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    events = [ToolCallDelta(0, "call_a", "get_", '{"ci'), ToolCallDelta(0, None, "weather",
                                                                          'ty": "Oslo"}'),
              ToolCallDelta(1, None, "clock", ""), ToolCallDelta(1, None, "clock", "{}"),
              Finish("stop")]
    registry: Registry = make_registry([OddStreamer(events)], retry=RetryPolicy(attempts=1),
                                       base_urls={"odd": await serve_app(native_server.app)})
    api = client(await start_server(registry))
    async with api.chat.completions.stream(model="odd/omni", messages=USER,
                                           tools=[WEATHER]) as stream:
        streamed = await stream.get_final_completion()
    whole = await api.chat.completions.create(model="odd/omni", messages=USER,
                                              tools=[WEATHER])
    raw = await api.chat.completions.create(model="odd/omni", messages=USER, tools=[WEATHER],
                                            stream=True)
    pieces = [call.to_dict() for chunk in [c async for c in raw] if chunk.choices
              for call in chunk.choices[0].delta.tool_calls or ()]
    assert pieces == [  # OpenAI's order: the call opened with "" arguments, then fragments
        {"index": 0, "id": "call_a", "type": "function",
         "function": {"name": "get_", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"ci'}},
        {"index": 0, "function": {"name": "weather"}},
        {"index": 0, "function": {"arguments": 'ty": "Oslo"}'}},
        {"index": 1, "id": "call_1", "type": "function",
         "function": {"name": "clock", "arguments": ""}},
        {"index": 1, "function": {"arguments": "{}"}}]
    expected = [("call_a", "get_weather", '{"city": "Oslo"}'), ("call_1", "clock", "{}")]
    for reply in (streamed, whole):
        choice = reply.choices[0]
        assert choice.finish_reason == "tool_calls"  # the service said "stop"
        assert [(c.id, c.function.name, c.function.arguments)
                for c in choice.message.tool_calls or ()] == expected


async def test_a_reply_names_the_served_model_id(native_api: openai.AsyncOpenAI) -> None:
    reply = await native_api.chat.completions.create(model="gpt-4o", messages=USER)
    assert reply.model == "omni"  # the alias resolved, as OpenAI answers a dated id
    stream = await native_api.chat.completions.create(model="gpt-4o", messages=USER,
                                                      stream=True)
    assert {chunk.model async for chunk in stream} == {"omni"}
    pinned = await native_api.chat.completions.create(model="native/gpt-4o", messages=USER)
    assert pinned.model == "omni"
