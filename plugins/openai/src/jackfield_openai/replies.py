"""Reading image generations and embeddings replies, and the `GET /models` listing."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jackfield.provider import (
    Capabilities,
    CompletionRequest,
    EmbeddingRequest,
    Event,
    Finish,
    HttpResponse,
    Image,
    ModelSpec,
    Vector,
    image_urls,
)

from .chat import reply_error, reply_object, usage_of
from .spec import chat_capable, guess_kind

if TYPE_CHECKING:
    from jackfield.provider import Kind, ProviderTransport

__all__ = ["image_mime", "model_specs", "parse_embeddings", "parse_images", "vector_values"]

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
_KINDS: tuple[Kind, ...] = ("chat", "image", "embedding")
_CAPABILITY_FLAGS = ("tools", "image_input", "json_object", "json_schema", "stop", "seed",
                     "reasoning", "logprobs")


def image_mime(data: bytes) -> str | None:
    """Return the MIME type the bytes' magic number names (PNG, JPEG, GIF, WebP), else None."""
    for magic, mime_type in _MAGIC:
        if data.startswith(magic):
            return mime_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


async def parse_images(request: CompletionRequest, response: HttpResponse,
                       transport: ProviderTransport) -> AsyncIterator[Event]:
    """Yield every image of an images reply: base64 ones decoded, URLs downloaded."""
    provider = request.provider
    data = await reply_object(provider, response, "images")
    entries = data.get("data")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise reply_error(provider, "the images reply has no 'data' list", data)
    if entries and all(isinstance(entry.get("b64_json"), str) for entry in entries):
        for entry in entries:
            try:
                raw = base64.b64decode(entry["b64_json"], validate=True)
            except binascii.Error as error:
                raise reply_error(provider, "an image's b64_json is not base64") from error
            mime_type = image_mime(raw)
            if mime_type is None:
                raise reply_error(provider, f"a b64_json image ({len(raw)} bytes) is not a "
                                  "PNG, JPEG, WebP or GIF")
            yield Image(data=raw, mime_type=mime_type)
    else:
        # image_urls raises ResponseFormatError when no entry has a URL (nothing is dropped).
        for url in image_urls(provider, data, response.url):
            download = await transport.get(url)
            mime_type = image_mime(download.data)
            if mime_type is None:  # type and size only: it may be a page not to be quoted
                raise reply_error(provider, f"the image download is not an image "
                                  f"({download.summary})")
            yield Image(url=url, data=download.data, mime_type=mime_type)
    yield Finish("stop")


def vector_values(provider: str, value: Any, raw: Any) -> tuple[float, ...]:
    """Return an embedding's numbers: a JSON list of floats, or base64 of little-endian
    float32 (encoding_format="base64")."""
    if isinstance(value, str):
        try:
            packed = base64.b64decode(value, validate=True)
        except binascii.Error as error:
            raise reply_error(provider, "a base64 embedding is not base64") from error
        if len(packed) % 4:
            raise reply_error(provider, f"a base64 embedding has {len(packed)} bytes, not a "
                              "whole number of float32 values")
        return struct.unpack(f"<{len(packed) // 4}f", packed)
    if isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                       and math.isfinite(v) for v in value):
        return tuple(float(v) for v in value)
    raise reply_error(provider, "an embedding is neither a list of numbers nor base64", raw)


async def parse_embeddings(request: EmbeddingRequest, response: HttpResponse
                           ) -> AsyncIterator[Event]:
    """Yield one Vector per `data[]` entry (by its `index`), then the usage."""
    provider = request.provider
    data = await reply_object(provider, response, "embeddings")
    entries = data.get("data")
    if not isinstance(entries, list):
        raise reply_error(provider, "the embeddings reply has no 'data' list", data)
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise reply_error(provider, "an embeddings entry is not an object", data)
        index = entry.get("index", position)
        if not isinstance(index, int) or isinstance(index, bool):
            raise reply_error(provider, "an embeddings entry has no integer 'index'", data)
        values = vector_values(provider, entry.get("embedding"), data)
        # attrs' converter=tuple types the field Iterable[_T_co]: a core typing gap
        yield Vector(index, values)
    if data.get("usage") is not None:
        yield usage_of(provider, data["usage"], data)


def _capabilities(value: Any) -> Capabilities:
    """Return jackfield's own capabilities object (what `jackfield serve` lists) as it says;
    anything else (OpenAI lists none) is unknown: the server decides."""
    if not isinstance(value, Mapping):
        return Capabilities.unknown()
    flags = {name: value.get(name) for name in _CAPABILITY_FLAGS}
    sampling = value.get("sampling")
    if not all(flag is None or isinstance(flag, bool) for flag in flags.values()) or not (
            sampling is None or (isinstance(sampling, list)
                                 and all(isinstance(s, str) for s in sampling))):
        return Capabilities.unknown()
    try:
        return Capabilities(**flags, sampling=sampling)
    except ValueError:  # a sampling name this core does not know: let the server decide
        return Capabilities.unknown()


def _model_spec(entry: Mapping[str, Any]) -> ModelSpec:
    model_id = entry["id"]
    kind = entry.get("kind")
    kind = kind if kind in _KINDS else guess_kind(model_id)
    available = entry.get("available")
    if not isinstance(available, bool):  # not jackfield's own listing: guess from the id
        available = kind != "chat" or chat_capable(model_id)
    return ModelSpec(model_id, kind=kind, available=available,
                     capabilities=_capabilities(entry.get("capabilities")))


def _entries(provider: str, document: Any) -> Iterator[Mapping[str, Any]]:
    # OpenAI's {"object": "list", "data": [...]}; a bare list is taken too (some proxies).
    entries = document.get("data") if isinstance(document, Mapping) else document
    if not isinstance(entries, list):
        raise reply_error(provider, "the model list has no 'data' list", document)
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str) \
                or not entry["id"].strip():
            raise reply_error(provider, "a model list entry has no string 'id'", entry)
        yield entry


def model_specs(provider: str, document: Any) -> list[ModelSpec]:
    """Return the models a `GET /models` reply lists, each id once (the first entry wins:
    `jackfield serve` lists an id once per provider that serves it, and routes it itself).
    Route groups it lists (`members`) are models there too, and are kept."""
    specs: dict[str, ModelSpec] = {}
    for entry in _entries(provider, document):
        specs.setdefault(entry["id"], _model_spec(entry))
    return list(specs.values())
