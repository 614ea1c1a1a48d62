"""`stop` applied by the core, for a model that cannot: the reply is cut before the first
stop string, streaming-safe (only text that may be the start of a stop string is held back),
and the upstream connection is closed as soon as one is seen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from jackfield._types.events import Finish, TextDelta

__all__ = ["held_back", "stop_stage"]


def held_back(text: str, stops: Sequence[str]) -> int:
    """Return how many characters at the end of text could begin a stop string."""
    keep = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), keep, -1):
            if text.endswith(stop[:size]):
                keep = size
                break
    return keep


def stop_stage(stops: Sequence[str]) -> Any:
    """Return an event transform that ends the reply at the first of stops."""

    async def stage(events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        held = ""
        async for event in events:
            if not isinstance(event, TextDelta):
                if held and isinstance(event, Finish):
                    yield TextDelta(held)  # the reply ended: what was held back is text
                    held = ""
                yield event
                continue
            text = held + event.text
            hits = [found for stop in stops if (found := text.find(stop)) >= 0]
            if hits:
                if min(hits):
                    yield TextDelta(text[:min(hits)])
                yield Finish("stop")
                return  # the rest is not wanted: leaving closes the upstream connection
            keep = held_back(text, stops)
            held = text[len(text) - keep:] if keep else ""
            if len(text) > keep:
                yield TextDelta(text[:len(text) - keep])
        if held:
            yield TextDelta(held)

    return stage
