"""`usage` is always in a reply: the provider's counts, or estimates marked as such (clients
such as `llm --no-stream` read it unconditionally)."""

from __future__ import annotations

import json
import math
from typing import Any

import attrs
import openai

from jackfield import Completion, ToolCall, Usage
from jackfield._server.chat_shapes import CHARS_PER_TOKEN, IMAGE_TOKENS, usage_object
from jackfield._server.openai_shapes import parse_chat_call

USER: list[Any] = [{"role": "user", "content": "one two"}]
REPLY = "You said: one two"


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


async def test_usage_is_estimated_for_a_provider_that_counts_nothing(
        mock_api: openai.AsyncOpenAI) -> None:
    reply = await mock_api.chat.completions.create(model="echo", messages=USER)
    usage = reply.usage
    assert usage is not None and usage.model_extra == {"jackfield_estimated": True}
    assert usage.prompt_tokens == tokens("one two") == 2
    assert usage.completion_tokens == tokens(REPLY) == 5
    assert usage.total_tokens == 7


async def test_a_stream_asking_for_usage_gets_an_estimate(
        mock_api: openai.AsyncOpenAI) -> None:
    stream = await mock_api.chat.completions.create(
        model="echo", messages=USER, stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (2, 5)
    assert last.usage.model_extra == {"jackfield_estimated": True}
    assert all(chunk.usage is None for chunk in chunks[:-1])


async def test_a_stream_not_asking_for_usage_gets_none(mock_api: openai.AsyncOpenAI) -> None:
    stream = await mock_api.chat.completions.create(model="echo", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks)


async def test_the_providers_counts_pass_through_unmarked(
        native_api: openai.AsyncOpenAI) -> None:
    reply = await native_api.chat.completions.create(model="omni", messages=USER)
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens,
            reply.usage.total_tokens) == (5, 3, 8)
    assert reply.usage.model_extra == {"jackfield_estimated": False}
    async with native_api.chat.completions.stream(
            model="omni", messages=USER, stream_options={"include_usage": True}) as stream:
        final = await stream.get_final_completion()
    assert final.usage is not None and final.usage.total_tokens == 8


async def test_n_estimated_replies_count_each_reply(mock_api: openai.AsyncOpenAI) -> None:
    reply = await mock_api.chat.completions.create(model="echo", messages=USER, n=2)
    assert len(reply.choices) == 2 and reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (2, 10)


def test_an_estimate_counts_tool_calls_tools_and_images() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    call = parse_chat_call({"model": "m", "tools": tools, "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "abcd" * 3},
            {"type": "image_url", "image_url": {"url": "https://images.example/a.png"}}]}]})
    usage = usage_object(Completion(text="", tool_calls=(ToolCall("c", "f", '{"a": 1}'),)),
                         call)
    assert usage == {
        "prompt_tokens": math.ceil((12 + len(json.dumps(tools))) / CHARS_PER_TOKEN)
                         + IMAGE_TOKENS,
        "completion_tokens": tokens('f{"a": 1}'), "jackfield_estimated": True,
        "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}


def test_one_reply_of_n_without_counts_is_estimated_alone() -> None:
    call = parse_chat_call({"model": "m", "messages": USER})
    counted = Completion(text="x", usage=Usage(5, 3, 8))
    uncounted = Completion(text=REPLY)
    usage = usage_object(attrs.evolve(counted, choices=(counted, uncounted)), call)
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (5, 3 + tokens(REPLY))
    assert usage["jackfield_estimated"] is True
