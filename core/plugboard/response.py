"""The HTTP response a provider's parser reads: bounded, with transport errors already typed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ProviderUnavailableError, ResponseFormatError, StalledResponseError
from .limits import Limits
from .lines import LineSplitter, LineTooLongError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["HttpResponse"]


class HttpResponse:
    """A 2xx response being read: chunks, lines, text or JSON, within the registry's limits."""

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

    @property
    def content_type(self) -> str:
        """Return the media type without parameters ("text/event-stream", say)."""
        return self._raw.content_type

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives, raising typed errors for drops, stalls and excess."""
        import aiohttp

        content = self._raw.content
        while True:
            try:
                chunk = await content.readany()
            except (TimeoutError, aiohttp.ServerTimeoutError) as error:
                raise StalledResponseError(
                    self.provider,
                    f"the reply stalled: no data for {self._read_idle:g} s",
                ) from error
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as error:
                raise ProviderUnavailableError(
                    self.provider, f"the connection dropped mid-reply ({type(error).__name__})"
                ) from error
            if not chunk:
                return
            self._received += len(chunk)
            if self._received > self._limits.max_reply_bytes:
                raise ResponseFormatError(
                    self.provider,
                    f"the reply exceeds the limit of {self._limits.max_reply_bytes} bytes",
                    advice="Raise Limits(max_reply_bytes=...) if such replies are expected.",
                )
            yield chunk

    async def iter_lines(self) -> AsyncIterator[str]:
        """Yield each line of the body, decoded as UTF-8, as soon as it is complete."""
        splitter = LineSplitter(self._limits.max_event_bytes)
        try:
            async for chunk in self.iter_chunks():
                for line in splitter.feed(chunk):
                    yield self._decode(line)
            for line in splitter.close():
                yield self._decode(line)
        except LineTooLongError as error:
            raise ResponseFormatError(
                self.provider,
                f"one line of the reply exceeds the limit of {self._limits.max_event_bytes} bytes",
                advice="Raise Limits(max_event_bytes=...) if such events are expected.",
            ) from error

    async def read(self) -> bytes:
        """Return the whole body (bounded by the reply limit)."""
        parts = [chunk async for chunk in self.iter_chunks()]
        return b"".join(parts)

    async def json(self) -> Any:
        """Return the body parsed as JSON; a body that is not JSON is a ResponseFormatError."""
        body = await self.read()
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ResponseFormatError(
                self.provider, "expected a JSON reply but got something else", body=body
            ) from error

    def _decode(self, line: bytes) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ResponseFormatError(self.provider, "a line of the reply is not UTF-8",
                                      body=line) from error

    def release(self) -> None:
        """Close the connection unless the body was read to the end (then it is reused)."""
        raw = self._raw
        if raw.content.at_eof():
            raw.release()
        else:
            raw.close()

