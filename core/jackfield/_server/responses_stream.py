"""Relaying a CompletionStream as the Responses API's semantic SSE events.

Each event is `event: <type>` and `data: {"type": <type>, "sequence_number": n, ...}`, n
counting from 0, in the order OpenAI sends them and the openai SDK's stream accumulator
(`openai/lib/streaming/responses/`) checks: `response.created` and `response.in_progress`;
then per output item `response.output_item.added`, its parts and deltas (a message's
`content_part.added` / `output_text.delta` / `output_text.done` / `content_part.done`, a
reasoning item's `reasoning_summary_part.added` / `reasoning_summary_text.delta` / `.done`
/ `reasoning_summary_part.done`, a function call's `function_call_arguments.delta` /
`.done`), each naming its `item_id`, `output_index` (and `content_index` or
`summary_index`), and `response.output_item.done`; last `response.completed`, or
`response.incomplete` when max_output_tokens cut the reply, holding the whole response.

A reasoning or message item is closed when something else begins; function calls stay open
until the reply ends (a provider may interleave the pieces of parallel calls), and their
items keep the order they began in. A failure after the headers sends an `error` event
(its code, message and param, as OpenAI's) and then `response.failed`, whose response
carries the error and the items so far: openai-agents raises on either, and a client that
reads to a terminal response event finds one.
"""

from __future__ import annotations

from typing import Any

from jackfield._engine.completion import Completion, CompletionStream
from jackfield._secrets import mask_known
from jackfield._server.chat_shapes import warning_list
from jackfield._server.errors import ApiError
from jackfield._server.openai_shapes import now
from jackfield._server.responses_objects import (
    function_call_item,
    logprob_list,
    message_item,
    new_id,
    reasoning_item,
    response_object,
    responses_usage,
    status_of,
    text_part,
)
from jackfield._server.responses_shapes import ResponsesCall
from jackfield._server.sse import EventWriter
from jackfield._types.content import ToolCall
from jackfield._types.events import Chunk, ToolCallDelta
from jackfield._types.notices import CallWarning

__all__ = ["ResponsesEncoder"]


class _Item:
    """One output item as streamed so far."""

    def __init__(self, kind: str, prefix: str, index: int) -> None:
        self.kind, self.id, self.index = kind, new_id(prefix), index
        self.text: list[str] = []  # a message's text, a reasoning's, a call's arguments
        self.logprobs: list[Any] = []
        self.call_id = self.name = ""
        self.status = "in_progress"

    @property
    def joined(self) -> str:
        return "".join(self.text)

    def arguments(self) -> str:
        return self.joined or "{}"  # as the core's CompletionBuilder gives a call's

    def shape(self, bare: bool = False) -> dict[str, Any]:
        """Return the item as OpenAI's output item, in its current state (bare: as it is
        announced, before its first part: the SDK's accumulator appends each part added)."""
        if self.kind == "message":
            return message_item(self.id, self.status, [] if bare else [
                text_part(self.joined, self.logprobs)])
        if self.kind == "reasoning":
            return reasoning_item(self.id, None if bare else self.joined, self.status)
        arguments = self.arguments() if self.status != "in_progress" else self.joined
        return function_call_item(self.id, ToolCall(self.call_id, self.name, arguments),
                                  self.status)


