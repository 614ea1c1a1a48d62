"""Splitting a byte stream into lines and SSE data payloads, however the bytes were chunked."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterator

__all__ = ["LineSplitter", "LineTooLongError", "data_payload", "sse_data"]


class LineTooLongError(ValueError):
    """A line grew past the splitter's limit."""


class LineSplitter:
    """Feed bytes in any chunking; get the same complete lines out (\\n, \\r\\n or \\r ends)."""

    __slots__ = ("_buffer", "_max", "_pending_cr")

    def __init__(self, max_line_bytes: int) -> None:
        self._buffer = bytearray()
        self._max = max_line_bytes
        self._pending_cr = False  # a chunk ended in \r: a \n may follow in the next one

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Yield every line completed by data, without its line ending."""
        start = 0
        if self._pending_cr and data[:1] == b"\n":
            start = 1
        self._pending_cr = False
        buffer = self._buffer
        length = len(data)
        while start < length:
            nl = data.find(b"\n", start)
            cr = data.find(b"\r", start, nl if nl >= 0 else length)
            end = cr if cr >= 0 else nl
            if end < 0:
                buffer += data[start:]
                self._check(len(buffer))
                return
            self._check(len(buffer) + end - start)
            if buffer:
                buffer += data[start:end]
                line = bytes(buffer)
                buffer.clear()
            else:
                line = data[start:end]
            yield line
            if end == cr:
                if cr + 1 < length:
                    start = cr + 2 if data[cr + 1 : cr + 2] == b"\n" else cr + 1
                else:
                    self._pending_cr = True
                    start = length
            else:
                start = nl + 1

    def close(self) -> Iterator[bytes]:
        """Yield the last line if the stream did not end with a line break."""
        if self._buffer:
            line = bytes(self._buffer)
            self._buffer.clear()
            yield line

    def _check(self, size: int) -> None:
        if size > self._max:
            raise LineTooLongError(f"a line is longer than {self._max} bytes")


def data_payload(line: str) -> str | None:
    """Return the payload of an SSE `data:` line (one leading space removed), else None."""
    if not line.startswith("data:"):
        return None
    return line[6:] if line.startswith("data: ") else line[5:]


def sse_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """Yield the payload of every `data:` line as it arrives; other lines are skipped."""
    return _SseData(lines)


class _SseData(AsyncIterator[str]):
    """sse_data's iterator: an object, not an async generator, so that a parser leaving it at
    [DONE] does not make asyncio schedule a task to finalize it."""

    __slots__ = ("_done", "_lines")

    def __init__(self, lines: AsyncIterable[str]) -> None:
        self._lines = lines.__aiter__()
        self._done = False

    async def __anext__(self) -> str:
        if self._done:
            raise StopAsyncIteration
        try:
            while True:
                payload = data_payload(await self._lines.__anext__())
                if payload is not None:
                    return payload
        except BaseException:
            self._done = True
            raise

    async def aclose(self) -> None:
        """Stop: iteration ends here."""
        self._done = True
