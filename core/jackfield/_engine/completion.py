"""What a call returns: a Completion, or a CompletionStream of chunks that ends in one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any

import attrs

from jackfield._errors import JackfieldError
from jackfield._types.content import ToolCall
from jackfield._types.events import (
    Chunk,
    Finish,
    Image,
    Logprobs,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from jackfield._types.notices import CallWarning

__all__ = ["CallNote", "Completion", "CompletionBuilder", "CompletionStream", "collect",
           "collect_many", "combined"]


@attrs.frozen
class CallNote:
    """The core's own event, sent before a provider's first event: what the call accepted
    but did not send (warnings), and what the core emulates for this model."""

    warnings: tuple[CallWarning, ...] = ()
    emulated: tuple[str, ...] = ()


NO_NOTE = CallNote()
# A stream keeps its text for the Completion it ends in. One str per piece costs ~50 bytes of
# object header besides its few characters, so every _BLOCK pieces are joined into one str:
# a stream 60 pieces in held ~3.6 KiB of headers (bench/CHANGES.md, issue 16, memory).
_BLOCK = 8


@attrs.frozen
class Completion:
    """A finished reply: its text (stripped), images, tool calls, reasoning, finish reason,
    usage, model and provider.

    `warnings` lists what the call accepted but did not send; `emulated` names what the core
    did in the model's place ("tools", "json", "stop"). With n > 1, `choices` holds every
    reply (this object's text, tool calls and finish reason are the first's; its usage
    counts the prompt once and every reply's completion, its images are every reply's);
    otherwise it is empty.
    """

    text: str
    images: tuple[Image, ...] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    provider: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    reasoning: str = ""
    warnings: tuple[CallWarning, ...] = ()
    emulated: tuple[str, ...] = ()
    choices: tuple[Completion, ...] = ()
    # The reply tokens' log probabilities, OpenAI's entries, for a call that asked for them.
    logprobs: tuple[Any, ...] = ()


class _Extras:
    """What few replies have: images, tool calls, reasoning, logprobs (made on first use,
    so a text-only stream keeps four empty containers fewer)."""

    __slots__ = ("calls", "images", "logprobs", "reasoning")

    def __init__(self) -> None:
        self.images: list[Image] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, list[Any]] = {}  # index -> [id, name, argument fragments]
        self.logprobs: list[Any] = []


# What a text-only reply's builder reads in their place (never added to: _extras() makes
# the builder its own).
_NO_EXTRAS = _Extras()


class CompletionBuilder:
    """Accumulates events into a Completion."""

    __slots__ = ("blocks", "extras", "finish_reason", "model", "note", "parts", "provider",
                 "usage")

    def __init__(self) -> None:
        self.parts: list[str] = []  # the latest text pieces, fewer than _BLOCK
        self.blocks: list[str] = []  # the text before them, _BLOCK pieces joined per str
        self.extras: _Extras | None = None  # made by the first image, call, reasoning
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model = ""
        self.provider = ""
        self.note = NO_NOTE

    def record(self, event: Any) -> None:
        """Record event without making the caller's chunk (collect() has no caller for it)."""
        if isinstance(event, TextDelta):
            parts = self.parts
            parts.append(event.text)
            if len(parts) == _BLOCK:
                self._join_block()
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Usage):
            self.usage = event
        else:
            self.add(event)

    def add(self, event: Any) -> Chunk | None:
        """Record event; return the chunk the caller should see, if it is content."""
        if isinstance(event, TextDelta):
            parts = self.parts
            parts.append(event.text)
            if len(parts) == _BLOCK:
                self._join_block()
            return Chunk(text=event.text)
        if isinstance(event, Image):
            self._extras().images.append(event)
            return Chunk(image=event)
        if isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, ToolCallDelta):
            self._add_call(event)
            return Chunk(tool_call=event)
        elif isinstance(event, ReasoningDelta):
            self._extras().reasoning.append(event.text)
            return Chunk(reasoning=event.text)
        elif isinstance(event, Logprobs):
            self._extras().logprobs.extend(event.content)
            return Chunk(logprobs=event.content)
        elif isinstance(event, CallNote):
            self.note = event
        return None

    def _extras(self) -> _Extras:
        if self.extras is None:
            self.extras = _Extras()
        return self.extras

    def _join_block(self) -> None:
        self.blocks.append("".join(self.parts))
        self.parts.clear()

    def text(self) -> str:
        """Return the text added so far, unstripped."""
        return "".join(self.blocks) + "".join(self.parts)

    def _add_call(self, delta: ToolCallDelta) -> None:
        entry = self._extras().calls.setdefault(delta.index, [None, None, []])
        if delta.id is not None:
            entry[0] = delta.id
        if delta.name and entry[1] != delta.name:
            # Some services repeat the whole name in every piece; others send it once.
            entry[1] = delta.name if entry[1] is None else entry[1] + delta.name
        if delta.arguments:
            entry[2].append(delta.arguments)

    def tool_calls(self) -> tuple[ToolCall, ...]:
        """Return the tool calls assembled so far, in index order."""
        calls = (self.extras or _NO_EXTRAS).calls
        return tuple(ToolCall(entry[0] or f"call_{index}", entry[1] or "",
                              "".join(entry[2]) or "{}")
                     for index, entry in sorted(calls.items()))

    def build(self) -> Completion:
        """Return the Completion of everything added so far."""
        finish = self.finish_reason
        extras = self.extras or _NO_EXTRAS
        if extras.calls and finish in (None, "stop"):
            finish = "tool_calls"  # some services say "stop" after a tool call
        return Completion(
            self.text().strip(), tuple(extras.images), finish, self.usage, self.model,
            self.provider, self.tool_calls() if extras.calls else (),
            "".join(extras.reasoning).strip(), self.note.warnings,
            self.note.emulated, logprobs=tuple(extras.logprobs),
        )


