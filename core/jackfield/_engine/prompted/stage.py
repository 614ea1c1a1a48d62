"""The event stage of a prompted call: the model's text in, real tool calls or validated JSON
out; every other event (usage, reasoning, images) passes through as it comes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

from jackfield._engine.prompted.checks import Checker
from jackfield._engine.prompted.reply import ReplyProblem, split_calls
from jackfield._engine.prompted.scanner import Scanner
from jackfield._errors import UnparsableReplyError
from jackfield._types.events import Finish, TextDelta, ToolCallDelta
from jackfield._types.params import CallParams

__all__ = ["prompted_stage"]


def _call_id() -> str:
    return f"call_{secrets.token_hex(12)}"


class _Reply:
    """What one reply turns into once it has ended."""

    def __init__(self, params: CallParams, emulate: frozenset[str]) -> None:
        self.checker = Checker(params)
        self.tools = "tools" in emulate
        self.json = "json" in emulate and params.response_format is not None

    def outcome(self, scanner: Scanner | None, reply: str, live: bool, native_calls: bool,
                finish: str | None) -> Iterator[Any]:
        """Yield the events the rest of the reply becomes (all of it unless live: then the
        text before the held part has been shown already)."""
        tail = held = ""
        if scanner is not None:
            tail = scanner.finish() if live else scanner.feed(reply) + scanner.finish()
            held = scanner.held
        prose, calls = split_calls(held) if held else ("", [])
        if calls:
            checked = self.checker.calls(calls)
            earlier = reply[:len(reply) - len(held)]
            text = "\n\n".join(part for part in ("" if live else earlier.strip(), prose) if part)
            if text and live and earlier.strip():
                # The earlier prose has been shown: a paragraph break, counting its own.
                text = "\n" * max(0, 2 - earlier[len(earlier.rstrip()):].count("\n")) + text
            if text:
                yield TextDelta(text)
            for index, (name, arguments) in enumerate(checked):
                yield ToolCallDelta(index, _call_id(), name, arguments)
            yield Finish("tool_calls" if finish in (None, "stop") else finish)
            return
        if self.tools and not native_calls:
            self.checker.no_call()
        if self.json and not native_calls:
            yield TextDelta(self.checker.json_answer(reply))
        elif live and tail + prose:
            yield TextDelta(tail + prose)  # no call after all: the held part is prose
        elif not live and reply:
            yield TextDelta(reply)
        if finish is not None:
            yield Finish(finish)


def prompted_stage(provider: str, params: CallParams, emulate: frozenset[str]) -> Any:
    """Return the stage that turns a prompted reply into tool calls or validated JSON.

    Prose streams as it arrives, up to where a tool call may begin. A JSON answer cannot be
    judged before it is complete, so with prompted JSON the whole reply is held to its end.
    """
    reader = _Reply(params, emulate)

    async def stage(events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        scanner = Scanner() if reader.tools else None
        live = scanner is not None and not reader.json
        pieces: list[str] = []
        finish: str | None = None
        native_calls = False
        async for event in events:
            if isinstance(event, TextDelta):
                pieces.append(event.text)
                if live:
                    assert scanner is not None
                    shown = scanner.feed(event.text)
                    if shown:
                        yield TextDelta(shown)
                continue
            if isinstance(event, Finish):
                finish = event.reason  # said once the reply is read: it may become tool_calls
                continue
            native_calls = native_calls or isinstance(event, ToolCallDelta)
            yield event
        reply = "".join(pieces)
        try:
            outcome = list(reader.outcome(scanner, reply, live, native_calls, finish))
        except ReplyProblem as problem:
            message = str(problem)
            if problem.truncated and finish == "length":
                message += " (the provider stopped at its token limit: raise max_tokens)"
            elif problem.truncated:
                message += " (the reply was cut off)"
            raise UnparsableReplyError(provider, message, reply=reply) from None
        for event in outcome:
            yield event

    return stage