class ResponsesEncoder:
    """The Responses API's events of one streamed reply (an `sse.StreamEncoder`)."""

    def __init__(self, writer: EventWriter, stream: CompletionStream,
                 warnings: tuple[CallWarning, ...], call: ResponsesCall) -> None:
        self._writer, self._call, self._warnings = writer, call, warnings
        self._id, self._created = new_id("resp"), now()
        self._model = stream.model or call.call.model  # the resolved id, known by now
        self._sequence = 0
        self._items: list[_Item] = []
        self._open: _Item | None = None  # the reasoning or message item under way
        self._calls: dict[int, _Item] = {}  # tool call index -> its item, open to the end
        # Asked for logprobs, a text delta waits for the Logprobs chunk that follows it, so
        # that both go out in one output_text.delta, as OpenAI's.
        self._held: str | None = None

    async def _send(self, kind: str, **fields: Any) -> None:
        payload = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        await self._writer.send(payload, event=kind)

    def _response(self, status: str, **fields: Any) -> dict[str, Any]:
        return response_object(self._id, self._created, self._model, self._call,
                               status=status, output=[item.shape() for item in self._items],
                               **fields)

    async def open(self, first: Chunk | None) -> None:
        snapshot = self._response("in_progress")
        await self._send("response.created", response=snapshot)
        await self._send("response.in_progress", response=snapshot)
        if first is not None:
            await self.chunk(first)

    async def chunk(self, chunk: Chunk) -> None:
        if chunk.logprobs and not (chunk.text or chunk.reasoning or chunk.tool_call):
            await self._logprobs(chunk.logprobs)
            return
        await self._flush()
        if chunk.reasoning:
            await self._delta("reasoning", chunk.reasoning)
        elif chunk.text:
            if self._call.call.logprobs:
                await self._begin("message")
                self._held = chunk.text
            else:
                await self._delta("message", chunk.text)
        elif chunk.tool_call is not None:
            await self._tool_call(chunk.tool_call)
        # An image has no place among a chat model's output items; none is streamed.

    async def _logprobs(self, entries: tuple[Any, ...]) -> None:
        held, self._held = self._held, None
        if held is not None:
            await self._delta("message", held, entries)
        elif self._open is not None and self._open.kind == "message":
            self._open.logprobs.extend(entries)  # no text to go with: in the done events
        # Logprobs with no message under way describe no text that was sent: none to attach.

    async def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            await self._delta("message", held)

    async def _begin(self, kind: str) -> _Item:
        """Return the open item of kind, closing another and opening one as needed."""
        if self._open is not None and self._open.kind == kind:
            return self._open
        await self._close_open("completed")
        item = _Item(kind, "msg" if kind == "message" else "rs", len(self._items))
        self._items.append(item)
        self._open = item
        await self._send("response.output_item.added", output_index=item.index,
                         item=item.shape(bare=True))
        if kind == "message":
            await self._send("response.content_part.added", item_id=item.id,
                             output_index=item.index, content_index=0, part=text_part(""))
        else:
            await self._send("response.reasoning_summary_part.added", item_id=item.id,
                             output_index=item.index, summary_index=0,
                             part={"type": "summary_text", "text": ""})
        return item

    async def _delta(self, kind: str, text: str, logprobs: tuple[Any, ...] = ()) -> None:
        item = await self._begin(kind)
        item.text.append(text)
        if kind == "message":
            item.logprobs.extend(logprobs)
            await self._send("response.output_text.delta", item_id=item.id,
                             output_index=item.index, content_index=0, delta=text,
                             logprobs=logprob_list(logprobs))
        else:
            await self._send("response.reasoning_summary_text.delta", item_id=item.id,
                             output_index=item.index, summary_index=0, delta=text)

    async def _close_open(self, status: str) -> None:
        item, self._open = self._open, None
        if item is None:
            return
        item.status = status
        if item.kind == "message":
            part = text_part(item.joined, item.logprobs)
            await self._send("response.output_text.done", item_id=item.id,
                             output_index=item.index, content_index=0, text=item.joined,
                             logprobs=part["logprobs"])
            await self._send("response.content_part.done", item_id=item.id,
                             output_index=item.index, content_index=0, part=part)
        else:
            summary = {"type": "summary_text", "text": item.joined}
            await self._send("response.reasoning_summary_text.done", item_id=item.id,
                             output_index=item.index, summary_index=0, text=item.joined)
            await self._send("response.reasoning_summary_part.done", item_id=item.id,
                             output_index=item.index, summary_index=0, part=summary)
        await self._send("response.output_item.done", output_index=item.index,
                         item=item.shape())

    async def _tool_call(self, delta: ToolCallDelta) -> None:
        item = self._calls.get(delta.index)
        if item is None:
            await self._close_open("completed")
            item = _Item("function_call", "fc", len(self._items))
            item.call_id, item.name = delta.id or f"call_{delta.index}", delta.name or ""
            self._items.append(item)
            self._calls[delta.index] = item
            await self._send("response.output_item.added", output_index=item.index,
                             item=item.shape())
        elif delta.name and delta.name != item.name:
            item.name += delta.name  # a name in pieces, joined as CompletionBuilder does
        if delta.arguments:
            item.text.append(delta.arguments)
            await self._send("response.function_call_arguments.delta", item_id=item.id,
                             output_index=item.index, delta=delta.arguments)

    async def _close_calls(self) -> None:
        for item in self._calls.values():
            item.status = "completed"
            await self._send("response.function_call_arguments.done", item_id=item.id,
                             output_index=item.index, arguments=item.arguments(),
                             name=item.name)
            await self._send("response.output_item.done", output_index=item.index,
                             item=item.shape())

    async def close(self, completion: Completion) -> None:
        status, incomplete = status_of(completion.finish_reason)
        await self._flush()
        if not self._items:
            await self._begin("message")  # an empty reply is an empty message, as OpenAI's
        await self._close_open("incomplete" if incomplete else "completed")
        await self._close_calls()
        self._model = completion.model or self._model
        final = self._response(status, usage=responses_usage(completion, self._call),
                               incomplete=incomplete)
        final |= {"provider": completion.provider,
                  "jackfield_warnings": warning_list(self._warnings)}
        await self._send(f"response.{status}", response=final)

    async def fail(self, error: ApiError) -> None:
        await self._flush()
        message = mask_known(error.message)
        await self._send("error", code=error.code, message=message, param=error.param)
        for item in self._items:
            if item.status == "in_progress":
                item.status = "incomplete"
        # ResponseError.code takes OpenAI's codes only; the error event above has ours.
        code = "rate_limit_exceeded" if error.status == 429 else "server_error"
        await self._send("response.failed", response=self._response(
            "failed", error={"code": code, "message": message}))
