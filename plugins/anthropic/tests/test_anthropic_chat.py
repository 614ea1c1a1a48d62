"""Chat through a Registry against the emulator: plain and streamed, the system prompt, the
parameters as sent, tools and their round trip, images, thinking, JSON replies, usage."""

from __future__ import annotations

import base64
import json

import pytest
from anthropic_helpers import HAIKU, KEY, SONNET, complete, reply_to

from jackfield import CapabilityError, Registry
from jackfield.testing import Emulator, png_bytes

WEATHER = {"type": "function", "function": {
    "name": "weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


async def test_plain_and_streamed(registry: Registry, emulator: Emulator) -> None:
    reply = await registry.complete(f"anthropic/{SONNET}", "hi")
    assert reply.text == reply_to("hi") and reply.finish_reason == "stop"
    assert reply.usage is not None and (reply.usage.prompt_tokens, reply.usage.completion_tokens,
                                        reply.usage.total_tokens) == (4, 9, 13)
    assert emulator.stats.last_headers["x-api-key"] == KEY
    assert emulator.stats.last_headers["anthropic-version"] == "2023-06-01"
    assert emulator.stats.last_json["max_tokens"] == 4096
    stream = await registry.complete(f"anthropic/{SONNET}", "hi there", stream=True)
    async with stream:
        pieces = [chunk.text async for chunk in stream if chunk.text]
    assert len(pieces) > 5 and "".join(pieces) == reply_to("hi there")
    usage = stream.completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 10, 15)


async def test_system_parameters_and_stop(registry: Registry, emulator: Emulator) -> None:
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "system", "content": "Be kind."},
                {"role": "user", "content": "hello world"}]
    reply = await registry.complete(f"anthropic/{SONNET}", messages, temperature=0.5,
                                    top_p=0.9, max_tokens=50, stop=["You said"], top_k=5,
                                    user_id="u-1")
    body = emulator.stats.last_json
    assert body["system"] == "Be brief.\n\nBe kind."
    assert body["messages"] == [{"role": "user",
                                 "content": [{"type": "text", "text": "hello world"}]}]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == (
        0.5, 0.9, 50, 5)
    assert body["stop_sequences"] == ["You said"] and body["metadata"] == {"user_id": "u-1"}
    assert reply.text == f"Hello from the Anthropic emulator ({SONNET})."
    assert reply.finish_reason == "stop" and reply.emulated == ()
    cut = await registry.complete(f"anthropic/{SONNET}", "a b c d e f g h", max_tokens=3)
    assert cut.finish_reason == "length" and cut.text == "Hello from the"


async def test_unsent_parameters_are_reported(registry: Registry,
                                              emulator: Emulator) -> None:
    reply = await registry.complete(f"anthropic/{SONNET}", "hi", seed=3,
                                    presence_penalty=0.5)
    assert {warning.param for warning in reply.warnings} == {"seed", "presence_penalty"}
    assert "seed" not in emulator.stats.last_json
    with pytest.raises(CapabilityError):
        await registry.complete(f"anthropic/{SONNET}", "hi", logprobs=True)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_round_trip(registry: Registry, emulator: Emulator, stream: bool) -> None:
    messages: list[dict[str, object]] = [{"role": "user", "content": "Paris"}]
    reply = await complete(registry, f"anthropic/{SONNET}", messages, tools=[WEATHER],
                           stream=stream)
    [call] = reply.tool_calls
    assert (call.name, json.loads(call.arguments)) == ("weather", {"city": "Paris"})
    assert call.id.startswith("toolu_") and reply.finish_reason == "tool_calls"
    assert emulator.stats.last_json["tools"] == [{
        "name": "weather", "description": "The weather in a city.",
        "input_schema": WEATHER["function"]["parameters"]}]  # type: ignore[index]
    messages += [{"role": "assistant", "content": None, "tool_calls": [call.to_dict()]},
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}]
    after = await registry.complete(f"anthropic/{SONNET}", messages, tools=[WEATHER])
    assert after.text == "The tool returned: sunny, 21 C"
    sent = emulator.stats.last_json["messages"]
    assert sent[1] == {"role": "assistant", "content": [{
        "type": "tool_use", "id": call.id, "name": "weather", "input": {"city": "Paris"}}]}
    assert sent[2]["content"] == [{"type": "tool_result", "tool_use_id": call.id,
                                   "content": "sunny, 21 C"}]


