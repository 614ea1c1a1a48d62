"""What AiChats declares it supports, held to through a Registry against the emulator: text
in and out, no sampling parameter, seed or stop (the core applies stop itself), no tools,
image input or JSON modes; a speaker's name travels in the one prompt."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aichats_helpers import COOKIE

import jackfield_aichats
from jackfield import CapabilityError, InvalidRequestError, Registry
from jackfield.testing import Emulator, png_bytes

CHAT = [{"role": "user", "content": "hi"}]
REPLY = "Hello from the AiChats emulator. You said: hi"
EXACT = {"type": "chat", "messagesHistory": [{"from": "you", "content": "hi"}]}
SAMPLED = {"temperature": 0.7, "top_p": 0.9, "max_tokens": 5, "presence_penalty": 0.1,
           "frequency_penalty": 0.2}
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object",
                                          "properties": {"city": {"type": "string"}}}}}
PNG_URL = "data:image/png;base64," + base64.b64encode(png_bytes(seed="x")).decode()


def registry_for(url: str, **kwargs: Any) -> Registry:
    return Registry(plugins=[jackfield_aichats], environ={},
                    config={"aichats": {"base_url": url, "cookie": COOKIE}}, **kwargs)


@pytest.fixture
async def registry(emulator: Emulator) -> AsyncIterator[Registry]:
    async with registry_for(emulator.url) as registry:
        yield registry


def test_gpt_4_is_listed_as_text_only_with_no_sampling(registry: Registry) -> None:
    (listed,) = registry.models(kind="chat")
    assert listed.capabilities.to_dict() == {
        "tools": False, "image_input": False, "json_object": False, "json_schema": False,
        "stop": False, "seed": False, "reasoning": False, "logprobs": False, "sampling": []}


@pytest.mark.parametrize("stream", [False, True])
async def test_sampling_parameters_and_seed_are_accepted_with_a_warning_and_not_sent(
        registry: Registry, emulator: Emulator, stream: bool) -> None:
    # llama-index always sends temperature: it must get an answer, told what was not sent.
    if stream:
        chunks = await registry.complete("gpt-4", CHAT, stream=True, seed=3, **SAMPLED)
        async with chunks:
            first = await anext(chunks)
            early = chunks.warnings  # known with the first chunk, before the reply ends
            text = first.text + "".join([chunk.text async for chunk in chunks])
        completion = chunks.completion
        assert early == completion.warnings and text.strip() == REPLY
    else:
        completion = await registry.complete("gpt-4", CHAT, seed=3, **SAMPLED)
    assert completion.text == REPLY
    assert [warning.param for warning in completion.warnings] == [*SAMPLED, "seed"]
    assert all("aichats/gpt-4" in str(warning) and "not sent" in str(warning)
               for warning in completion.warnings)
    assert emulator.stats.last_json == EXACT  # the strict emulator also refuses extra fields


async def test_strict_mode_refuses_temperature_before_io(emulator: Emulator) -> None:
    async with registry_for(emulator.url, strict=True) as registry:
        with pytest.raises(InvalidRequestError, match="temperature") as caught:
            await registry.complete("gpt-4", CHAT, temperature=0.2)
        assert caught.value.param == "temperature"
        assert (await registry.complete("gpt-4", CHAT)).warnings == ()
    assert emulator.stats.requests == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_stop_is_applied_by_the_core(registry: Registry, emulator: Emulator,
                                           stream: bool) -> None:
    if stream:
        chunks = await registry.complete("gpt-4", CHAT, stream=True, stop=["nothing", "emu"])
        text = "".join([chunk.text async for chunk in chunks])
        completion = chunks.completion
        assert text == "Hello from the AiChats "
    else:
        completion = await registry.complete("gpt-4", CHAT, stop="emu")
    assert (completion.text, completion.finish_reason) == ("Hello from the AiChats", "stop")
    assert completion.emulated == ("stop",) and completion.warnings == ()
    assert emulator.stats.last_json == EXACT


@pytest.mark.parametrize(("call", "capability", "param"), [
    ({"tools": [WEATHER]}, "tools", "tools"),
    ({"tools": [WEATHER], "tool_choice": "required"}, "tools", "tools"),
    ({"response_format": {"type": "json_object"}}, "json_object", "response_format"),
    ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "city", "schema": {"type": "object"}}}}, "json_schema", "response_format"),
    ({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": PNG_URL}}]}]}, "image_input", "messages"),
    ({"messages": [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]}, "tools", "messages"),
])
async def test_what_needs_a_capability_is_refused_before_io_naming_it(
        registry: Registry, emulator: Emulator, call: dict[str, Any], capability: str,
        param: str) -> None:
    messages = call.pop("messages", CHAT)
    with pytest.raises(CapabilityError) as caught:
        await registry.complete("gpt-4", messages, **call)
    error = caught.value
    assert (error.capability, error.param, error.models) == (capability, param, ())
    assert "aichats/gpt-4 has no" in str(error) and "none installed" in str(error)
    if capability != "image_input":  # tools and JSON can be described in the prompt instead
        assert "prompted=" in str(error)
    assert emulator.stats.requests == 0


async def test_tool_choice_none_sends_the_call_without_the_tools(registry: Registry,
                                                                 emulator: Emulator) -> None:
    completion = await registry.complete("gpt-4", CHAT, tools=[WEATHER], tool_choice="none")
    assert completion.text == REPLY and completion.tool_calls == ()
    assert [warning.param for warning in completion.warnings] == ["tools"]
    assert emulator.stats.last_json == EXACT


async def test_a_speakers_name_labels_its_line(registry: Registry, emulator: Emulator) -> None:
    await registry.complete("gpt-4", [{"role": "user", "name": "Alice", "content": "hi"}])
    sent = emulator.stats.last_json["messagesHistory"][0]["content"]
    assert sent == "User (Alice): hi\nAssistant:"  # a lone named message is not sent bare
    await registry.complete("gpt-4", [
        {"role": "system", "content": "two users talk to you"},
        {"role": "user", "name": "Alice", "content": "hi"},
        {"role": "user", "name": "Bob\n System", "content": "hello"}])
    sent = emulator.stats.last_json["messagesHistory"][0]["content"]
    assert sent == ("System: two users talk to you\nUser (Alice): hi\nUser (Bob System): hello"
                    "\nAssistant:")


async def test_openai_image_fields_are_accepted_with_a_warning(registry: Registry,
                                                               emulator: Emulator) -> None:
    completion = await registry.complete("dalle", "a cat", size="1024x1024", quality="hd",
                                         style="vivid")
    assert completion.images[0].data == png_bytes(seed="a cat")
    assert [warning.param for warning in completion.warnings] == ["quality", "size", "style"]
    assert emulator.stats.last_json == {"type": "image",
                                        "messagesHistory": [{"from": "you", "content": "a cat"}]}
