"""The emulator's fidelity, seen by the real `anthropic` SDK talking to it directly: a
message, a stream (the SDK's own event accumulation), a tool round trip, thinking, and the
error replies as the SDK's exception classes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from anthropic_helpers import KEY, SONNET, reply_to

from jackfield.testing import FAULTS_KEY, Emulator

anthropic = pytest.importorskip("anthropic",
                                reason="the anthropic SDK is in the repository's dev extra")

CLOCK = {"name": "clock", "description": "The time in a city.",
         "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}


@pytest.fixture
async def sdk(emulator: Emulator) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=emulator.url, api_key=KEY, max_retries=0,
                                      timeout=10)
    async with client:
        yield client


async def test_a_message(sdk: anthropic.AsyncAnthropic) -> None:
    message = await sdk.messages.create(model=SONNET, max_tokens=100, system="Be brief.",
                                        messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].type == "text" and message.content[0].text == reply_to("hi")
    assert message.stop_reason == "end_turn" and message.usage.output_tokens == 9


async def test_a_stream(sdk: anthropic.AsyncAnthropic) -> None:
    async with sdk.messages.stream(model=SONNET, max_tokens=3000,
                                   thinking={"type": "enabled", "budget_tokens": 1024},
                                   messages=[{"role": "user", "content": "why?"}]) as stream:
        texts = [text async for text in stream.text_stream]
        message = await stream.get_final_message()
    assert "".join(texts) == reply_to("why?") and len(texts) > 5
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking == "Thinking about: why?"
    assert thinking.signature.startswith("sig_")
    assert text.type == "text" and text.text == reply_to("why?")
    assert message.stop_reason == "end_turn" and message.usage.input_tokens == 4


async def test_a_tool_round_trip_streamed(sdk: anthropic.AsyncAnthropic) -> None:
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "Oslo"}]
    async with sdk.messages.stream(model=SONNET, max_tokens=100, tools=[CLOCK],
                                   messages=messages) as stream:
        first = await stream.get_final_message()
    [use] = first.content
    assert use.type == "tool_use" and (use.name, use.input) == ("clock", {"city": "Oslo"})
    assert first.stop_reason == "tool_use"
    messages += [{"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                               "content": "09:00"}]}]
    after = await sdk.messages.create(model=SONNET, max_tokens=100, tools=[CLOCK],
                                      messages=messages)
    assert after.content[0].type == "text"
    assert after.content[0].text == "The tool returned: 09:00"


async def test_errors_are_the_sdks_exceptions(sdk: anthropic.AsyncAnthropic,
                                              emulator: Emulator) -> None:
    hi: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hi"}]
    with pytest.raises(anthropic.NotFoundError) as missing:
        await sdk.messages.create(model="claude-9", max_tokens=10, messages=hi)
    assert missing.value.body["error"] == {  # type: ignore[index]
        "type": "not_found_error", "message": "model: claude-9"}
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        await sdk.messages.create(model=SONNET, max_tokens=10**6, messages=hi)
    with pytest.raises(anthropic.BadRequestError, match="unexpected `tool_use_id`"):
        await sdk.messages.create(model=SONNET, max_tokens=10, messages=[{
            "role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x",
                                         "content": "?"}]}])
    async with anthropic.AsyncAnthropic(base_url=emulator.url, api_key="sk-ant-wrong",
                                        max_retries=0) as wrong:
        with pytest.raises(anthropic.AuthenticationError):
            await wrong.messages.create(model=SONNET, max_tokens=10, messages=hi)
    emulator.app[FAULTS_KEY].set("rate_limit", times=1)
    with pytest.raises(anthropic.RateLimitError):
        await sdk.messages.create(model=SONNET, max_tokens=10, messages=hi)
    emulator.app[FAULTS_KEY].set("unavailable", times=1)
    with pytest.raises(anthropic.InternalServerError):
        await sdk.messages.create(model=SONNET, max_tokens=10, messages=hi)


async def test_the_model_list_pages_as_the_sdk_expects(sdk: anthropic.AsyncAnthropic) -> None:
    listed = [model.id async for model in sdk.models.list(limit=2)]
    assert listed[0] == SONNET and len(listed) == 5
    assert (await sdk.models.retrieve(SONNET)).display_name == "Claude Sonnet 4.5"
