"""Relaying a CompletionStream as server-sent events, whatever the wire format.

`serve_stream()` does what every streamed reply shares: the first chunk is awaited before
the 200 and its headers (so that a failure up to then still reaches the client as an HTTP
error with the right status and shape, and the headers can say what the call accepted but
does not send), a client that stops reading is cut (`EventWriter`), an upstream failure
after the headers becomes the format's error event, an unforeseen bug is logged and sent as
an internal error, and the upstream stream is closed however the reply ends (the handler is
cancelled when the client disconnects). A wire format brings only its `StreamEncoder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from jackfield._engine.completion import Completion, CompletionStream
from jackfield._errors import JackfieldError
from jackfield._json import dumps
from jackfield._server.access_log import note_call
from jackfield._server.chat_shapes import notice_headers
from jackfield._server.errors import ApiError, classify
from jackfield._types.events import Chunk
from jackfield._types.notices import CallWarning

__all__ = ["SSE_HEADERS", "WRITE_TIMEOUT_KEY", "EventWriter", "StreamEncoder", "serve_stream"]

log = logging.getLogger("jackfield._server")
WRITE_TIMEOUT_KEY = web.AppKey("jackfield_write_timeout", float)
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # a reverse proxy must pass each event on at once
}
INTERNAL = ApiError(500, "server_error", "internal_error",
                    "Internal server error; the server log has the details.")


class _ClientNotReading(Exception):
    """The client read nothing for the write timeout; its connection has been dropped."""


class EventWriter:
    """Writes SSE events to one client, cutting a client that stops reading.

    A client that never reads would otherwise hold its handler, and so the upstream
    connection, for as long as the stream lasts: each write waits at most write_timeout.
    One timer per stream watches the writes (an `asyncio.timeout` around each one cost ~4 µs
    a write, and a write almost never waits: aiohttp suspends it only once the client's
    buffers are full). `close()` stops the watch when the reply ends.
    """

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self._request = request
        self._response = response
        self._timeout = request.app[WRITE_TIMEOUT_KEY]
        self._loop = asyncio.get_running_loop()
        self._since: float | None = None  # when the write under way began (None: none is)
        self._watch: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None  # the handler's, cancelled at a timeout
        self._expired = False

    async def write(self, data: bytes, *, eof: bool = False) -> None:
        """Write raw bytes (eof: the last of the reply)."""
        self._since = self._loop.time()
        if self._watch is None:
            self._task = asyncio.current_task()
            self._watch = self._loop.call_at(self._since + self._timeout, self._check)
        try:
            await (self._response.write_eof(data) if eof else self._response.write(data))
        except asyncio.CancelledError:
            # Cancelled by _check alone (as asyncio.timeout tells its own cancel apart).
            if not self._expired or self._task is None or self._task.uncancel() > 0:
                raise
            transport = self._request.transport
            if transport is not None:
                transport.abort()  # the unread events are dropped with the connection
            log.info("dropped a client of %s that read nothing for %g s",
                     self._request.path, self._timeout)
            raise _ClientNotReading from None
        finally:
            self._since = None

    def _check(self) -> None:
        """The watch's timer: cut a write that has waited write_timeout, or watch on."""
        self._watch = None
        if self._since is None:
            return  # no write waits: the next one starts the watch again
        due = self._since + self._timeout
        if self._loop.time() < due:
            self._watch = self._loop.call_at(due, self._check)
        elif self._task is not None and not self._expired:
            self._expired = True
            self._task.cancel()

    def close(self) -> None:
        """Stop watching (the reply has ended, however it ended)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    async def send(self, payload: Any, event: str | None = None) -> None:
        """Write one event: `data: <json>`, after `event: <name>` when the format names them
        (Anthropic's and the Responses API's do; OpenAI's chat chunks do not)."""
        head = b"" if event is None else b"event: " + event.encode() + b"\n"
        await self.write(head + b"data: " + dumps(payload) + b"\n\n")


class StreamEncoder(Protocol):
    """One wire format's events for one streamed reply; `serve_stream` calls, in order,
    `open` once, `chunk` for each later chunk, then `close` or `fail` once."""

    async def open(self, first: Chunk | None) -> None:
        """Send the opening events and the first chunk (None: the reply is empty)."""

    async def chunk(self, chunk: Chunk) -> None:
        """Send the events of one chunk."""

    async def close(self, completion: Completion) -> None:
        """Send the closing events of a reply that ended well (its whole Completion)."""

    async def fail(self, error: ApiError) -> None:
        """Send the format's error event: the stream failed after the headers went out."""


EncoderFactory = Callable[[EventWriter, CompletionStream, tuple[CallWarning, ...]],
                          StreamEncoder]


async def serve_stream(request: web.Request, stream: CompletionStream,
                       warnings: tuple[CallWarning, ...],
                       encoder: EncoderFactory) -> web.StreamResponse:
    """Relay stream as SSE through the encoder made by `encoder(writer, stream, warnings)`.

    warnings: what the codec accepted but does not act on (the core's are added). The
    upstream stream is closed when this returns or is cancelled.
    """
    try:
        return await _serve(request, stream, warnings, encoder)
    finally:
        # Also reached when the client disconnects (the handler is cancelled): closing the
        # stream drops the upstream connection at once.
        await stream.aclose()


async def _serve(request: web.Request, stream: CompletionStream,
                 warnings: tuple[CallWarning, ...],
                 encoder: EncoderFactory) -> web.StreamResponse:
    first: Chunk | None
    try:
        first = await stream.__anext__()
    except StopAsyncIteration:
        first = None
    note_call(request, provider=stream.provider)
    warnings = (*warnings, *stream.warnings)
    response = web.StreamResponse(headers=SSE_HEADERS | notice_headers(warnings,
                                                                      stream.emulated))
    await response.prepare(request)
    writer = EventWriter(request, response)
    events = encoder(writer, stream, warnings)
    # A client cut for not reading: the caller closes the upstream stream, and aiohttp
    # finds the client's connection already closed.
    try:
        with contextlib.suppress(_ClientNotReading):
            await events.open(first)
            failure = None if first is None else await _relay(stream, events)
            if failure is None:
                completion = stream.completion
                note_call(request, provider=completion.provider, usage=completion.usage)
                await events.close(completion)
            else:
                note_call(request, status=failure.status)
                await events.fail(failure)
            await writer.write(b"", eof=True)
    finally:
        writer.close()
    return response


async def _relay(stream: CompletionStream, events: StreamEncoder) -> ApiError | None:
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
            log.exception("unexpected error relaying a stream of %s", stream.model)
            return INTERNAL
        await events.chunk(chunk)
