"""`POST /v1/embeddings`: a unit vector per input, derived from the text by hashing, so the
same text always gets the same vector; `dimensions` and both encodings honoured."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

from aiohttp import web

from .models import model_for
from .validation import Refusal, json_body, refusals, require

__all__ = ["embed_text", "embeddings"]

_FIELDS = {"model": "string", "input": "any", "dimensions": "integer",
           "encoding_format": "string", "user": "string"}
_MAX_INPUTS = 2048


def embed_text(text: str, dimensions: int) -> list[float]:
    """Return the deterministic unit vector of text (float32-exact values)."""
    raw = bytearray()
    counter = 0
    while len(raw) < 4 * dimensions:
        raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    # Centred 16-bit values, then scaled to unit length.
    values = [(int.from_bytes(raw[2 * i:2 * i + 2], "little") - 32767.5) / 32768
              for i in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f",
                                                             *(v / norm for v in values))))


def _inputs(value: Any) -> list[str]:
    """Return the texts of `input`: a string or a list of strings (token arrays are hashed
    as their JSON text, as they would be embedded as tokens)."""
    if isinstance(value, str):
        value = [value]
    require(isinstance(value, list) and 0 < len(value) <= _MAX_INPUTS,
            f"Invalid 'input': expected a string or an array of 1 to {_MAX_INPUTS} strings.",
            param="input")
    texts = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            return [str(value)]  # one input given as a token array
        require(isinstance(item, str | list), "Invalid 'input': expected strings or token "
                                              "arrays.", param="input")
        text = item if isinstance(item, str) else str(item)
        require(bool(text), "'$.input' is invalid. Please check the API reference: "
                            "https://platform.openai.com/docs/api-reference.", param="input")
        texts.append(text)
    return texts


@refusals
async def embeddings(request: web.Request) -> web.Response:
    """POST /v1/embeddings."""
    body = await json_body(request, _FIELDS, ("model", "input"))
    model = model_for(request, body["model"], "embedding")
    texts = _inputs(body["input"])
    encoding = body.get("encoding_format") or "float"
    require(encoding in ("float", "base64"), f"Invalid value: '{encoding}'. Supported values "
            "are: 'float' and 'base64'.", param="encoding_format", code="invalid_value")
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if not model.resizable:
            raise Refusal(400, "This model does not support specifying dimensions.",
                          param="dimensions")
        require(1 <= dimensions <= model.dimensions, f"Invalid 'dimensions': expected a value "
                f"from 1 to {model.dimensions}.", param="dimensions", code="invalid_value")
    size = dimensions or model.dimensions
    data = []
    for index, text in enumerate(texts):
        vector = embed_text(text, size)
        value: Any = vector if encoding == "float" else base64.b64encode(
            struct.pack(f"<{size}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(len(text.split()) for text in texts)
    return web.json_response({"object": "list", "data": data, "model": model.id,
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
