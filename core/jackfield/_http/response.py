"""The HTTP response a provider's parser reads: bounded, with transport errors already typed."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from jackfield._errors import ProviderUnavailableError, ResponseFormatError, StalledResponseError
from jackfield._http.lines import LineSplitter, LineTooLongError
from jackfield._http.statuses import describe_body
from jackfield._json import loads
from jackfield._settings.limits import Limits

if TYPE_CHECKING:
    import aiohttp

__all__ = ["HttpResponse"]


@functools.cache
def _faults() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Return the exceptions of a stalled and of a dropped read, built once per process."""
    import aiohttp  # already loaded: the transport that made a response runs on it

    return ((TimeoutError, aiohttp.ServerTimeoutError),
            (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError))


class HttpResponse:
    """A 2xx response being read: chunks, lines, text or JSON, within the registry's limits."""

    # Slotted, as are the other objects each open stream keeps (its lines, splitter, builder,
    # deadline): ~50 bytes fewer apiece than an instance dict (bench/CHANGES.md, issue 16).
    __slots__ = ("_dropped", "_limits", "_raw", "_read_idle", "_received", "_stalled",
                 "headers", "provider", "status", "url")

    def __init__(self, provider: str, raw: aiohttp.ClientResponse, limits: Limits,
                 read_idle: float | None) -> None:
        self.provider = provider
        self.status: int = raw.status
        self.headers: Mapping[str, str] = raw.headers
        self.url = str(raw.url)
        self._raw = raw
        self._limits = limits
        self._read_idle = read_idle
        self._received = 0
        self._stalled, self._dropped = _faults()

    @property
    def content_type(self) -> str:
        """Return the media type without parameters ("text/event-stream", say)."""
        return self._raw.content_type

    async def _next_chunk(self) -> bytes:
        """Return the next piece of the body as it arrives (b"" at its end), errors typed."""
        try:
            chunk = await self._raw.content.readany()
        except self._stalled as error:
            raise StalledResponseError(
                self.provider,
                f"the reply stalled: no data for {self._read_idle:g} s",
            ) from error
        except self._dropped as error:
            raise ProviderUnavailableError(
                self.provider, f"the connection dropped mid-reply ({type(error).__name__})"
            ) from error
        self._received += len(chunk)
        if self._received > self._limits.max_reply_bytes:
            raise ResponseFormatError(
                self.provider,
                f"the reply exceeds the limit of {self._limits.max_reply_bytes} bytes",
                advice="Raise Limits(max_reply_bytes=...) if such replies are expected.",
            )
        return chunk

    def iter_chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives, raising typed errors for drops, stalls and excess."""
        return _Chunks(self)

    def iter_lines(self) -> AsyncIterator[str]:
        """Yield each line of the body, decoded as UTF-8, as soon as it is complete."""
        return _Lines(self)

    async def read(self) -> bytes:
        """Return the whole body (bounded by the reply limit)."""
        parts = []
        while chunk := await self._next_chunk():
            parts.append(chunk)
        return b"".join(parts)

    async def json(self) -> Any:
        """Return the body parsed as JSON; a body that is not JSON is a ResponseFormatError."""
        body = await self.read()
        try:
            return loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ResponseFormatError(
                self.provider, "expected a JSON reply but got something else", body=body
            ) from error

    async def refuse_html(self) -> None:
        """Raise ResponseFormatError, naming the page's title, if the reply is an HTML page.

        A bot challenge or a login page often comes with status 200; call this before
        reading a reply that should be JSON or a stream. Other replies are left unread.
        """
        if "html" not in self.content_type:
            return
        body = await self.read()
        raise ResponseFormatError(
            self.provider,
            f"the provider answered with {describe_body(body, self.content_type)} "
            "instead of a reply",
            body=body,
            advice="This is a page for browsers (a bot challenge or a login page): try again "
                   "later or from another network; if it persists, update the plugin.",
        )

    def _decode(self, line: bytes) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ResponseFormatError(self.provider, "a line of the reply is not UTF-8",
                                      body=line) from error

    @property
    def peer_address(self) -> str | None:
        """Return the IP address the reply came from (the proxy's, through one), if known."""
        connection = self._raw.connection
        peer = connection.transport.get_extra_info("peername") if (
            connection is not None and connection.transport is not None) else None
        return str(peer[0]) if isinstance(peer, tuple) and peer else None

    def release(self) -> None:
        """Close the connection unless the body was read to the end (then it is reused)."""
        raw = self._raw
        if raw.content.at_eof():
            raw.release()
        else:
            raw.close()


# The iterators below are objects rather than async generators on purpose: a parser that stops
# reading mid-body (at an SSE [DONE], say) leaves them behind, and an abandoned async
# generator makes asyncio schedule a task to finalize it (three per streamed call, one per
# layer), which cost short streamed calls about a fifth of their CPU time.

class _Chunks(AsyncIterator[bytes]):
    """The body of a response, chunk by chunk (HttpResponse.iter_chunks)."""

    __slots__ = ("_done", "_response")

    def __init__(self, response: HttpResponse) -> None:
        self._response = response
        self._done = False

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            chunk = await self._response._next_chunk()
        except BaseException:
            self._done = True  # as a generator would be once an error left it
            raise
        if not chunk:
            self._done = True
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Stop: iteration ends here (the connection is the response's to release)."""
        self._done = True


class _Lines(AsyncIterator[str]):
    """The body of a response, line by line (HttpResponse.iter_lines)."""

    __slots__ = ("_at", "_done", "_failure", "_ready", "_response", "_splitter")

    def __init__(self, response: HttpResponse) -> None:
        self._response = response
        self._splitter = LineSplitter(response._limits.max_event_bytes)
        # The lines of the latest chunk and the next one to deliver: a list, not a deque,
        # since a deque allocates a 64-slot block (~0.7 KiB) for every open stream.
        self._ready: list[bytes] = []
        self._at = 0
        self._failure: ResponseFormatError | None = None
        self._done = False

    async def __anext__(self) -> str:
        while self._at == len(self._ready):
            if self._failure is not None:
                failure, self._failure = self._failure, None
                raise failure
            if self._done:
                raise StopAsyncIteration
            # A fresh list before waiting: the delivered lines are not held while idle.
            ready: list[bytes] = []
            self._ready, self._at = ready, 0
            try:
                chunk = await self._response._next_chunk()
            except BaseException:
                self._done = True
                raise
            try:
                if chunk:
                    for line in self._splitter.feed(chunk):
                        ready.append(line)
                else:
                    self._done = True
                    ready.extend(self._splitter.close())
            except LineTooLongError as error:
                # The lines completed before the long one are still delivered first.
                self._done = True
                limit = self._response._limits.max_event_bytes
                self._failure = ResponseFormatError(
                    self._response.provider,
                    f"one line of the reply exceeds the limit of {limit} bytes",
                    advice="Raise Limits(max_event_bytes=...) if such events are expected.",
                )
                self._failure.__cause__ = error
        at = self._at
        self._at = at + 1
        try:
            return self._response._decode(self._ready[at])
        except ResponseFormatError:
            self._done = True
            self._ready, self._at = [], 0
            raise

    async def aclose(self) -> None:
        """Stop: iteration ends here (the connection is the response's to release)."""
        self._done = True
        self._ready, self._at = [], 0
        self._failure = None
