"""Relaying a CompletionStream as OpenAI's SSE `chat.completion.chunk` events.

Tool calls go out exactly as OpenAI streams them, so that clients which reassemble them
(the openai SDK's `.stream()` helper, langchain, ...) get whole calls: a call's first delta
carries its index, id, type "function", the function's name and "" as arguments; later
deltas carry the index and an argument fragment only. Reasoning goes out as
`reasoning_content`, the field the clients that show reasoning read. Logprobs go out in the
chunk of the text they describe, as OpenAI's (see `_Outbox`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from jackfield._engine.completion import Completion, CompletionStream
from jackfield._server.call import ChatCall
from jackfield._server.chat_shapes import chunk_object, usage_object, warning_list
from jackfield._server.errors import OPENAI_ERRORS, ApiError
from jackfield._server.openai_shapes import completion_id, now
from jackfield._server.sse import EventWriter, serve_stream
from jackfield._types.events import Chunk, ToolCallDelta
from jackfield._types.notices import CallWarning

__all__ = ["ChatEncoder", "DeltaShaper", "stream_chat"]


class DeltaShaper:
    """Turns the core's chunks into OpenAI chunk deltas, remembering each tool call's state.

    Providers differ in how they stream a call (the id and name with the first fragment or
    alone, the name once or in every piece); the deltas sent are always OpenAI's, and a
    client that concatenates them gets what `CompletionStream.completion` holds.
    """

    def __init__(self) -> None:
        self._names: dict[int, str] = {}  # tool call index -> the name sent so far

    def deltas(self, chunk: Chunk) -> list[dict[str, Any]]:
        """Return the deltas for chunk (none for an image: no place for it in a chat chunk)."""
        if chunk.reasoning:
            return [{"reasoning_content": chunk.reasoning}]
        if chunk.text:
            return [{"content": chunk.text}]
        if chunk.tool_call is not None:
            return self._tool_call(chunk.tool_call)
        return []

    def _tool_call(self, delta: ToolCallDelta) -> list[dict[str, Any]]:
        index, sent = delta.index, self._names.get(delta.index)
        pieces: list[dict[str, Any]] = []
        if sent is None:
            self._names[index] = delta.name or ""
            pieces.append({"index": index, "id": delta.id or f"call_{index}",
                           "type": "function",
                           "function": {"name": delta.name or "", "arguments": ""}})
        elif delta.name and delta.name != sent:
            # A name in pieces: clients concatenate, as CompletionBuilder does.
            self._names[index] = sent + delta.name
            pieces.append({"index": index, "function": {"name": delta.name}})
        if delta.arguments:
            pieces.append({"index": index, "function": {"arguments": delta.arguments}})
        return [{"tool_calls": [piece]} for piece in pieces]

    def opening(self, first: Chunk | None) -> list[dict[str, Any]]:
        """Return the deltas of the first chunk, the first of them naming the role.

        As OpenAI's: content "" opens a reply without content yet, null one that starts
        with a tool call or reasoning (so that a reply of tool calls only ends with null).
        """
        deltas = self.deltas(first) if first is not None else []
        if not deltas:
            return [{"role": "assistant", "content": ""}]
        head = {"role": "assistant", "content": None} | deltas[0]
        return [head, *deltas[1:]]


class _Outbox:
    """Sends the chunks of one reply; asked for logprobs, it holds each text delta until the
    next event, so that the Logprobs event that follows it goes out in the same chunk, as
    OpenAI's do: clients read `delta.content` and `logprobs.content` of one chunk together.
    Not asked, nothing waits: each delta goes out as it comes (first-token latency)."""

    def __init__(self, writer: EventWriter, call_id: str, created: int, model: str, *,
                 hold_text: bool) -> None:
        self._writer = writer
        self._head = (call_id, created, model)
        self._hold_text = hold_text
        self._held: dict[str, Any] | None = None

    async def send(self, delta: dict[str, Any], logprobs: Sequence[Any] | None = None) -> None:
        await self._writer.send(chunk_object(*self._head, delta, logprobs=logprobs))

    async def put(self, deltas: list[dict[str, Any]], logprobs: Sequence[Any] = ()) -> None:
        """Send a chunk's deltas, or merge its logprobs into the text delta held."""
        if logprobs and not deltas:
            held, self._held = self._held, None
            # Logprobs with no text before them (a provider that sends them first or twice)
            # go out in a chunk of their own rather than be dropped.
            await self.send({} if held is None else held, logprobs)
            return
        await self.flush()  # anything else comes after the text held
        if not deltas:
            return
        *rest, last = deltas
        for delta in rest:
            await self.send(delta)
        if logprobs:
            await self.send(last, logprobs)
        elif self._hold_text and last.get("content"):
            self._held = last
        else:
            await self.send(last)

    async def flush(self) -> None:
        """Send the text delta held, if any (the next event was not its logprobs)."""
        held, self._held = self._held, None
        if held is not None:
            await self.send(held)


class ChatEncoder:
    """The `chat.completion.chunk` events of one streamed reply (an `sse.StreamEncoder`)."""

    def __init__(self, writer: EventWriter, stream: CompletionStream,
                 warnings: tuple[CallWarning, ...], call: ChatCall) -> None:
        self._writer, self._stream, self._call = writer, stream, call
        self._warnings = warnings
        self._id, self._created = completion_id(), now()
        self._shaper = DeltaShaper()
        self._model = stream.model or call.model  # the resolved id, known with the first chunk
        self._outbox = _Outbox(writer, self._id, self._created, self._model,
                               hold_text=call.logprobs)

    async def open(self, first: Chunk | None) -> None:
        await self._outbox.put(self._shaper.opening(first))
        if first is not None and first.logprobs:
            await self._outbox.put([], first.logprobs)

    async def chunk(self, chunk: Chunk) -> None:
        await self._outbox.put(self._shaper.deltas(chunk), chunk.logprobs)

    async def close(self, completion: Completion) -> None:
        await self._outbox.flush()
        model = completion.model or self._model
        last = chunk_object(self._id, self._created, model, {},
                            completion.finish_reason or "stop")
        await self._writer.send(last | {"provider": completion.provider,
                                        "jackfield_warnings": warning_list(self._warnings)})
        if self._call.include_usage:
            await self._writer.send(chunk_object(self._id, self._created, model, {})
                                    | {"choices": [], "usage": usage_object(completion,
                                                                            self._call)})
        await self._writer.write(b"data: [DONE]\n\n")

    async def fail(self, error: ApiError) -> None:
        await self._outbox.flush()
        await self._writer.write(OPENAI_ERRORS.event_bytes(error))  # no [DONE] after it


async def stream_chat(request: web.Request, stream: CompletionStream,
                      call: ChatCall) -> web.StreamResponse:
    """Relay a stream as OpenAI's SSE chunks; a failure after the headers becomes an error
    event (see sse.serve_stream)."""
    return await serve_stream(request, stream, call.warnings,
                              lambda writer, stream, warnings: ChatEncoder(writer, stream,
                                                                           warnings, call))
