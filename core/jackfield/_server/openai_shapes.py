"""OpenAI's wire shapes: request bodies in (checked), completions, chunks, models and images out.

Kept free of aiohttp so the translation can be read and tested on its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from jackfield._engine.completion import Completion
from jackfield._errors import InvalidRequestError
from jackfield._types.events import Image, Usage
from jackfield._types.specs import ModelInfo

__all__ = [
    "MAX_IMAGES",
    "ChatCall",
    "ImageCall",
    "chunk_object",
    "completion_id",
    "completion_object",
    "image_object",
    "model_object",
    "parse_chat_call",
    "parse_image_call",
    "usage_object",
]

MAX_IMAGES = 10  # OpenAI's own cap on `n` for image generation
# Keywords of Registry.complete() itself that would otherwise arrive as options: a client must
# not choose the server's proxy or timeout (and `self` would break the call).
RESERVED = frozenset({"proxy", "timeout", "self"})
# Standard OpenAI fields with no meaning for a jackfield provider; accepted and dropped.
IGNORED = frozenset({"user"})


@attrs.frozen
class ChatCall:
    """A checked /v1/chat/completions body: what to pass to Registry.complete()."""

    model: str
    messages: list[Any]
    stream: bool
    include_usage: bool
    options: dict[str, Any]


@attrs.frozen
class ImageCall:
    """A checked /v1/images/generations body."""

    model: str
    prompt: str
    n: int
    response_format: Literal["url", "b64_json"]
    options: dict[str, Any]


def _string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{name!r} is required and must be a non-empty string.")
    return value


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{name!r} must be true or false, got {value!r}.")
    return value


def _count(body: Mapping[str, Any], name: str, high: int) -> int:
    value = body.get(name)
    if value is None:
        return 1
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise InvalidRequestError(f"{name!r} must be an integer from 1 to {high}, got {value!r}.")
    return value


def _options(body: Mapping[str, Any], handled: set[str]) -> dict[str, Any]:
    """Return the remaining fields as provider options; JSON null means "not set"."""
    reserved = sorted(RESERVED & set(body))
    if reserved:
        raise InvalidRequestError(
            f"The field(s) {', '.join(reserved)} cannot be set by a client of this server.")
    return {name: value for name, value in body.items()
            if name not in handled and name not in IGNORED and value is not None}


def _messages(body: Mapping[str, Any]) -> list[Any]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequestError("'messages' is required and must be a list of messages.")
    # OpenAI's newer clients send "developer" where older ones sent "system".
    return [{**m, "role": "system"} if isinstance(m, dict) and m.get("role") == "developer"
            else m for m in messages]


def parse_chat_call(body: Mapping[str, Any]) -> ChatCall:
    """Check a chat completion body; unknown fields go on as options for the provider."""
    model = _string(body, "model")
    messages = _messages(body)
    stream = _flag(body, "stream")
    _count(body, "n", 1)  # one choice per request: n may only be 1
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise InvalidRequestError("'stream_options' must be an object.")
    include_usage = _flag(stream_options, "include_usage")
    options = _options(body, {"model", "messages", "stream", "n", "stream_options",
                              "max_completion_tokens"})
    if body.get("max_completion_tokens") is not None:
        # The newer name of max_tokens; providers declare the older one.
        if "max_tokens" in options:
            raise InvalidRequestError("Send max_tokens or max_completion_tokens, not both.")
        options["max_tokens"] = body["max_completion_tokens"]
    return ChatCall(model, messages, stream, include_usage, options)


def parse_image_call(body: Mapping[str, Any]) -> ImageCall:
    """Check an image generation body; unknown fields go on as options for the provider."""
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
        raise InvalidRequestError(
            f"'response_format' must be 'url' or 'b64_json', got {raw_format!r}.")
    options = _options(body, {"model", "prompt", "n", "response_format"})
    return ImageCall(model, prompt, n, response_format, options)


def completion_id() -> str:
    """Return a fresh id in OpenAI's style (chatcmpl-...)."""
    return f"chatcmpl-{uuid.uuid4().hex}"


def now() -> int:
    """Return the Unix time OpenAI puts in `created`."""
    return int(time.time())


def usage_object(usage: Usage | None) -> dict[str, int] | None:
    """Return OpenAI's usage object, or None when the provider reported no counts."""
    if usage is None:
        return None
    counts = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
              "total_tokens": usage.total_tokens}
    if counts["total_tokens"] is None and None not in (usage.prompt_tokens,
                                                       usage.completion_tokens):
        counts["total_tokens"] = (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)
    known = {name: value for name, value in counts.items() if value is not None}
    return known or None


def completion_object(completion: Completion, call_id: str, created: int) -> dict[str, Any]:
    """Return a `chat.completion` for a finished reply."""
    result: dict[str, Any] = {
        "id": call_id, "object": "chat.completion", "created": created,
        "model": completion.model, "provider": completion.provider,
        "choices": [{"index": 0, "logprobs": None,
                     "message": {"role": "assistant", "content": completion.text},
                     "finish_reason": completion.finish_reason or "stop"}],
    }
    usage = usage_object(completion.usage)
    if usage is not None:
        result["usage"] = usage
    return result


def chunk_object(call_id: str, created: int, model: str, delta: dict[str, Any],
                 finish_reason: str | None = None) -> dict[str, Any]:
    """Return one `chat.completion.chunk` carrying delta."""
    return {"id": call_id, "object": "chat.completion.chunk", "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None,
                         "finish_reason": finish_reason}]}


def model_object(model: ModelInfo) -> dict[str, Any]:
    """Return an OpenAI model object, plus jackfield's provider, kind, aliases and availability."""
    return {"id": model.id, "object": "model", "created": 0, "owned_by": model.provider,
            "provider": model.provider, "qualified_id": model.qualified_id, "kind": model.kind,
            "aliases": list(model.aliases), "available": model.available,
            "default": model.default}


def image_object(image: Image, response_format: Literal["url", "b64_json"]) -> dict[str, str]:
    """Return one entry of an images response; bytes-only images become data: URLs."""
    if response_format == "b64_json":
        if image.b64_json is None:
            raise ValueError("the image has no bytes")
        return {"b64_json": image.b64_json}
    if image.url is not None:
        return {"url": image.url}
    return {"url": f"data:{image.mime_type or 'image/png'};base64,{image.b64_json}"}
