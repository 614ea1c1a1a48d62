"""Chat through a Registry against the emulator: streamed and not, tools, images, JSON modes,
stop, seed, logprobs, reasoning and usage."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import pytest

from jackfield import Registry, ToolCallDelta
from jackfield.testing import Emulator, png_bytes

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                    "days": {"type": "integer"}},
                   "required": ["city", "days"]}}}


@pytest.mark.parametrize("stream", [False, True])
async def test_chat_quotes_the_user_and_counts_usage(registry: Registry, emulator: Emulator,
                                                     stream: bool) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one two"}]
    if stream:
        reply = await registry.complete("openai/gpt-4o-mini", messages, stream=True)
        pieces = [chunk.text async for chunk in reply]
        assert pieces == ["Hello", " from", " the", " OpenAI", " emulator", " (gpt-4o-mini).",
                          " You", " said:", " one", " two"]
        completion = reply.completion
    else:
        completion = await registry.complete("openai/gpt-4o-mini", messages)
    assert completion.text == "Hello from the OpenAI emulator (gpt-4o-mini). You said: one two"
    assert (completion.finish_reason, completion.provider) == ("stop", "openai")
    assert completion.usage is not None and completion.usage.completion_tokens == 10
    sent = emulator.stats.last_json
    assert sent["messages"] == messages
    assert sent.get("stream", False) is stream
    if stream:
        assert sent["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("stream", [False, True])
async def test_tools_come_back_as_tool_calls(registry: Registry, emulator: Emulator,
                                             stream: bool) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Oslo"}]
    if stream:
        reply = await registry.complete("openai/gpt-4o", messages, tools=[WEATHER],
                                        stream=True)
        deltas = [chunk.tool_call async for chunk in reply if chunk.tool_call is not None]
        completion = reply.completion
        # The arguments arrive in several pieces, after the piece naming the call.
        assert isinstance(deltas[0], ToolCallDelta) and deltas[0].name == "get_weather"
        assert len([d for d in deltas if d.arguments]) >= 2
    else:
        completion = await registry.complete("openai/gpt-4o", messages, tools=[WEATHER])
    assert completion.finish_reason == "tool_calls"
    [call] = completion.tool_calls
    assert call.name == "get_weather"
    arguments = json.loads(call.arguments) if isinstance(call.arguments, str) else call.arguments
    jsonschema.validate(arguments, WEATHER["function"]["parameters"])
    assert arguments["city"] == "Oslo"
    assert emulator.stats.last_json["tools"] == [WEATHER]
    # The tool's result goes back; the answer quotes it.
    follow_up = [*messages, {"role": "assistant", "content": None, "tool_calls": [
        {"id": call.id, "type": "function",
         "function": {"name": call.name, "arguments": json.dumps(arguments)}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}]
    answer = await registry.complete("openai/gpt-4o", follow_up, tools=[WEATHER])
    assert answer.text == "The tool returned: sunny, 21 C"
    assert emulator.stats.last_json["messages"][-1] == {"role": "tool", "tool_call_id": call.id,
                                                       "content": "sunny, 21 C"}


async def test_image_parts_reach_the_model(registry: Registry, emulator: Emulator) -> None:
    png = base64.b64encode(png_bytes("x")).decode()
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)).decode()
    content = [{"type": "text", "text": "what is this"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
               {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{jpeg}"}}]
    completion = await registry.complete("openai/gpt-4o",
                                         [{"role": "user", "content": content}])
    assert completion.text.startswith("I got 2 images (image/png, image/jpeg). ")
    assert completion.text.endswith("You said: what is this")
    sent = emulator.stats.last_json["messages"][0]["content"]
    assert [part["type"] for part in sent] == ["text", "image_url", "image_url"]


async def test_json_object_and_json_schema(registry: Registry) -> None:
    completion = await registry.complete("openai/gpt-4o-mini", "answer in JSON please",
                                         response_format={"type": "json_object"})
    assert json.loads(completion.text) == {"answer": "answer in JSON please"}
    schema = {"type": "object", "properties": {"name": {"type": "string"},
                                               "age": {"type": "integer", "minimum": 18},
                                               "pets": {"type": "array", "minItems": 1,
                                                        "items": {"enum": ["cat", "dog"]}}},
              "required": ["name", "age", "pets"], "additionalProperties": False}
    completion = await registry.complete(
        "openai/gpt-4o-mini", "Ada", stream=False,
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": schema, "strict": True}})
    value = json.loads(completion.text)
    jsonschema.validate(value, schema)
    assert value == {"name": "Ada", "age": 18, "pets": ["cat"]}


@pytest.mark.parametrize("stream", [False, True])
async def test_stop_seed_and_sampling_are_sent_and_honoured(registry: Registry,
                                                            emulator: Emulator,
                                                            stream: bool) -> None:
    kwargs: dict[str, Any] = {"stop": ["emulator"], "seed": 42, "temperature": 0.3,
                              "top_p": 0.9, "max_tokens": 50}
    if stream:
        reply = await registry.complete("openai/gpt-4o-mini", "hi", stream=True, **kwargs)
        text = "".join([chunk.text async for chunk in reply])
    else:
        text = (await registry.complete("openai/gpt-4o-mini", "hi", **kwargs)).text
    assert text.strip() == "Hello from the OpenAI"  # a Completion's text is stripped
    sent = emulator.stats.last_json
    assert (sent["stop"], sent["seed"], sent["temperature"], sent["top_p"],
            sent["max_tokens"]) == (["emulator"], 42, 0.3, 0.9, 50)


async def test_max_tokens_ends_with_length(registry: Registry) -> None:
    completion = await registry.complete("openai/gpt-4o-mini", "hi", max_tokens=3)
    assert (completion.text, completion.finish_reason) == ("Hello from the", "length")


@pytest.mark.parametrize("stream", [False, True])
async def test_logprobs_when_asked(registry: Registry, stream: bool) -> None:
    if stream:
        reply = await registry.complete("openai/gpt-4o-mini", "hi", logprobs=True,
                                        top_logprobs=2, stream=True)
        per_chunk = [chunk.logprobs async for chunk in reply]
        assert all(len(entries) == 1 for entries in per_chunk if entries)
        completion = reply.completion
    else:
        completion = await registry.complete("openai/gpt-4o-mini", "hi", logprobs=True,
                                             top_logprobs=2)
    tokens = [entry["token"] for entry in completion.logprobs]
    assert "".join(tokens) == completion.text
    assert all(len(entry["top_logprobs"]) == 2 and entry["logprob"] <= 0
               for entry in completion.logprobs)
    plain = await registry.complete("openai/gpt-4o-mini", "hi")
    assert plain.logprobs == ()


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["deepseek-reasoner", "qwen3-thinking"])
async def test_reasoning_is_kept_apart_from_the_answer(registry: Registry, model: str,
                                                       stream: bool) -> None:
    if stream:
        reply = await registry.complete(f"openai/{model}", "why", stream=True)
        chunks = [chunk async for chunk in reply]
        first_text = next(i for i, c in enumerate(chunks) if c.text)
        assert all(c.reasoning for c in chunks[:first_text])  # reasoning comes first
        completion = reply.completion
    else:
        completion = await registry.complete(f"openai/{model}", "why")
    assert completion.reasoning == "Thinking about: why"
    assert completion.text.endswith("You said: why")
    assert "Thinking" not in completion.text


async def test_the_user_option_is_sent(registry: Registry, emulator: Emulator) -> None:
    await registry.complete("openai/gpt-4o-mini", "hi", user="user-1234")
    assert emulator.stats.last_json["user"] == "user-1234"
