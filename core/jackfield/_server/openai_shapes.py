"""OpenAI's wire shapes on the way in (request bodies, checked), and images out.

The chat reply shapes are in chat_shapes.py, the model objects in model_list.py. Kept free
of aiohttp so the translation can be read and tested on its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from jackfield._errors import InvalidRequestError
from jackfield._server.call import ChatCall
from jackfield._types.events import Image
from jackfield._types.notices import CallWarning

__all__ = [
    "MAX_IMAGES",
    "ImageCall",
    "call_params",
    "completion_id",
    "image_object",
    "now",
    "parse_chat_call",
    "parse_image_call",
    "stream_options",
]

MAX_IMAGES = 10  # OpenAI's own cap on `n` for image generation
# Keywords of Registry.complete() itself that would otherwise arrive as parameters: a client
# must not choose the server's proxy or timeout (and `self` would break the call).
RESERVED = {
    "proxy": "the server's proxy is its own setting",
    "timeout": "the server's timeouts are its own settings",
    "self": "it is no field of OpenAI's API",
    # What the server's operator decides for every client: whether warnings become errors,
    # and whether a model without native tools or JSON gets them described in its prompt.
    "strict": "strict mode is the server's setting (jackfield serve --strict)",
    "prompted": "prompted tools and JSON are the server's setting (jackfield serve "
                "--prompted tools,json)",
}


@attrs.frozen
class ImageCall:
    """A checked /v1/images/generations body."""

    model: str
    prompt: str
    n: int
    response_format: Literal["url", "b64_json"]
    params: dict[str, Any]


def _bad(param: str, text: str) -> InvalidRequestError:
    return InvalidRequestError(text, param=param)


def _string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _bad(name, f"{name!r} is required and must be a non-empty string.")
    return value


def _flag(body: Mapping[str, Any], name: str, where: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(where, f"{where!r} must be true or false, got {value!r}.")
    return value


def _count(body: Mapping[str, Any], name: str, high: int) -> int:
    value = body.get(name)
    if value is None:
        return 1
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise _bad(name, f"{name!r} must be an integer from 1 to {high}, got {value!r}.")
    return value


def call_params(body: Mapping[str, Any], handled: set[str]) -> dict[str, Any]:
    """Return the remaining fields as complete()'s parameters; JSON null means "not set"."""
    reserved = sorted(set(RESERVED) & set(body))
    if reserved:
        name = reserved[0]
        raise _bad(name, f"{name!r} cannot be set by a client of this server: "
                         f"{RESERVED[name]}.")
    return {name: value for name, value in body.items()
            if name not in handled and value is not None}


def stream_options(body: Mapping[str, Any], stream: bool,
                    warnings: list[CallWarning]) -> bool:
    """Return include_usage; what else stream_options asks is reported, not done."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, Mapping):
        raise _bad("stream_options", "'stream_options' must be an object.")
    include_usage = _flag(options, "include_usage", "stream_options.include_usage")
    if not stream:
        warnings.append(CallWarning("stream_options", "stream_options applies to streamed "
                                                      "replies only; this one is not "
                                                      "streamed."))
        return False
    for key in sorted(set(options) - {"include_usage"}):
        if options[key] is not None:
            warnings.append(CallWarning(f"stream_options.{key}", f"stream_options.{key} was "
                                        "accepted but not acted on: this server does not "
                                        "support it."))
    return include_usage


def parse_chat_call(body: Mapping[str, Any]) -> ChatCall:
    """Check a chat completion body's own fields; the rest go to the core as parameters.

    The server does stream_options itself: the usage chunk is its own, so the field is not
    handed on (a provider would only be reported as not using it).
    """
    model = _string(body, "model")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise _bad("messages", "'messages' is required and must be a list of messages.")
    stream = _flag(body, "stream", "stream")
    warnings: list[CallWarning] = []
    include_usage = stream_options(body, stream, warnings)
    params = call_params(body, {"model", "messages", "stream", "stream_options"})
    return ChatCall(model, messages, stream, params, tuple(warnings), include_usage)


def parse_image_call(body: Mapping[str, Any]) -> ImageCall:
    """Check an image generation body; the rest (size, quality, style, user, a provider's
    own options) go to the core, which sends or reports each."""
    model = _string(body, "model")
    prompt = _string(body, "prompt")
    n = _count(body, "n", MAX_IMAGES)
    raw_format = body.get("response_format")
    response_format: Literal["url", "b64_json"]
    if raw_format is None or raw_format == "url":
        response_format = "url"
    elif raw_format == "b64_json":
        response_format = "b64_json"
    else:
        raise _bad("response_format",
                   f"'response_format' must be 'url' or 'b64_json', got {raw_format!r}.")
    if _flag(body, "stream", "stream"):
        raise _bad("stream", "Images are not streamed by this server; leave 'stream' out.")
    if "messages" in body:
        raise _bad("messages", "'messages' is no field of an image request: describe the "
                               "image in 'prompt'.")
    params = call_params(body, {"model", "prompt", "n", "response_format", "stream"})
    return ImageCall(model, prompt, n, response_format, params)


def completion_id() -> str:
    """Return a fresh id in OpenAI's style (chatcmpl-...)."""
    # 32 random hex digits, as uuid4().hex gave, without building a UUID for every reply.
    return f"chatcmpl-{os.urandom(16).hex()}"


def now() -> int:
    """Return the Unix time OpenAI puts in `created`."""
    return int(time.time())


def image_object(image: Image, response_format: Literal["url", "b64_json"]) -> dict[str, str]:
    """Return one entry of an images response; bytes-only images become data: URLs."""
    if response_format == "b64_json":
        if image.b64_json is None:
            raise ValueError("the image has no bytes")
        return {"b64_json": image.b64_json}
    if image.url is not None:
        return {"url": image.url}
    return {"url": f"data:{image.mime_type or 'image/png'};base64,{image.b64_json}"}
