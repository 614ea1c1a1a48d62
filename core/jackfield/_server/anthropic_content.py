"""Anthropic's `system` and `messages` (content blocks) as the core's Message objects.

A message of role "system" (instructions within the conversation, of text blocks) is a
system message where it stands.

A user turn's `tool_result` blocks become "tool" messages, in their order and before the
rest of the turn (OpenAI-protocol providers want each result right after the call it
answers); its text and images become one user message. An assistant turn's `tool_use`
blocks become its ToolCalls (the input object as JSON text). `is_error: true` is kept as
the result text's "Error: " prefix, the only place a chat-completions model can see it.
Images in a tool result go into a user message right after the results (a "tool" message
carries text only), and a warning says so. Thinking blocks of earlier turns and
`cache_control` hints are accepted and reported (once per call), not sent: the core's
Message has no place for either. Document, search-result, server-tool and other block
types are refused, naming the block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from jackfield._errors import InvalidRequestError
from jackfield._types.content import ImagePart, TextPart, ToolCall, check_image, image_from_url
from jackfield._types.messages import Message, Part
from jackfield._types.notices import CallWarning

__all__ = ["Notes", "bad", "conversation", "system_text"]

_USER_BLOCKS = ("text", "image", "tool_result")
_ASSISTANT_BLOCKS = ("text", "tool_use", "thinking", "redacted_thinking")
_ERROR_PREFIX = "Error: "


def bad(param: str, text: str) -> InvalidRequestError:
    """Return the 400 for param, its path in the message text too."""
    return InvalidRequestError(f"{param}: {text}", param=param)


class Notes:
    """What a request accepted but does not act on, each kind reported once per call."""

    def __init__(self) -> None:
        self.warnings: list[CallWarning] = []
        self._seen: set[str] = set()

    def once(self, param: str, message: str) -> None:
        """Add the warning for param unless one of it is there already."""
        if param not in self._seen:
            self._seen.add(param)
            self.warnings.append(CallWarning(param, message))

    def block_keys(self, block: Mapping[str, Any], allowed: Sequence[str], where: str,
                   what: str | None = None) -> None:
        """Refuse the unknown fields of a block (or of `what`: "a tool"); report a
        cache_control hint."""
        if block.get("cache_control") is not None:
            self.once("cache_control", "cache_control (prompt caching) was accepted but not "
                                       "acted on: the providers behind this server cache, or "
                                       "not, as they do.")
        # A field sent as null is not set: the SDK's `block.model_dump()` of a reply block,
        # replayed as history, carries the reply's own fields that way (toolset_name, ...).
        extra = sorted(key for key in set(block) - {"type", "cache_control", *allowed}
                       if block[key] is not None)
        if extra:
            what = what or f"a {block.get('type')!r} block"
            raise bad(f"{where}.{extra[0]}", f"is not a field this server takes in {what}.")


def _text(block: Mapping[str, Any], where: str, notes: Notes) -> str:
    notes.block_keys(block, ("text", "citations"), where)
    text = block.get("text")
    if not isinstance(text, str):
        raise bad(f"{where}.text", "must be a string.")
    if block.get("citations"):
        raise bad(f"{where}.citations", "citations are not supported by this server.")
    return text


def system_text(value: Any, notes: Notes, param: str = "system") -> str | None:
    """Return the system prompt (or a system message's) at param: a string, or its text
    blocks joined by newlines."""
    if value is None or isinstance(value, str):
        return value or None
    if not isinstance(value, list):
        raise bad(param, "must be a string or a list of text blocks.")
    texts = []
    for number, block in enumerate(value):
        where = f"{param}[{number}]"
        if not isinstance(block, Mapping) or block.get("type") != "text":
            raise bad(where, "must be a text block: {'type': 'text', 'text': ...}.")
        texts.append(_text(block, where, notes))
    return "\n".join(texts) or None


def _image(block: Mapping[str, Any], where: str, notes: Notes) -> ImagePart:
    notes.block_keys(block, ("source",), where)
    source = block.get("source")
    if not isinstance(source, Mapping):
        raise bad(f"{where}.source", "must be {'type': 'base64', 'media_type': ..., 'data': "
                                     "...} or {'type': 'url', 'url': ...}.")
    kind = source.get("type")
    if kind == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if not isinstance(media_type, str) or not isinstance(data, str):
            raise bad(f"{where}.source", "a base64 source needs 'media_type' and 'data' "
                                         "strings.")
        # The core's own check of a data: URL: type, size, valid base64, the bytes' magic.
        return image_from_url(f"data:{media_type};base64,{data}", f"{where}.source")
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str):
            raise bad(f"{where}.source.url", "must be a string.")
        return check_image(ImagePart(url=url), f"{where}.source.url")
    raise bad(f"{where}.source.type", f"must be 'base64' or 'url', got {kind!r} (file "
                                      "sources are not supported by this server).")


def _blocks(content: Any, where: str) -> list[Mapping[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise bad(where, "must be a string or a list of content blocks.")
    for number, block in enumerate(content):
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            raise bad(f"{where}[{number}]", "must be a content block with a 'type'.")
    return content


def _kind(block: Mapping[str, Any], allowed: Sequence[str], where: str, role: str) -> str:
    kind: str = block["type"]
    if kind not in allowed:
        raise bad(f"{where}.type", f"{kind!r} blocks are not supported in {role} turns by "
                                   f"this server; it takes {', '.join(allowed)}.")
    return kind


def _tool_result(block: Mapping[str, Any], where: str, called: set[str],
                 notes: Notes) -> tuple[Message, list[Part]]:
    """Return the "tool" message of a result, and the images it carried."""
    notes.block_keys(block, ("tool_use_id", "content", "is_error"), where)
    call_id = block.get("tool_use_id")
    if not isinstance(call_id, str) or not call_id:
        raise bad(f"{where}.tool_use_id", "must be the id of the tool_use it answers.")
    if call_id not in called:
        raise bad(f"{where}.tool_use_id", f"{call_id!r} answers no tool_use of an earlier "
                                          "assistant turn.")
    is_error = block.get("is_error")
    if is_error is not None and not isinstance(is_error, bool):
        raise bad(f"{where}.is_error", "must be true or false.")
    texts: list[str] = []
    images: list[Part] = []
    raw = block.get("content")
    for number, part in enumerate(_blocks("" if raw is None else raw, f"{where}.content")):
        at = f"{where}.content[{number}]"
        kind = _kind(part, ("text", "image"), at, "tool_result")
        if kind == "text":
            texts.append(_text(part, at, notes))
        else:
            images.append(_image(part, at, notes))
    text = "\n".join(texts)
    return Message("tool", _ERROR_PREFIX + text if is_error else text,
                   tool_call_id=call_id), images


def _user_turn(blocks: list[Mapping[str, Any]], where: str, called: set[str],
               notes: Notes) -> list[Message]:
    results: list[Message] = []
    parts: list[Part] = []
    for number, block in enumerate(blocks):
        at = f"{where}[{number}]"
        kind = _kind(block, _USER_BLOCKS, at, "user")
        if kind == "tool_result":
            result, images = _tool_result(block, at, called, notes)
            results.append(result)
            if images:
                notes.once("tool_result.content", "images in tool results were sent in a "
                                                  "user message after the results: a tool "
                                                  "message of a chat model takes text only.")
                parts += [TextPart(f"(images of tool result {result.tool_call_id})"), *images]
        elif kind == "text":
            parts.append(TextPart(_text(block, at, notes)))
        else:
            parts.append(_image(block, at, notes))
    messages = list(results)
    if parts:
        text = "".join(part.text for part in parts if isinstance(part, TextPart))
        has_images = any(isinstance(part, ImagePart) for part in parts)
        messages.append(Message("user", text, parts if has_images else ()))
    return messages


def _tool_use(block: Mapping[str, Any], where: str, notes: Notes) -> ToolCall:
    notes.block_keys(block, ("id", "name", "input", "caller"), where)
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input")
    if not isinstance(call_id, str) or not call_id:
        raise bad(f"{where}.id", "must be the call's id (a non-empty string).")
    if not isinstance(name, str) or not name:
        raise bad(f"{where}.name", "must be the tool's name.")
    if not isinstance(arguments, Mapping):
        raise bad(f"{where}.input", "must be an object (the tool's arguments).")
    return ToolCall(call_id, name, json.dumps(arguments))


def _assistant_turn(blocks: list[Mapping[str, Any]], where: str, called: set[str],
                    notes: Notes) -> list[Message]:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for number, block in enumerate(blocks):
        at = f"{where}[{number}]"
        kind = _kind(block, _ASSISTANT_BLOCKS, at, "assistant")
        if kind == "text":
            texts.append(_text(block, at, notes))
        elif kind == "tool_use":
            calls.append(_tool_use(block, at, notes))
        else:
            notes.block_keys(block, ("thinking", "signature", "data"), at)
            notes.once("thinking_blocks", "thinking blocks of earlier turns were accepted but "
                                          "not sent: providers behind this server take no "
                                          "reasoning in the history.")
    called.update(call.id for call in calls)
    text = "".join(texts)
    if not (text or calls):
        return []  # only thinking: nothing a provider can be sent
    return [Message("assistant", text, tool_calls=calls)]


def conversation(value: Any, notes: Notes) -> list[Message]:
    """Return the messages as core Messages (see the module docstring)."""
    if not isinstance(value, list) or not value:
        raise bad("messages", "is required and must be a non-empty list of messages.")
    messages: list[Message] = []
    called: set[str] = set()
    for number, item in enumerate(value):
        where = f"messages[{number}]"
        if not isinstance(item, Mapping):
            raise bad(where, "must be {'role': 'user' or 'assistant', 'content': ...}.")
        extra = sorted(set(item) - {"role", "content"})
        if extra:
            raise bad(f"{where}.{extra[0]}", "is not a field of a message.")
        role = item.get("role")
        blocks = _blocks(item.get("content"), f"{where}.content")
        if role == "user":
            messages += _user_turn(blocks, f"{where}.content", called, notes)
        elif role == "assistant":
            messages += _assistant_turn(blocks, f"{where}.content", called, notes)
        elif role == "system":  # instructions within the conversation (Claude Code sends them)
            text = system_text(item.get("content"), notes, f"{where}.content")
            messages += [Message("system", text)] if text else []
        else:
            raise bad(f"{where}.role", f"must be 'user', 'assistant' or 'system', got "
                                       f"{role!r}.")
    if not messages:
        raise bad("messages", "holds no text, image or tool block to send.")
    return messages
