"""Relaying a CompletionStream as Anthropic's SSE events, in the order its SDK reads them.

`message_start` (usage: the prompt's estimate, 0 output tokens) and a `ping`, then content
blocks, each `content_block_start`, its `content_block_delta`s and `content_block_stop`:
reasoning as a thinking block (`thinking_delta`), text as a text block (`text_delta`), each
tool call as a tool_use block (`input_json_delta` of its argument fragments, as they come);
then `message_delta` with the stop reason and the final usage (input_tokens too: the count
is the provider's, known only at the end), and `message_stop`. A failure after the headers
ends the stream with `event: error` in Anthropic's error shape.

A tool_use block starts once its name is known: providers that send a call's id, name and
arguments in separate pieces get their block when the first argument fragment (or the next
block, or the end) comes. A provider that interleaves two calls' fragments gets each
fragment sent to its own block's index (the SDK adds deltas by index).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from jackfield._engine.completion import Completion, CompletionStream
from jackfield._server.anthropic_replies import (
    ANTHROPIC_ERRORS,
    message_id,
    stop_reason,
    usage_fields,
)
from jackfield._server.call import ChatCall
from jackfield._server.chat_shapes import prompt_tokens, warning_list
from jackfield._server.errors import ApiError
from jackfield._server.sse import EventWriter, serve_stream
from jackfield._types.events import Chunk, ToolCallDelta
from jackfield._types.notices import CallWarning

__all__ = ["MessagesEncoder", "stream_messages"]


class _PendingTool:
    """A tool call whose block has not started: its name may still be coming."""

    def __init__(self, delta: ToolCallDelta) -> None:
        self.index = delta.index
        self.id = delta.id
        self.name = delta.name or ""

    def add(self, delta: ToolCallDelta) -> None:
        self.id = self.id or delta.id
        self.name += delta.name or ""


class MessagesEncoder:
    """The Messages events of one streamed reply (an `sse.StreamEncoder`)."""

    def __init__(self, writer: EventWriter, stream: CompletionStream,
                 warnings: tuple[CallWarning, ...], call: ChatCall) -> None:
        self._writer, self._stream, self._call = writer, stream, call
        self._warnings = warnings
        self._blocks = 0  # blocks started so far: the next block's index
        self._open: tuple[str, int] | None = None  # (kind, tool index or -1) of the open block
        self._tool_blocks: dict[int, int] = {}  # tool call index -> its block's index
        self._pending: _PendingTool | None = None

    async def _send(self, payload: dict[str, Any]) -> None:
        await self._writer.send(payload, event=payload["type"])

    async def _stop_open(self) -> None:
        await self._start_pending()
        if self._open is not None:
            self._open = None
            await self._send({"type": "content_block_stop", "index": self._blocks - 1})

    async def _start(self, kind: str, block: dict[str, Any], tool: int = -1) -> None:
        await self._stop_open()
        self._open = (kind, tool)
        self._blocks += 1
        await self._send({"type": "content_block_start", "index": self._blocks - 1,
                          "content_block": block})

    async def _delta(self, index: int, delta: dict[str, Any]) -> None:
        await self._send({"type": "content_block_delta", "index": index, "delta": delta})

    async def _start_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await self._start("tool_use", {"type": "tool_use",
                                           "id": pending.id or f"call_{pending.index}",
                                           "name": pending.name, "input": {}}, pending.index)
            self._tool_blocks[pending.index] = self._blocks - 1

    async def _tool(self, delta: ToolCallDelta) -> None:
        block = self._tool_blocks.get(delta.index)
        if block is None:
            if self._pending is not None and self._pending.index == delta.index:
                self._pending.add(delta)
            else:
                await self._stop_open()
                self._pending = _PendingTool(delta)
            if not delta.arguments:
                return
            await self._start_pending()
            block = self._blocks - 1
        if delta.arguments:
            await self._delta(block, {"type": "input_json_delta",
                                      "partial_json": delta.arguments})

    async def _text(self, kind: str, text: str) -> None:
        if self._pending is not None or self._open != (kind, -1):
            field = "thinking" if kind == "thinking" else "text"
            block = {"type": kind, field: ""} | ({"signature": ""} if kind == "thinking"
                                                 else {})
            await self._start(kind, block)
        name = "thinking_delta" if kind == "thinking" else "text_delta"
        field = "thinking" if kind == "thinking" else "text"
        await self._delta(self._blocks - 1, {"type": name, field: text})

    async def open(self, first: Chunk | None) -> None:
        model = self._stream.model or self._call.model
        await self._send({"type": "message_start", "message": {
            "id": message_id(), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens(self._call), "output_tokens": 0}}})
        await self._send({"type": "ping"})
        if first is not None:
            await self.chunk(first)

    async def chunk(self, chunk: Chunk) -> None:
        # An image has no block of Anthropic's in a reply: as in OpenAI's chat stream, none.
        if chunk.reasoning:
            await self._text("thinking", chunk.reasoning)
        elif chunk.text:
            await self._text("text", chunk.text)
        elif chunk.tool_call is not None:
            await self._tool(chunk.tool_call)

    async def close(self, completion: Completion) -> None:
        await self._stop_open()
        usage = usage_fields(completion, self._call)
        await self._send({"type": "message_delta",
                          "delta": {"stop_reason": stop_reason(completion),
                                    "stop_sequence": None},
                          "usage": usage, "provider": completion.provider,
                          "jackfield_warnings": warning_list(self._warnings)})
        await self._send({"type": "message_stop"})

    async def fail(self, error: ApiError) -> None:
        await self._writer.write(ANTHROPIC_ERRORS.event_bytes(error))


async def stream_messages(request: web.Request, stream: CompletionStream,
                          call: ChatCall) -> web.StreamResponse:
    """Relay a stream as Anthropic's events; a failure after the headers becomes an error
    event (see sse.serve_stream)."""
    return await serve_stream(request, stream, call.warnings,
                              lambda writer, stream, warnings: MessagesEncoder(
                                  writer, stream, warnings, call))
