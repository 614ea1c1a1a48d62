"""Checks of a Messages request, as the API makes them: the fields and their types, ranges,
content blocks by role, tool_use / tool_result pairing, tools and tool_choice, thinking.

Consecutive turns of one role are combined into one first, as the API does (it refuses no
such pair); the pairing rules then apply to the combined turns.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from .models import EmulatedModel
from .refusals import Refusal, check_fields, check_type, require

__all__ = ["BODY_FIELDS", "check_messages_body", "combined_turns"]

BODY_FIELDS: Mapping[str, str] = {
    "model": "string", "messages": "array", "max_tokens": "integer", "system": "any",
    "metadata": "object", "stop_sequences": "array", "stream": "boolean",
    "temperature": "number", "top_k": "integer", "top_p": "number", "tools": "array",
    "tool_choice": "object", "thinking": "object", "service_tier": "string",
}
_REQUIRED = ("model", "messages", "max_tokens")
_BLOCKS: Mapping[str, Mapping[str, str]] = {
    "text": {"type": "string", "text": "string", "cache_control": "object",
             "citations": "any"},
    "image": {"type": "string", "source": "object", "cache_control": "object"},
    "tool_use": {"type": "string", "id": "string", "name": "string", "input": "object",
                 "cache_control": "object"},
    "tool_result": {"type": "string", "tool_use_id": "string", "content": "any",
                    "is_error": "boolean", "cache_control": "object"},
    "thinking": {"type": "string", "thinking": "string", "signature": "string"},
    "redacted_thinking": {"type": "string", "data": "string"},
}
_BY_ROLE = {"user": ("text", "image", "tool_result"),
            "assistant": ("text", "tool_use", "thinking", "redacted_thinking")}
_MEDIA = ("image/jpeg", "image/png", "image/gif", "image/webp")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CHOICES = ("auto", "any", "tool", "none")


def _image(block: Mapping[str, Any], where: str) -> None:
    source = block["source"]
    kind = source.get("type")
    if kind == "url":
        check_fields(source, {"type": "string", "url": "string"}, f"{where}.source", ("url",))
        return
    require(kind == "base64", f"{where}.source.type: Input tag '{kind}' does not match "
                              "any of the expected tags: 'base64', 'url'")
    check_fields(source, {"type": "string", "media_type": "string", "data": "string"},
                 f"{where}.source", ("media_type", "data"))
    require(source["media_type"] in _MEDIA, f"{where}.source.media_type: Input should be "
            + ", ".join(f"'{m}'" for m in _MEDIA))
    try:
        base64.b64decode(source["data"], validate=True)
    except binascii.Error:
        raise Refusal(f"{where}.source.data: The image data is not valid base64.") from None


def _block(block: Any, role: str, where: str) -> None:
    check_type(block, "object", where)
    kind = block.get("type")
    allowed = _BY_ROLE[role]
    require(kind in allowed, f"{where}: Input tag '{kind}' found using 'type' does not match "
            f"any of the expected tags: {', '.join(repr(k) for k in allowed)}")
    fields = _BLOCKS[kind]
    check_fields(block, fields, where, tuple(name for name in fields
                                             if name not in ("cache_control", "citations",
                                                             "content", "is_error")))
    if kind == "text":
        require(bool(block["text"]), f"{where}: text content blocks must be non-empty")
    elif kind == "image":
        _image(block, where)
    elif kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            for number, part in enumerate(content):
                check_type(part, "object", f"{where}.content.{number}")
                require(part.get("type") in ("text", "image"), f"{where}.content.{number}: "
                        "Input tag should be 'text' or 'image'")
                _block(part, "user", f"{where}.content.{number}")
        else:
            check_type(content, "string", f"{where}.content")


def combined_turns(messages: list[Any]) -> list[dict[str, Any]]:
    """Return the checked turns, consecutive ones of a role combined, each content a list."""
    turns: list[dict[str, Any]] = []
    for number, message in enumerate(messages):
        where = f"messages.{number}"
        check_type(message, "object", where)
        check_fields(message, {"role": "any", "content": "any"}, where, ("role", "content"))
        role, content = message["role"], message["content"]
        require(role in _BY_ROLE, f"{where}.role: Input should be 'user' or 'assistant'"
                if role != "system" else f"{where}.role: Unexpected role \"system\". The "
                "Messages API accepts a top-level `system` parameter, not \"system\" as an "
                "input message role.")
        if isinstance(content, str):
            require(bool(content), f"{where}: {role} messages must have non-empty content")
            blocks = [{"type": "text", "text": content}]
        else:
            check_type(content, "array", f"{where}.content")
            require(bool(content) or (number == len(messages) - 1 and role == "assistant"),
                    f"{where}: {role} messages must have non-empty content")
            for index, block in enumerate(content):
                _block(block, role, f"{where}.content.{index}")
            blocks = list(content)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += blocks
        else:
            turns.append({"role": role, "content": blocks, "at": number})
    return turns


def _pairing(turns: list[dict[str, Any]]) -> None:
    """tool_result blocks answer the tool_use blocks of the turn right before, first thing
    in their turn; every tool_use but the last turn's is answered."""
    for position, turn in enumerate(turns):
        where = f"messages.{turn['at']}"
        if turn["role"] == "user":
            asked = {b["id"] for b in turns[position - 1]["content"]
                     if b["type"] == "tool_use"} if position else set()
            kinds = [block["type"] for block in turn["content"]]
            for index, block in enumerate(turn["content"]):
                if block["type"] != "tool_result":
                    continue
                require(block["tool_use_id"] in asked, f"{where}.content.{index}: unexpected "
                        f"`tool_use_id` found in `tool_result` blocks: {block['tool_use_id']}"
                        ". Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message.")
                require("text" not in kinds[:index] and "image" not in kinds[:index],
                        f"{where}: `tool_result` blocks must come before any other content "
                        "in the user message.")
            answered = {b["tool_use_id"] for b in turn["content"] if b["type"] == "tool_result"}
            missing = sorted(asked - answered)
            require(not missing, f"messages.{turns[position - 1]['at']}: `tool_use` ids were "
                    f"found without `tool_result` blocks immediately after: "
                    f"{', '.join(missing)}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message.")


