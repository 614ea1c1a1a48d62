"""Checks of a chat completions body beyond its field types, worded as OpenAI words them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .validation import Refusal, check_type, require

__all__ = ["CHAT_FIELDS", "check_chat"]

# Every field of OpenAI's chat completions request this emulator knows, with its JSON type.
CHAT_FIELDS: Mapping[str, str] = {
    "model": "string", "messages": "array", "stream": "boolean", "stream_options": "object",
    "temperature": "number", "top_p": "number", "max_tokens": "integer",
    "max_completion_tokens": "integer", "presence_penalty": "number",
    "frequency_penalty": "number", "stop": "any", "seed": "integer", "tools": "array",
    "tool_choice": "any", "parallel_tool_calls": "boolean", "response_format": "object",
    "n": "integer", "logprobs": "boolean", "top_logprobs": "integer",
    "reasoning_effort": "string", "user": "string", "logit_bias": "object",
    "metadata": "object", "store": "boolean", "service_tier": "string",
}
_ROLES = ("system", "developer", "user", "assistant", "tool")
_MESSAGE_FIELDS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id",
                             "refusal"})
_RANGES = {"temperature": (0, 2), "top_p": (0, 1), "presence_penalty": (-2, 2),
           "frequency_penalty": (-2, 2), "n": (1, 128), "top_logprobs": (0, 20),
           "max_tokens": (1, 1 << 20), "max_completion_tokens": (1, 1 << 20)}


def _parts(content: list[Any], where: str, role: str) -> None:
    for number, part in enumerate(content):
        at = f"{where}.content[{number}]"
        check_type(part, "object", at)
        kind = part.get("type")
        if kind == "text":
            check_type(part.get("text"), "string", f"{at}.text")
        elif kind == "image_url" and role == "user":
            image = part.get("image_url")
            check_type(image, "object", f"{at}.image_url")
            check_type(image.get("url"), "string", f"{at}.image_url.url")
        else:
            raise Refusal(400, f"Invalid value: '{kind}'. Supported values are: 'text'"
                               f"{' and image_url' if role == 'user' else ''}.",
                          param=f"{at}.type", code="invalid_value")


def _message(message: Any, number: int, answered: set[str]) -> None:
    where = f"messages[{number}]"
    check_type(message, "object", where)
    unknown = sorted(set(message) - _MESSAGE_FIELDS)
    require(not unknown, f"Additional properties are not allowed ('{', '.join(unknown)}' "
                         "was unexpected)", param=where)
    role = message.get("role")
    require(role in _ROLES, f"Invalid value: '{role}'. Supported values are: "
                            f"{', '.join(repr(r) for r in _ROLES)}.", param=f"{where}.role",
            code="invalid_value")
    content = message.get("content")
    if isinstance(content, list):
        _parts(content, where, role)
    elif content is not None or not message.get("tool_calls"):
        check_type(content, "string", f"{where}.content")
    calls = message.get("tool_calls") or []
    check_type(calls, "array", f"{where}.tool_calls")
    for call in calls:
        require(role == "assistant", "Only assistant messages may carry 'tool_calls'.",
                param=f"{where}.tool_calls")
        check_type(call, "object", f"{where}.tool_calls")
        check_type(call.get("id"), "string", f"{where}.tool_calls.id")
        answered.add(call["id"])
    if role == "tool":
        call_id = message.get("tool_call_id")
        check_type(call_id, "string", f"{where}.tool_call_id")
        require(call_id in answered, "Invalid parameter: messages with role 'tool' must be a "
                                     "response to a preceeding message with 'tool_calls'.",
                param=f"{where}.role")


def _tools(tools: list[Any], choice: Any) -> None:
    for number, tool in enumerate(tools):
        check_type(tool, "object", f"tools[{number}]")
        require(tool.get("type") == "function", "Invalid value: tools[].type must be "
                "'function'.", param=f"tools[{number}].type")
        function = tool.get("function")
        check_type(function, "object", f"tools[{number}].function")
        check_type(function.get("name"), "string", f"tools[{number}].function.name")
        if function.get("parameters") is not None:
            check_type(function["parameters"], "object", f"tools[{number}].function.parameters")
    if choice is not None:
        require(bool(tools) or choice == "none", "Invalid value for 'tool_choice': "
                "'tool_choice' is only allowed when 'tools' are specified.", param="tool_choice")
        require(choice in ("none", "auto", "required") or (
            isinstance(choice, dict) and choice.get("type") == "function"
            and isinstance(choice.get("function"), dict)),
            "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a "
            "function.", param="tool_choice")


def _response_format(value: Mapping[str, Any], messages: list[Any]) -> None:
    kind = value.get("type")
    require(kind in ("text", "json_object", "json_schema"), f"Invalid value: '{kind}'. "
            "Supported values are: 'text', 'json_object' and 'json_schema'.",
            param="response_format.type", code="invalid_value")
    if kind == "json_schema":
        check_type(value.get("json_schema"), "object", "response_format.json_schema")
        spec = value["json_schema"]
        check_type(spec.get("name"), "string", "response_format.json_schema.name")
        check_type(spec.get("schema", {}), "object", "response_format.json_schema.schema")
    if kind == "json_object":
        said = " ".join(str(m.get("content")) for m in messages).lower()
        require("json" in said, "'messages' must contain the word 'json' in some form, to "
                                "use 'response_format' of type 'json_object'.",
                param="messages")


def check_chat(body: Mapping[str, Any]) -> None:
    """Refuse a chat body that OpenAI would refuse (its field types are already checked)."""
    messages = body["messages"]
    require(bool(messages), "Invalid 'messages': empty array. Expected an array with minimum "
                            "length 1, but got an empty array instead.", param="messages",
            code="empty_array")
    answered: set[str] = set()
    for number, message in enumerate(messages):
        _message(message, number, answered)
    for name, (low, high) in _RANGES.items():
        value = body.get(name)
        require(value is None or low <= value <= high, f"Invalid '{name}': {value} is out of "
                f"range; expected a value from {low} to {high}.", param=name,
                code="invalid_value")
    stop = body.get("stop")
    require(stop is None or isinstance(stop, str) or (
        isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop)),
        "Invalid 'stop': expected a string or an array of at most 4 strings.", param="stop")
    require(not body.get("stream_options") or bool(body.get("stream")),
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options")
    require(body.get("top_logprobs") is None or bool(body.get("logprobs")),
            "Invalid value for 'top_logprobs': 'logprobs' must be true to use it.",
            param="top_logprobs")
    require(body.get("reasoning_effort") in (None, "minimal", "low", "medium", "high"),
            "Invalid value for 'reasoning_effort': expected 'minimal', 'low', 'medium' or "
            "'high'.", param="reasoning_effort")
    _tools(body.get("tools") or [], body.get("tool_choice"))
    if body.get("response_format") is not None:
        _response_format(body["response_format"], messages)
