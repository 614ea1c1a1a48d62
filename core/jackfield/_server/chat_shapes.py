"""OpenAI's chat reply shapes: `chat.completion`, `chat.completion.chunk`, usage, and the
headers that report what a call accepted but did not do.

`usage` is always present: clients read it unconditionally (`llm --no-stream` fails without
it), so counts a provider did not give are estimated and marked `jackfield_estimated`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jackfield._engine.completion import Completion
from jackfield._secrets import mask_known
from jackfield._server.call import ChatCall
from jackfield._types.messages import Message
from jackfield._types.notices import CallWarning

__all__ = [
    "EMULATED_HEADER",
    "WARNINGS_HEADER",
    "chunk_object",
    "completion_object",
    "logprobs_asked",
    "logprobs_object",
    "notice_headers",
    "prompt_tokens",
    "usage_object",
    "warning_list",
]

WARNINGS_HEADER = "X-Jackfield-Warnings"
EMULATED_HEADER = "X-Jackfield-Emulated"
# Clients cap a reply's header block (h11: 16 KiB in all, aiohttp: 8 KiB per field); a long
# history can yield a warning per message, so the header lists what fits and counts the rest.
MAX_HEADER_CHARS = 4000
CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text with OpenAI's tokenizers
IMAGE_TOKENS = 85  # what OpenAI counts for one low-detail image: the least an image costs


def _tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


def _content_size(content: Any) -> tuple[int, int]:
    """Return (characters of text, images) of a message's content as the client sent it."""
    if isinstance(content, str):
        return len(content), 0
    chars = images = 0
    for part in content if isinstance(content, list) else ():
        if isinstance(part, Mapping):
            text = part.get("text")
            chars += len(text) if isinstance(text, str) else 0
            images += part.get("type") == "image_url"
    return chars, images


def prompt_tokens(call: ChatCall) -> int:
    """Estimate the prompt's tokens: its text, the tool calls it replays, the tools and the
    schema it sends (OpenAI counts those too), and each image at its least cost."""
    chars = images = 0
    for message in call.messages:
        if isinstance(message, Message):  # a codec's own, already checked
            chars += len(message.content) + sum(len(tool_call.name) + len(tool_call.arguments)
                                                for tool_call in message.tool_calls)
            images += len(message.images)
            continue
        if not isinstance(message, Mapping):
            continue
        text, pictures = _content_size(message.get("content"))
        chars, images = chars + text, images + pictures
        for tool_call in message.get("tool_calls") or ():
            chars += len(json.dumps(tool_call))
    for name in ("tools", "response_format"):
        if call.params.get(name) is not None:
            chars += len(json.dumps(call.params[name]))
    return _tokens(chars) + IMAGE_TOKENS * images


def _reply_tokens(reply: Completion) -> int:
    chars = len(reply.text) + len(reply.reasoning) + sum(
        len(call.name) + len(call.arguments) for call in reply.tool_calls)
    return _tokens(chars)


def usage_object(completion: Completion, call: ChatCall) -> dict[str, Any]:
    """Return OpenAI's usage object; counts the provider did not give are estimated."""
    usage = completion.usage
    replies = completion.choices or (completion,)
    given = usage.prompt_tokens if usage else None
    prompt = prompt_tokens(call) if given is None else given
    estimated = given is None
    if completion.choices:  # n replies: each one's own count, or its estimate
        counts = [reply.usage.completion_tokens if reply.usage else None for reply in replies]
    else:
        counts = [usage.completion_tokens if usage else None]
    estimated = estimated or None in counts
    completion_tokens = sum(_reply_tokens(reply) if count is None else count
                            for reply, count in zip(replies, counts, strict=True))
    total = prompt + completion_tokens
    if usage is not None and usage.total_tokens is not None and not (
            estimated or completion.choices):
        total = usage.total_tokens  # the provider's own, which may count more (reasoning)
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
            "total_tokens": total, "jackfield_estimated": estimated}


def _message(reply: Completion) -> dict[str, Any]:
    # OpenAI's content is null when the reply is only tool calls.
    content = None if reply.tool_calls and not reply.text else reply.text
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [tool_call.to_dict() for tool_call in reply.tool_calls]
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning  # the field most clients read
    return message


def warning_list(warnings: Iterable[CallWarning]) -> list[dict[str, str]]:
    """Return the warnings as JSON objects (param, message), masked as error text is."""
    return [{"param": warning.param, "message": mask_known(warning.message)}
            for warning in warnings]


def completion_object(completion: Completion, call: ChatCall, call_id: str, created: int,
                      warnings: Sequence[CallWarning]) -> dict[str, Any]:
    """Return a `chat.completion` for a finished reply: one choice per reply (n)."""
    replies = completion.choices or (completion,)
    asked = logprobs_asked(call)
    return {
        "id": call_id, "object": "chat.completion", "created": created,
        "model": completion.model, "provider": completion.provider,
        "choices": [{"index": index, "message": _message(reply),
                     "logprobs": logprobs_object(reply.logprobs) if asked else None,
                     "finish_reason": reply.finish_reason or "stop"}
                    for index, reply in enumerate(replies)],
        "usage": usage_object(completion, call),
        "jackfield_warnings": warning_list(warnings),
    }


def logprobs_asked(call: ChatCall) -> bool:
    """Return whether the call asked for logprobs: OpenAI sends them (and null) only then."""
    return call.logprobs


def logprobs_object(entries: Sequence[Any]) -> dict[str, Any]:
    """Return a choice's `logprobs`: OpenAI's {"content": [...]} of the provider's entries."""
    return {"content": list(entries)}


def chunk_object(call_id: str, created: int, model: str, delta: dict[str, Any],
                 finish_reason: str | None = None,
                 logprobs: Sequence[Any] | None = None) -> dict[str, Any]:
    """Return one `chat.completion.chunk` carrying delta (and log probabilities, if any)."""
    return {"id": call_id, "object": "chat.completion.chunk", "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta,
                         "logprobs": None if logprobs is None else logprobs_object(logprobs),
                         "finish_reason": finish_reason}]}


def notice_headers(warnings: Sequence[CallWarning], emulated: Sequence[str],
                   ) -> dict[str, str]:
    """Return the response headers naming the warnings (JSON, ASCII only) and what the
    core emulated; a header too long for clients lists what fits and counts the rest."""
    headers: dict[str, str] = {}
    if emulated:
        headers[EMULATED_HEADER] = ",".join(emulated)
    if not warnings:
        return headers
    entries = warning_list(warnings)
    shown: list[dict[str, Any]] = []
    size = 2
    for entry in entries:
        size += len(json.dumps(entry)) + 1
        if size > MAX_HEADER_CHARS:
            break
        shown.append(entry)
    left = len(entries) - len(shown)
    if left:
        shown.append({"param": None, "message": f"{left} more warning(s); the reply's "
                                                "jackfield_warnings lists them all."})
    # ensure_ascii: a header is Latin-1 on the wire; escapes keep any text readable as JSON.
    headers[WARNINGS_HEADER] = json.dumps(shown, ensure_ascii=True, separators=(",", ":"))
    return headers