async def test_tool_choice_forms(registry: Registry, emulator: Emulator) -> None:
    other = {"type": "function", "function": {"name": "clock", "parameters": {
        "type": "object", "properties": {}}}}
    for choice, wire in (("auto", {"type": "auto"}), ("required", {"type": "any"}),
                         ({"type": "function", "function": {"name": "clock"}},
                          {"type": "tool", "name": "clock"})):
        reply = await registry.complete(f"anthropic/{SONNET}", "x", tools=[WEATHER, other],
                                        tool_choice=choice)
        assert emulator.stats.last_json["tool_choice"] == wire
        assert reply.tool_calls
    assert reply.tool_calls[0].name == "clock"
    reply = await registry.complete(f"anthropic/{SONNET}", "x", tools=[WEATHER],
                                    tool_choice="none", parallel_tool_calls=False)
    assert emulator.stats.last_json["tool_choice"] == {"type": "none"}
    assert reply.text == reply_to("x") and not reply.tool_calls
    await registry.complete(f"anthropic/{SONNET}", "x", tools=[WEATHER],
                            parallel_tool_calls=False)
    assert emulator.stats.last_json["tool_choice"] == {"type": "auto",
                                                       "disable_parallel_tool_use": True}


async def test_images_as_bytes_and_links(registry: Registry, emulator: Emulator) -> None:
    png = png_bytes("cat")
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    message = {"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": {"url": "https://images.example.com/cat.jpg"}}]}
    reply = await registry.complete(f"anthropic/{SONNET}", [message])
    assert reply.text.startswith("I got 2 images (image/png, a URL). ")
    content = emulator.stats.last_json["messages"][0]["content"]
    assert content[1]["source"]["type"] == "base64"
    assert content[1]["source"]["media_type"] == "image/png"
    assert base64.b64decode(content[1]["source"]["data"]) == png
    assert content[2] == {"type": "image", "source": {
        "type": "url", "url": "https://images.example.com/cat.jpg"}}


@pytest.mark.parametrize("stream", [False, True])
async def test_thinking_is_the_reasoning(registry: Registry, emulator: Emulator,
                                         stream: bool) -> None:
    reply = await complete(registry, f"anthropic/{SONNET}", "why?", reasoning_effort="high",
                           stream=stream)
    assert reply.reasoning == "Thinking about: why?" and reply.text == reply_to("why?")
    body = emulator.stats.last_json
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    assert body["max_tokens"] == 16384 + 4096


@pytest.mark.parametrize("stream", [False, True])
async def test_a_call_answering_tool_results_says_it_went_without_thinking(
        registry: Registry, emulator: Emulator, stream: bool) -> None:
    history = [{"role": "user", "content": "weather in Oslo?"},
               {"role": "assistant", "content": None, "tool_calls": [
                   {"id": "toolu_1", "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}]},
               {"role": "tool", "tool_call_id": "toolu_1", "content": "12 C"}]
    reply = await complete(registry, f"anthropic/{SONNET}", history, tools=[WEATHER],
                           reasoning_effort="low", stream=stream)
    assert "thinking" not in emulator.stats.last_json
    [warning] = reply.warnings  # the plugin's HttpRequest.warnings, with the answer
    assert warning.param == "reasoning_effort" and "tool results" in warning.message


async def test_a_model_that_cannot_think_gets_no_thinking(registry: Registry,
                                                          emulator: Emulator) -> None:
    await registry.refresh_models()
    reply = await registry.complete(f"anthropic/{HAIKU}", "hi", reasoning_effort="low")
    assert "thinking" not in emulator.stats.last_json
    assert [warning.param for warning in reply.warnings] == ["reasoning_effort"]


@pytest.mark.parametrize("stream", [False, True])
async def test_json_schema_through_a_forced_tool(registry: Registry, emulator: Emulator,
                                                 stream: bool) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"},
                                               "sunny": {"type": "boolean"}},
              "required": ["city", "sunny"]}
    format_ = {"type": "json_schema", "json_schema": {"name": "w", "schema": schema}}
    reply = await complete(registry, f"anthropic/{SONNET}", "Rome", response_format=format_,
                           stream=stream)
    assert json.loads(reply.text) == {"city": "Rome", "sunny": False}
    assert reply.finish_reason == "stop" and not reply.tool_calls
    body = emulator.stats.last_json
    assert body["tool_choice"] == {"type": "tool", "name": "json_response"}
    assert body["tools"][0]["input_schema"] == schema
