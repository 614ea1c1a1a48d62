"""POST /v1/embeddings: OpenAI's embedding request checked, `registry.embed()`, and its reply
as OpenAI's list of `embedding` objects, as floats or base64.

The openai SDK asks for base64 unless told otherwise and decodes it as little-endian
float32s (numpy's frombuffer, or array("f")), so that is what base64 means here too.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
from aiohttp import web

from jackfield._engine.embedding import Embeddings
from jackfield._errors import InvalidRequestError, ResponseFormatError
from jackfield._server.chat_shapes import CHARS_PER_TOKEN, notice_headers, warning_list
from jackfield._types.notices import CallWarning

__all__ = ["EmbeddingCall", "embedding_object", "parse_embedding_call"]

EncodingFormat = Literal["float", "base64"]
TOKEN_IDS = ("'input' holds token ids, but this server embeds text only: send the texts "
             "themselves (langchain-openai's OpenAIEmbeddings sends token ids unless "
             "check_embedding_ctx_length=False).")
# Fields of OpenAI's request the server reads itself; any other goes to the provider as
# one of its options, which the core checks (and refuses when unknown).
OWN_FIELDS = {"model", "input", "encoding_format", "dimensions", "user"}
RESERVED = {"timeout", "proxy", "self", "inputs"}


@attrs.frozen
class EmbeddingCall:
    """A checked /v1/embeddings body: what to pass to Registry.embed()."""

    model: str
    inputs: tuple[str, ...]
    encoding_format: EncodingFormat
    dimensions: Any
    options: dict[str, Any]
    warnings: tuple[CallWarning, ...] = ()


def _bad(param: str, text: str) -> InvalidRequestError:
    return InvalidRequestError(text, param=param)


def _inputs(value: Any) -> tuple[str, ...]:
    """Return the texts; token ids (a list of ints, or of lists of ints) are refused."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise _bad("input", "'input' is required: a string or a list of strings.")
    if value and all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        raise _bad("input", TOKEN_IDS)
    for number, item in enumerate(value):
        if isinstance(item, list):
            raise _bad(f"input[{number}]", TOKEN_IDS)
        if not isinstance(item, str):
            raise _bad(f"input[{number}]", f"input[{number}] must be a string, got "
                                          f"{type(item).__name__}.")
    return tuple(value)  # emptiness, count and each text are the core's checks


def parse_embedding_call(body: Mapping[str, Any]) -> EmbeddingCall:
    """Check an embedding body's own fields; the rest go to the provider as options."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("model", "'model' is required and must be a non-empty string.")
    inputs = _inputs(body.get("input"))
    raw_format = body.get("encoding_format")
    encoding: EncodingFormat
    if raw_format is None or raw_format == "float":
        encoding = "float"
    elif raw_format == "base64":
        encoding = "base64"
    else:
        raise _bad("encoding_format", f"'encoding_format' must be 'float' or 'base64', got "
                                      f"{raw_format!r}.")
    warnings = []
    if body.get("user") is not None:
        warnings.append(CallWarning("user", "user was accepted but not acted on: this server "
                                            "does not pass it on."))
    reserved = sorted(RESERVED & set(body))
    if reserved:
        raise _bad(reserved[0], f"{reserved[0]!r} cannot be set by a client of this server.")
    options = {name: value for name, value in body.items()
               if name not in OWN_FIELDS and value is not None}
    return EmbeddingCall(model, inputs, encoding, body.get("dimensions"), options,
                         tuple(warnings))


def _base64(provider: str, values: Sequence[float]) -> str:
    try:
        packed = struct.pack(f"<{len(values)}f", *values)
    except (OverflowError, struct.error):
        raise ResponseFormatError(provider, "the embedding reply holds a value too large "
                                  "for base64's float32s",
                                  advice="Ask with encoding_format 'float'.") from None
    return base64.b64encode(packed).decode("ascii")


def _usage(embeddings: Embeddings, call: EmbeddingCall) -> dict[str, Any]:
    """Return OpenAI's usage; counts the provider did not give are estimated and marked."""
    usage = embeddings.usage
    given = usage.prompt_tokens if usage else None
    prompt = given if given is not None else sum(
        math.ceil(len(text) / CHARS_PER_TOKEN) for text in call.inputs)
    total = usage.total_tokens if usage and usage.total_tokens is not None else prompt
    return {"prompt_tokens": prompt, "total_tokens": total,
            "jackfield_estimated": given is None}


def embedding_object(embeddings: Embeddings, call: EmbeddingCall) -> dict[str, Any]:
    """Return OpenAI's embedding reply: {"object": "list", "data": [...], "model", "usage"}."""
    data = []
    for index, vector in enumerate(embeddings.vectors):
        value: Any = (_base64(embeddings.provider, vector) if call.encoding_format == "base64"
                      else [float(v) for v in vector])
        data.append({"object": "embedding", "index": index, "embedding": value})
    return {"object": "list", "data": data, "model": embeddings.model,
            "provider": embeddings.provider, "usage": _usage(embeddings, call),
            "jackfield_warnings": warning_list(call.warnings)}


def embedding_response(embeddings: Embeddings, call: EmbeddingCall) -> web.Response:
    """Return the reply with the warning header chat replies have."""
    return web.json_response(embedding_object(embeddings, call),
                             headers=notice_headers(call.warnings, ()))
