"""What a call returns: a Completion, or a CompletionStream of chunks that ends in one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType

import attrs

from jackfield._errors import JackfieldError
from jackfield._types.events import Chunk, Event, Finish, Image, TextDelta, Usage

__all__ = ["Completion", "CompletionBuilder", "CompletionStream"]


@attrs.frozen
class Completion:
    """A finished reply: its text (stripped), images, finish reason, usage, model and provider."""

    text: str
    images: tuple[Image, ...] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    provider: str = ""


class CompletionBuilder:
    """Accumulates events into a Completion."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.images: list[Image] = []
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model = ""
        self.provider = ""

    def add(self, event: Event) -> Chunk | None:
        """Record event; return the chunk the caller should see, if it is content."""
        if isinstance(event, TextDelta):
            self.parts.append(event.text)
            return Chunk(text=event.text)
        if isinstance(event, Image):
            self.images.append(event)
            return Chunk(image=event)
        if isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Usage):
            self.usage = event
        return None

    def build(self) -> Completion:
        """Return the Completion of everything added so far."""
        return Completion(
            text="".join(self.parts).strip(), images=tuple(self.images),
            finish_reason=self.finish_reason, usage=self.usage, model=self.model,
            provider=self.provider,
        )


class CompletionStream:
    """Chunks of a reply as they arrive; leave early with `break` + aclose() or `async with`.

    Nothing is sent until the first chunk is awaited, so a stream that is never iterated
    holds no connection.
    """

    def __init__(self, events: AsyncIterator[tuple[str, str, Event]]) -> None:
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
