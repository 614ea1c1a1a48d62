"""The core's messages as the Messages API takes them: the system messages joined into
`system`, every other turn a list of content blocks, the turns alternating.

- text and image parts become `text` and `image` blocks (bytes as a base64 `source`, an
  http(s) link as a `url` source); a speaker's `name` leads the first text ("Alice: ...");
- an assistant's tool calls become `tool_use` blocks (their arguments a JSON object);
- each `tool` message becomes a `tool_result` block in a user turn: consecutive results
  share one turn, ahead of any user text that follows them, as the API requires;
- consecutive turns of one role are merged into one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from jackfield.provider import ImagePart, InvalidRequestError, Message, TextPart

__all__ = ["IMAGE_TYPES", "convert"]

# The image types the Messages API accepts.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def _image(part: ImagePart, where: str) -> dict[str, Any]:
    if part.data is None:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    if part.mime_type not in IMAGE_TYPES:
        raise InvalidRequestError(f"{where}: Anthropic takes {', '.join(IMAGE_TYPES)} "
                                  f"images, not {part.mime_type}: convert it first.",
                                  param=where)
    return {"type": "image", "source": {"type": "base64", "media_type": part.mime_type,
                                        "data": base64.b64encode(part.data).decode("ascii")}}


def _content(message: Message, where: str) -> list[dict[str, Any]]:
    """Return the text and image blocks of a message, the speaker's name leading."""
    blocks: list[dict[str, Any]] = []
    parts = message.parts or (TextPart(message.content),)
    for number, part in enumerate(parts):
        if isinstance(part, ImagePart):
            blocks.append(_image(part, f"{where}.content[{number}]"))
        elif part.text:  # the API refuses an empty text block
            blocks.append({"type": "text", "text": part.text})
    if message.name:
        first = next((block for block in blocks if block["type"] == "text"), None)
        if first is None:
            blocks.insert(0, {"type": "text", "text": f"{message.name}:"})
        else:
            first["text"] = f"{message.name}: {first['text']}"
    return blocks


def _tool_use(message: Message, where: str) -> list[dict[str, Any]]:
    blocks = []
    for number, call in enumerate(message.tool_calls):
        param = f"{where}.tool_calls[{number}].function.arguments"
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            arguments = None
        if not isinstance(arguments, dict):
            raise InvalidRequestError(f"{param}: Anthropic takes a tool call's arguments as "
                                      "a JSON object; these are not one.", param=param)
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name,
                       "input": arguments})
    return blocks


def _tool_result(message: Message, where: str) -> dict[str, Any]:
    if not message.tool_call_id:
        raise InvalidRequestError(f"{where}: a tool message needs the tool_call_id of the "
                                  "call it answers.", param=f"{where}.tool_call_id")
    content: str | list[dict[str, Any]] = message.content
    if message.images:  # text and images: a tool_result's content may hold both
        content = _content(message, where)
    return {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": content}


def _turn(message: Message, where: str) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "tool":
        return "user", [_tool_result(message, where)]
    blocks = _content(message, where)
    if message.role == "assistant":
        blocks += _tool_use(message, where)
    return message.role, blocks


def _merge(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if turns and turns[-1]["role"] == role:
        earlier: list[dict[str, Any]] = turns[-1]["content"]
        if role == "user" and blocks and blocks[0]["type"] == "tool_result":
            # Results first: a user turn that answers tool calls starts with them.
            results = [b for b in earlier if b["type"] == "tool_result"]
            others = [b for b in earlier if b["type"] != "tool_result"]
            turns[-1]["content"] = [*results, *blocks, *others]
        else:
            earlier.extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def convert(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """Return (system, turns) for the Messages API; raise InvalidRequestError for what it
    cannot take (no turn besides the system's, an empty turn, arguments that are no object)."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for number, message in enumerate(messages):
        where = f"messages[{number}]"
        if message.role == "system":
            if message.content:
                system.append(message.content)
            continue
        role, blocks = _turn(message, where)
        _merge(turns, role, blocks)
    if not turns:
        raise InvalidRequestError("Anthropic needs at least one user message besides the "
                                  "system prompt.", param="messages")
    for turn in turns:
        if not turn["content"]:
            raise InvalidRequestError(f"an {turn['role']} turn has no content: Anthropic "
                                      "refuses empty messages.", param="messages")
    return "\n\n".join(system), turns