class CompletionStream:
    """Chunks of a reply as they arrive; leave early with `break` + aclose() or `async with`.

    Nothing is sent until the first chunk is awaited, so a stream that is never iterated
    holds no connection.
    """

    __slots__ = ("_builder", "_done", "_events")

    def __init__(self, events: AsyncIterator[tuple[str, str, Any]]) -> None:
        self._events = events
        self._builder = CompletionBuilder()
        self._done = False

    def __aiter__(self) -> CompletionStream:
        return self

    async def __anext__(self) -> Chunk:
        while True:
            try:
                provider, model, event = await self._events.__anext__()
            except StopAsyncIteration:
                self._done = True
                raise
            self._builder.provider, self._builder.model = provider, model
            chunk = self._builder.add(event)
            if chunk is not None:
                return chunk

    @property
    def provider(self) -> str:
        """Return the provider serving the stream ("" until its first chunk arrived)."""
        return self._builder.provider

    @property
    def model(self) -> str:
        """Return the model id the stream is served by ("" until its first chunk arrived)."""
        return self._builder.model

    @property
    def warnings(self) -> tuple[CallWarning, ...]:
        """Return what the call accepted but did not send (known once the first chunk came)."""
        return self._builder.note.warnings

    @property
    def emulated(self) -> tuple[str, ...]:
        """Return what the core emulates for the serving model (known with the first chunk)."""
        return self._builder.note.emulated

    @property
    def completion(self) -> Completion:
        """Return the whole reply; only once the stream has been read to its end."""
        if not self._done:
            raise JackfieldError(
                "The stream is not finished: read it to the end before asking for .completion."
            )
        return self._builder.build()

    async def text(self) -> str:
        """Read the rest of the stream and return the complete text."""
        async for _ in self:
            pass
        return self.completion.text

    async def aclose(self) -> None:
        """Stop reading and close the upstream connection."""
        close = getattr(self._events, "aclose", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> CompletionStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


def combined(replies: Sequence[Completion]) -> Completion:
    """Return the first reply with every reply in choices.

    Usage counts the prompt once, as OpenAI counts n replies (every call had the same one),
    and sums the replies' completion tokens; a count that some reply lacks is None. The
    images are every reply's (n images from an image model), and the warnings and
    emulations are those of every call, once each.
    """
    counts = [reply.usage for reply in replies if reply.usage is not None]
    usage = None
    if counts:
        prompt = next((c.prompt_tokens for c in counts if c.prompt_tokens is not None), None)
        completion = None if len(counts) < len(replies) or any(
            c.completion_tokens is None for c in counts) else sum(
            c.completion_tokens or 0 for c in counts)
        usage = Usage(prompt, completion, None if prompt is None or completion is None
                      else prompt + completion)
    warnings = tuple(dict.fromkeys(w for reply in replies for w in reply.warnings))
    emulated = tuple(dict.fromkeys(e for reply in replies for e in reply.emulated))
    images = tuple(image for reply in replies for image in reply.images)
    return attrs.evolve(replies[0], usage=usage, choices=tuple(replies), warnings=warnings,
                        emulated=emulated, images=images)


async def collect(events: AsyncIterator[tuple[str, str, Any]]) -> Completion:
    """Read a call's events to the end and return its Completion."""
    builder = CompletionBuilder()
    async for provider, model, event in events:
        builder.provider, builder.model = provider, model
        builder.record(event)
    return builder.build()


async def collect_many(calls: Sequence[AsyncIterator[tuple[str, str, Any]]]) -> Completion:
    """Read n calls side by side and return their combined Completion (n > 1).

    In a task group, the first failure cancels the other calls, closing their connections,
    before it is raised as one call would raise it (gather() would leave them running).
    """
    import asyncio

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(collect(call)) for call in calls]
    except BaseExceptionGroup as failed:
        raise _first_error(failed) from None
    return combined([task.result() for task in tasks])


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first