def _tools(body: Mapping[str, Any]) -> None:
    tools = body.get("tools") or []
    names = []
    for number, tool in enumerate(tools):
        where = f"tools.{number}"
        check_type(tool, "object", where)
        check_fields(tool, {"name": "string", "description": "string", "input_schema":
                            "object", "type": "string", "cache_control": "object"}, where,
                     ("name", "input_schema"))
        require(bool(_TOOL_NAME.match(tool["name"])), f"{where}.name: String should match "
                "pattern '^[a-zA-Z0-9_-]{1,64}$'")
        require(tool["input_schema"].get("type") == "object",
                f"{where}.input_schema.type: Input should be 'object'")
        names.append(tool["name"])
    require(len(set(names)) == len(names), "tools: Tool names must be unique.")
    choice = body.get("tool_choice")
    if choice is None:
        return
    require(choice.get("type") in _CHOICES, "tool_choice.type: Input tag "
            f"'{choice.get('type')}' does not match any of the expected tags: 'auto', 'any', "
            "'tool', 'none'")
    fields = {"type": "string", "disable_parallel_tool_use": "boolean"}
    if choice["type"] == "tool":
        fields["name"] = "string"
    check_fields(choice, fields, "tool_choice", ("name",) if choice["type"] == "tool" else ())
    require(bool(tools) or choice["type"] == "none",
            "tool_choice: tool_choice may only be specified while providing tools.")
    require(choice["type"] != "tool" or choice["name"] in names,
            f"tool_choice.name: Tool '{choice.get('name')}' not found in tools.")


