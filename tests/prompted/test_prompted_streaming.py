"""Streaming a prompted reply: prose reaches the caller while the model still writes, only
what may be a tool call is held back (a bounded look-ahead, never the whole reply), and any
split of the reply into pieces gives the same result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from scripted import TOOLS, ScriptedServer, ask

from jackfield import Chunk, CompletionStream, Registry
from jackfield._engine.params import split_call
from jackfield._engine.prompted import prompted_plan
from jackfield._engine.prompted.scanner import Scanner
from jackfield._types.events import Finish, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from jackfield._types.messages import Message

CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


async def read_until(chunks: CompletionStream, text: str) -> tuple[str, list[Chunk]]:
    """Read chunks until their text ends with text; return it and the chunks read."""
    received, seen = "", []
    while not received.endswith(text):
        chunk = await asyncio.wait_for(chunks.__anext__(), 5)
        seen.append(chunk)
        received += chunk.text
    return received, seen


async def test_prose_streams_before_the_reply_ends(registry: Registry,
                                                   scripted: ScriptedServer) -> None:
    scripted.release_last = asyncio.Event()
    reply = 'Paris is mild today: use {city} or "<b>" freely, [see](x), and a light breeze.'
    scripted.queue(reply)
    async with await registry.complete("scripted/model", "hi", stream=True,
                                       tools=TOOLS) as chunks:
        # Everything but the last piece arrives while the service still holds that piece.
        received, _ = await read_until(chunks, "a light")
        assert not scripted.release_last.is_set()
        scripted.release_last.set()
        async for chunk in chunks:
            received += chunk.text
    assert received == reply
    assert chunks.completion.tool_calls == ()
    assert chunks.emulated == ("tools",)


async def test_prose_before_a_call_streams_and_the_call_comes_at_the_end(
        registry: Registry, scripted: ScriptedServer) -> None:
    scripted.release_last = asyncio.Event()
    scripted.queue(f"Let me check the weather for you.\n{CALL}")
    async with await registry.complete("scripted/model", "hi", stream=True,
                                       tools=TOOLS) as chunks:
        received, seen = await read_until(chunks, "for you.\n")
        assert all(chunk.tool_call is None for chunk in seen)
        scripted.release_last.set()
        rest = [chunk async for chunk in chunks]
    assert received == "Let me check the weather for you.\n"
    assert [chunk.tool_call.name for chunk in rest if chunk.tool_call] == ["get_weather"]
    assert not any(chunk.text for chunk in rest)  # the call's text is never shown
    assert chunks.completion.finish_reason == "tool_calls"
    assert chunks.completion.usage is not None  # usage after the finish is passed on


@pytest.mark.parametrize("reply", [
    CALL,
    f"Sure! ```json\n{CALL[12:-13]}\n```\nDone.",
    "Prose with {braces}, <tags> and ``` fences\n```python\nprint(1)\n```",
    f"{CALL}\n{CALL.replace('Paris', 'Rome')}",
])
async def test_a_reply_sent_character_by_character_reads_the_same(
        registry: Registry, scripted: ScriptedServer, reply: str) -> None:
    scripted.queue(reply)
    whole = await ask(registry, False, tools=TOOLS)
    scripted.queue(reply, split=list)
    streamed = await ask(registry, True, tools=TOOLS)
    assert streamed.text == whole.text
    assert [(c.name, c.arguments) for c in streamed.tool_calls] == [
        (c.name, c.arguments) for c in whole.tool_calls]


def plan_stage(**options: Any) -> Any:
    wanted, _ = split_call({"tools": TOOLS, **options})
    _, stage, _ = prompted_plan("scripted", (Message("user", "hi"),), wanted.params,
                                frozenset({"tools"}))
    return stage


async def run(stage: Any, events: list[Any]) -> list[Any]:
    async def source() -> AsyncIterator[Any]:
        for event in events:
            yield event

    return [event async for event in stage(source())]


def summary(events: list[Any]) -> tuple[str, list[tuple[str | None, str]], list[Any]]:
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    calls = [(e.name, e.arguments) for e in events if isinstance(e, ToolCallDelta)]
    others = [e for e in events if not isinstance(e, TextDelta | ToolCallDelta)]
    return text, calls, others


@pytest.mark.parametrize("reply", [
    f"I'll check.\n{CALL}\nBack soon.",
    'Use {"name": "x"} as a sample, then ```json\n{"a": [1, {"b": "}"}]}\n``` ok',
    f"```json\n[{CALL[12:-13]}]\n```",
    "No <tool_call> is needed: {x} < y.",
])
async def test_every_split_of_the_reply_gives_the_same_result(reply: str) -> None:
    expected = summary(await run(plan_stage(), [TextDelta(reply), Finish("stop")]))
    for cut in range(1, len(reply)):
        pieces = [TextDelta(reply[:cut]), TextDelta(reply[cut:]), Finish("stop")]
        assert summary(await run(plan_stage(), pieces)) == expected, cut


async def test_other_events_pass_through_and_stop_becomes_tool_calls() -> None:
    events = await run(plan_stage(), [ReasoningDelta("Thinking."), TextDelta(CALL),
                                      Usage(1, 2, 3), Finish("stop")])
    assert events[0] == ReasoningDelta("Thinking.")  # not held: it is no part of the answer
    assert events[1] == Usage(1, 2, 3)
    assert isinstance(events[2], ToolCallDelta)
    assert events[2].index == 0
    assert events[3] == Finish("tool_calls")


def test_the_scanner_holds_back_only_a_bounded_look_ahead() -> None:
    prose = ('A {placeholder} and <em>tags</em>, [links](x), `code`, {"key": 1}, '
             '```text\nblock\n```\n{\n  "type": "object"\n}\n') * 200
    scanner = Scanner()
    shown: list[str] = []
    count = 0
    for number, char in enumerate(prose, 1):
        shown.append(scanner.feed(char))
        count += len(shown[-1])
        # What is not shown yet is at most one position's look-ahead, never the reply so far.
        assert number - count <= 64, number
    shown.append(scanner.finish())
    assert "".join(shown) == prose
    assert scanner.held == ""
