"""Relaying a CompletionStream as OpenAI's SSE `chat.completion.chunk` events.

Tool calls go out exactly as OpenAI streams them, so that clients which reassemble them
(the openai SDK's `.stream()` helper, langchain, ...) get whole calls: a call's first delta
carries its index, id, type "function", the function's name and "" as arguments; later
deltas carry the index and an argument fragment only. Reasoning goes out as
`reasoning_content`, the field the clients that show reasoning read. Logprobs go out in the
chunk of the text they describe, as OpenAI's (see `_Outbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from jackfield._engine.completion import CompletionStream
from jackfield._errors import JackfieldError
from jackfield._server.chat_shapes import (
    chunk_object,
    logprobs_asked,
    notice_headers,
    usage_object,
    warning_list,
)
from jackfield._server.errors import ApiError, classify, error_body
from jackfield._server.openai_shapes import ChatCall, completion_id, now
from jackfield._types.events import Chunk, ToolCallDelta
from jackfield._types.notices import CallWarning

__all__ = ["WRITE_TIMEOUT_KEY", "DeltaShaper", "stream_chat"]

log = logging.getLogger("jackfield._server")
WRITE_TIMEOUT_KEY = web.AppKey("jackfield_write_timeout", float)
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # a reverse proxy must pass each event on at once
}


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


class _ClientNotReading(Exception):
    """The client read nothing for the write timeout; its connection has been dropped."""


class _EventWriter:
    """Writes SSE events to one client, cutting a client that stops reading.

    A client that never reads would otherwise hold its handler, and so the upstream
    connection, for as long as the stream lasts: each write waits at most write_timeout.
    """

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self._request = request
        self._response = response
        self._timeout = request.app[WRITE_TIMEOUT_KEY]

    async def write(self, data: bytes, *, eof: bool = False) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await (self._response.write_eof(data) if eof else self._response.write(data))
        except TimeoutError:
            transport = self._request.transport
            if transport is not None:
                transport.abort()  # the unread events are dropped with the connection
            log.info("dropped a client of %s that read nothing for %g s",
                     self._request.path, self._timeout)
            raise _ClientNotReading from None

    async def send(self, payload: dict[str, Any]) -> None:
        await self.write(b"data: " + json.dumps(payload).encode() + b"\n\n")


async def stream_chat(request: web.Request, stream: CompletionStream,
                      call: ChatCall) -> web.StreamResponse:
    """Relay a stream as SSE; an upstream failure after the headers becomes an error event."""
    # The first chunk comes before the 200 and its headers, so that a failure up to here
    # still reaches the client as an HTTP error with the right status; by then the core has
    # said what it accepted but does not send, which goes out in the headers.
    first: Chunk | None
    try:
        first = await stream.__anext__()
    except StopAsyncIteration:
        first = None
    warnings = (*call.warnings, *stream.warnings)
    response = web.StreamResponse(headers=SSE_HEADERS | notice_headers(warnings,
                                                                      stream.emulated))
    await response.prepare(request)
    writer = _EventWriter(request, response)
    # A client cut for not reading: the caller closes the upstream stream, and aiohttp
    # finds the client's connection already closed.
    with contextlib.suppress(_ClientNotReading):
        await _write_events(writer, stream, call, first, warnings)
    return response


class _Outbox:
    """Sends the chunks of one reply; asked for logprobs, it holds each text delta until the
    next event, so that the Logprobs event that follows it goes out in the same chunk, as
    OpenAI's do: clients read `delta.content` and `logprobs.content` of one chunk together.
    Not asked, nothing waits: each delta goes out as it comes (first-token latency)."""

    def __init__(self, writer: _EventWriter, call_id: str, created: int, model: str, *,
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


async def _write_events(writer: _EventWriter, stream: CompletionStream, call: ChatCall,
                        first: Chunk | None, warnings: tuple[CallWarning, ...]) -> None:
    call_id, created = completion_id(), now()
    shaper = DeltaShaper()
    model = stream.model or call.model  # the resolved id, known once the first chunk came
    outbox = _Outbox(writer, call_id, created, model, hold_text=logprobs_asked(call))
    await outbox.put(shaper.opening(first))
    if first is not None and first.logprobs:
        await outbox.put([], first.logprobs)
    failure = None if first is None else await _relay(stream, outbox, shaper, model)
    await outbox.flush()
    if failure is not None:
        await writer.send(error_body(failure))  # the stream ends without [DONE]
        await writer.write(b"", eof=True)
        return
    completion = stream.completion
    last = chunk_object(call_id, created, completion.model or model, {},
                        completion.finish_reason or "stop")
    await writer.send(last | {"provider": completion.provider,
                              "jackfield_warnings": warning_list(warnings)})
    if call.include_usage:
        await writer.send(chunk_object(call_id, created, completion.model or model, {})
                          | {"choices": [], "usage": usage_object(completion, call)})
    await writer.write(b"data: [DONE]\n\n", eof=True)


async def _relay(stream: CompletionStream, outbox: _Outbox, shaper: DeltaShaper,
                 model: str) -> ApiError | None:
    """Send each chunk as it arrives; return the error that ended the stream, if any."""
    while True:
        try:
            chunk = await stream.__anext__()
        except StopAsyncIteration:
            return None
        except JackfieldError as error:
            return classify(error)
        # Deliberately broad: the status line is already sent, so an unforeseen bug can only
        # be reported as an error event; it is logged with its traceback here.
        except Exception:
            log.exception("unexpected error relaying a stream of %s", model)
            return ApiError(500, "server_error", "internal_error",
                            "Internal server error; the server log has the details.")
        await outbox.put(shaper.deltas(chunk), chunk.logprobs)
