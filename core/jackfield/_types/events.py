"""Unified events: what a provider's response parser yields, whatever the wire format."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

__all__ = ["Chunk", "Event", "Finish", "Image", "Logprobs", "ReasoningDelta", "TextDelta",
           "ToolCallDelta", "Usage", "Vector"]


@attrs.frozen
class TextDelta:
    """A piece of reply text, in arrival order; pieces keep their own spaces."""

    text: str


@attrs.frozen
class ReasoningDelta:
    """A piece of the model's reasoning (its "thinking"), kept apart from the answer text."""

    text: str


@attrs.frozen
class ToolCallDelta:
    """A piece of a tool call, streamed as OpenAI streams them.

    `index` tells calls apart; the first piece of a call carries its `id` and `name`, and
    every piece may carry a fragment of the JSON `arguments`. A non-streaming parser yields
    one delta per call with everything set.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@attrs.frozen
class Image:
    """A generated image: its URL and/or its bytes with their MIME type."""

    url: str | None = None
    data: bytes | None = attrs.field(default=None, repr=lambda d: f"<{len(d)} bytes>")
    mime_type: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.url is None and self.data is None:
            raise ValueError("an Image needs a url or data")

    @property
    def b64_json(self) -> str | None:
        """Return the bytes base64-encoded, as OpenAI's b64_json, or None without bytes."""
        return None if self.data is None else base64.b64encode(self.data).decode("ascii")

    @property
    def extension(self) -> str:
        """Return a file extension that fits the MIME type (".png" when unknown)."""
        known = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
                 "image/gif": ".gif"}
        return known.get((self.mime_type or "").split(";")[0].strip(), ".png")

    def save(self, path: str | Path) -> Path:
        """Write the image bytes to path and return it; raises ValueError without bytes."""
        if self.data is None:
            raise ValueError(f"this image has no bytes, only a URL: {self.url}")
        target = Path(path)
        target.write_bytes(self.data)
        return target


@attrs.frozen
class Logprobs:
    """The log probabilities of some reply tokens, as OpenAI's `choices[].logprobs.content`
    entries give them (token, logprob, bytes, top_logprobs), for a call that asked for them."""

    content: tuple[Any, ...] = attrs.field(converter=tuple)


def _floats(values: Iterable[float]) -> tuple[float, ...]:
    # Typed: with `converter=tuple`, mypy --strict refuses every typed Vector(i, [0.1, ...]).
    return tuple(values)


@attrs.frozen
class Vector:
    """One embedding of an embedding call: the vector of input number `index` (any iterable
    of floats: a list, a tuple, an array)."""

    index: int
    values: tuple[float, ...] = attrs.field(converter=_floats, repr=lambda v: f"<{len(v)} floats>")


@attrs.frozen
class Usage:
    """Token counts, when the provider reports them."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


@attrs.frozen
class Finish:
    """Why the reply ended ("stop", "length", ...), as the provider said it."""

    reason: str


Event = TextDelta | ReasoningDelta | ToolCallDelta | Image | Logprobs | Vector | Usage | Finish


@attrs.frozen
class Chunk:
    """One piece of a streamed reply as the caller sees it: text, reasoning, a piece of a
    tool call, or an image."""

    text: str = ""
    image: Image | None = None
    reasoning: str = ""
    tool_call: ToolCallDelta | None = None
    logprobs: tuple[Any, ...] = ()
