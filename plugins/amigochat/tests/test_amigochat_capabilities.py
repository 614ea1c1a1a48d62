"""What AmigoChat declares it supports, held to through a Registry against the emulator: the
five sampling parameters are sent (the web client's values when a call sets none); seed is
reported, stop applied by the core; tools, image input and JSON modes are refused before any
I/O; a speaker's name leads the content."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

import jackfield_amigochat
from jackfield import CapabilityError, InvalidRequestError, Registry
from jackfield.testing import Emulator, png_bytes

MODEL = "gpt-4o-mini"
REPLY = "Hello from the AmigoChat emulator (gpt-4o-mini). You said: hi"
SAMPLED = {"temperature": 1.3, "top_p": 0.4, "max_tokens": 50, "presence_penalty": -0.5,
           "frequency_penalty": 0.25}
WEB_CLIENT = {"temperature": 0.5, "top_p": 0.95, "max_tokens": 4000, "presence_penalty": 0,
              "frequency_penalty": 0}
WEATHER = {"type": "function", "function": {"name": "get_weather"}}
PNG_URL = "data:image/png;base64," + base64.b64encode(png_bytes(seed="x")).decode()


def registry_for(url: str, **kwargs: Any) -> Registry:
    return Registry(plugins=[jackfield_amigochat], environ={},
                    config={"amigochat": {"base_url": url}}, **kwargs)


@pytest.fixture
async def registry(emulator: Emulator) -> AsyncIterator[Registry]:
    async with registry_for(emulator.url) as registry:
        yield registry


def sampling_sent(emulator: Emulator) -> dict[str, Any]:
    return {name: emulator.stats.last_json[name] for name in WEB_CLIENT}


@pytest.mark.parametrize("stream", [False, True])
async def test_the_five_sampling_parameters_are_sent(registry: Registry, emulator: Emulator,
                                                     stream: bool) -> None:
    if stream:
        chunks = await registry.complete(MODEL, "hi", stream=True, **SAMPLED)
        assert "".join([chunk.text async for chunk in chunks]).strip() == REPLY
        completion = chunks.completion
    else:
        completion = await registry.complete(MODEL, "hi", **SAMPLED)
    assert completion.text == REPLY and completion.warnings == ()
    assert sampling_sent(emulator) == SAMPLED


async def test_a_call_that_sets_some_gets_the_web_clients_values_for_the_rest(
        registry: Registry, emulator: Emulator) -> None:
    await registry.complete(MODEL, "hi")
    assert sampling_sent(emulator) == WEB_CLIENT
    await registry.complete(MODEL, "hi", temperature=0, top_p=1, max_completion_tokens=7)
    assert sampling_sent(emulator) == WEB_CLIENT | {"temperature": 0, "top_p": 1,
                                                    "max_tokens": 7}


async def test_seed_is_accepted_with_a_warning_and_not_sent(registry: Registry,
                                                           emulator: Emulator) -> None:
    completion = await registry.complete(MODEL, "hi", seed=42, temperature=0.1)
    assert completion.text == REPLY
    assert [(w.param, "amigochat/gpt-4o-mini" in str(w)) for w in completion.warnings] == [
        ("seed", True)]
    assert "seed" not in emulator.stats.last_json  # the emulator refuses unknown fields anyway
    assert emulator.stats.last_json["temperature"] == 0.1


async def test_strict_mode_refuses_seed_before_io(emulator: Emulator) -> None:
    async with registry_for(emulator.url, strict=True) as registry:
        with pytest.raises(InvalidRequestError) as caught:
            await registry.complete(MODEL, "hi", seed=42)
        assert caught.value.param == "seed"
        assert (await registry.complete(MODEL, "hi", temperature=0.3)).warnings == ()
    assert emulator.stats.requests == 1


async def test_stop_is_applied_by_the_core(registry: Registry, emulator: Emulator) -> None:
    chunks = await registry.complete(MODEL, "hi", stream=True, stop="(gpt")
    text = "".join([chunk.text async for chunk in chunks])
    assert text == "Hello from the AmigoChat emulator "
    assert chunks.completion.emulated == ("stop",)
    assert "stop" not in emulator.stats.last_json


@pytest.mark.parametrize(("call", "capability"), [
    ({"tools": [WEATHER]}, "tools"),
    ({"response_format": {"type": "json_object"}}, "json_object"),
    ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "answer", "schema": {"type": "object"}}}}, "json_schema"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}},
        {"type": "text", "text": "what is this?"}]}]}, "image_input"),
    ({"messages": [{"role": "user", "content": "weather?"},
                   {"role": "assistant", "content": None, "tool_calls": [{
                       "id": "c1", "type": "function",
                       "function": {"name": "get_weather", "arguments": "{}"}}]},
                   {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]}, "tools"),
])
async def test_what_needs_a_capability_is_refused_before_io_naming_it(
        registry: Registry, emulator: Emulator, call: dict[str, Any], capability: str) -> None:
    messages = call.pop("messages", "hi")
    with pytest.raises(CapabilityError) as caught:
        # gpt-4o is an alias: the error names the model it resolved to.
        await registry.complete("gpt-4o", messages, **call)
    assert caught.value.capability == capability
    assert "amigochat/gpt-4o-2024-11-20 has no" in str(caught.value)
    assert emulator.stats.requests == 0


async def test_a_speakers_name_leads_the_content(registry: Registry,
                                                 emulator: Emulator) -> None:
    completion = await registry.complete(MODEL, [
        {"role": "system", "name": "rules", "content": "be brief"},
        {"role": "user", "name": "Alice", "content": "one"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "name": " Bob  Smith ", "content": "two"}])
    assert emulator.stats.last_json["messages"] == [
        {"role": "system", "content": "rules: be brief"},
        {"role": "user", "content": "Alice: one"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "Bob Smith: two"}]
    assert completion.text.endswith("You said: Bob Smith: two")


async def test_openai_image_fields_are_accepted_with_a_warning(registry: Registry,
                                                               emulator: Emulator) -> None:
    completion = await registry.complete("dall-e-3", "a cat", size="1024x1024", user="u-1")
    assert len(completion.images) == 2
    assert [warning.param for warning in completion.warnings] == ["size", "user"]
    assert emulator.stats.last_json == {"prompt": "a cat", "model": "dall-e-3",
                                        "personaId": "dalle-three"}


@pytest.mark.parametrize("stream", [False, True])
async def test_prompted_tools_round_trip_through_the_plain_chat_wire(
        registry: Registry, emulator: Emulator, stream: bool) -> None:
    # The emulator echoes the last user message, so a message that holds a call block makes
    # its reply one: the call comes back as a real ToolCall, the prose around it as text.
    weather = {"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object",
                                              "properties": {"city": {"type": "string"}}}}}
    block = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    reply = await registry.complete(MODEL, block, tools=[weather], prompted=True, stream=stream)
    if stream:
        assert [chunk.tool_call async for chunk in reply if chunk.tool_call]
        reply = reply.completion
    (call,) = reply.tool_calls
    assert (call.name, call.parsed_arguments()) == ("get_weather", {"city": "Paris"})
    assert (reply.finish_reason, reply.emulated) == ("tool_calls", ("tools",))
    assert reply.text == "Hello from the AmigoChat emulator (gpt-4o-mini). You said:"
    # The tool result goes back as plain turns: the service knows no tool roles.
    history = [{"role": "user", "name": "Alice", "content": "weather?"},
               {"role": "assistant", "content": None, "tool_calls": [call.to_dict()]},
               {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    final = await registry.complete(MODEL, history, tools=[weather], prompted=True)
    sent = emulator.stats.last_json["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert "### get_weather" in sent[0]["content"] and sent[1]["content"] == "Alice: weather?"
    assert '"arguments": {"city": "Paris"}' in sent[2]["content"]
    assert "sunny" in sent[3]["content"] and final.tool_calls == ()