def _thinking(body: Mapping[str, Any], model: EmulatedModel,
              turns: list[dict[str, Any]]) -> None:
    thinking = body.get("thinking")
    if thinking is None or thinking.get("type") == "disabled":
        if thinking is not None:
            check_fields(thinking, {"type": "string"}, "thinking")
        return
    require(thinking.get("type") in ("enabled", "adaptive"), "thinking.type: Input tag "
            f"'{thinking.get('type')}' does not match any of the expected tags: 'enabled', "
            "'adaptive', 'disabled'")
    require(model.thinking, f"'{model.id}' does not support thinking.")
    if thinking["type"] == "adaptive":  # the model decides how much: no budget
        check_fields(thinking, {"type": "string"}, "thinking")
    else:
        check_fields(thinking, {"type": "string", "budget_tokens": "integer"}, "thinking",
                     ("budget_tokens",))
        budget = thinking["budget_tokens"]
        require(budget >= 1024, "thinking.enabled.budget_tokens: Input should be greater "
                                "than or equal to 1024")
        require(body["max_tokens"] > budget, "`max_tokens` must be greater than "
                "`thinking.budget_tokens`.")
    require(body.get("temperature", 1) == 1, "`temperature` may only be set to 1 when "
                                             "thinking is enabled.")
    require("top_k" not in body, "`top_k` is not supported when thinking is enabled.")
    require(0.95 <= body.get("top_p", 1) <= 1, "`top_p` must be between 0.95 and 1 when "
                                               "thinking is enabled.")
    require((body.get("tool_choice") or {}).get("type") not in ("any", "tool"),
            "Thinking may not be enabled when tool_choice forces tool use.")
    last = turns[-1]["content"]
    if turns[-1]["role"] == "user" and last and last[0]["type"] == "tool_result" \
            and len(turns) > 1:
        first = turns[-2]["content"][0]["type"]
        require(first in ("thinking", "redacted_thinking"), f"messages.{turns[-2]['at']}."
                "content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                f"`{first}`. When `thinking` is enabled, a final `assistant` message must "
                "start with a thinking block (preceeding the lastmost set of `tool_use` and "
                "`tool_result` blocks).")


def _ranges(body: Mapping[str, Any], model: EmulatedModel) -> None:
    limit = body["max_tokens"]
    require(limit >= 1, "max_tokens: Input should be greater than or equal to 1")
    require(limit <= model.max_output, f"max_tokens: {limit} > {model.max_output}, which is "
            f"the maximum allowed number of output tokens for {model.id}")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        require(value is None or 0 <= value <= 1, f"{name}: Input should be less than or "
                "equal to 1" if value is not None and value > 1 else
                f"{name}: Input should be greater than or equal to 0")
    require(body.get("top_k") is None or body["top_k"] >= 0,
            "top_k: Input should be greater than or equal to 0")
    for number, stop in enumerate(body.get("stop_sequences") or []):
        check_type(stop, "string", f"stop_sequences.{number}")
        require(bool(stop.strip()), "stop_sequences: each stop sequence must contain "
                                    "non-whitespace")
    metadata = body.get("metadata")
    if metadata is not None:
        check_fields(metadata, {"user_id": "string"}, "metadata")


def _system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    check_type(system, "array", "system")
    for number, block in enumerate(system):
        where = f"system.{number}"
        check_type(block, "object", where)
        require(block.get("type") == "text", f"{where}.type: Input should be 'text'")
        _block(block, "user", where)


def check_messages_body(body: Mapping[str, Any], model_of: Any) -> tuple[
        EmulatedModel, list[dict[str, Any]]]:
    """Refuse a body the API would refuse; return its model and combined turns.
    `model_of(id)` returns the served model or raises the API's 404."""
    check_fields(body, BODY_FIELDS, "", _REQUIRED)
    model: EmulatedModel = model_of(body["model"])
    _ranges(body, model)
    _system(body.get("system"))
    require(bool(body["messages"]), "messages: at least one message is required")
    turns = combined_turns(body["messages"])
    _pairing(turns)
    _tools(body)
    _thinking(body, model, turns)
    return model, turns
