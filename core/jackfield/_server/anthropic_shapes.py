"""Anthropic Messages request bodies, checked, as the one call shape (ChatCall).

Fields map to the core's (OpenAI's) parameters: max_tokens, temperature, top_p,
stop_sequences -> stop, tools (custom tools, `input_schema`) -> function tools,
tool_choice auto/any/tool/none -> auto/required/function/none with
`disable_parallel_tool_use` -> parallel_tool_calls false, thinking {"type": "enabled",
budget_tokens} -> reasoning_effort (low under 4096 tokens, medium under 16384, else high),
output_config.effort -> reasoning_effort and output_config.format (a JSON schema) ->
response_format. What has no core parameter is accepted and reported as a warning, never
dropped unsaid: top_k, metadata.user_id (not passed on to any provider), service_tier,
the cache_control hints, context_management, a tool's eager_input_streaming and
defer_loading (the tool is offered from the start), thinking's
`display` and the adaptive/between_tools modes. What the server cannot do is refused with a
400 naming the field: server tools (web search, code execution, ...), document and other
block types, containers, MCP servers, citations, and any field it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jackfield._server.anthropic_content import Notes, bad, conversation, system_text
from jackfield._server.call import ChatCall
from jackfield._types.messages import Message

__all__ = ["parse_count_call", "parse_messages_call"]

_SAMPLING = ("temperature", "top_p")
_TOOL_FIELDS = ("name", "description", "input_schema", "strict", "eager_input_streaming",
                "defer_loading")
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh",
            "max": "xhigh"}  # the core's highest effort is xhigh
# Fields of Anthropic's API that need what this server does not have: refused by name.
_UNSUPPORTED = {
    "container": "containers (code execution) are not supported by this server",
    "mcp_servers": "MCP servers are not supported by this server; give the tools as tools",
    "diagnostics": "diagnostics are not supported by this server",
    "inference_geo": "inference_geo is not supported by this server",
    "speed": "speed is not supported by this server",
}
_MESSAGE_FIELDS = {"model", "messages", "max_tokens", "system", "stop_sequences", "stream",
                   "temperature", "top_p", "top_k", "metadata", "tools", "tool_choice",
                   "thinking", "service_tier", "output_config", "cache_control",
                   "context_management"}
_COUNT_FIELDS = {"model", "messages", "system", "tools", "tool_choice", "thinking",
                 "output_config", "cache_control", "context_management"}


def _fields(body: Mapping[str, Any], allowed: set[str]) -> None:
    for name in sorted(body):
        if name in _UNSUPPORTED:
            raise bad(name, f"{_UNSUPPORTED[name]}.")
        if name not in allowed:
            raise bad(name, "is not a field this server's Messages API takes.")


def _model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("model", "is required and must be a non-empty string.")
    return model


def _max_tokens(body: Mapping[str, Any]) -> int:
    value = body.get("max_tokens")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise bad("max_tokens", f"is required (as Anthropic's API requires it) and must be a "
                                f"whole number of at least 1, got {value!r}.")
    return value


def _tool(value: Any, where: str, notes: Notes) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise bad(where, "must be a tool object: {'name': ..., 'input_schema': {...}}.")
    kind = value.get("type")
    if kind not in (None, "custom"):
        raise bad(f"{where}.type", f"{kind!r}: server tools are not supported by this server; "
                                   "only custom tools (name, description, input_schema).")
    notes.block_keys(value, _TOOL_FIELDS, where, "a tool")
    if value.get("defer_loading"):
        # Claude Code defers tools it finds with a tool search of its own: offered from
        # the start instead, the model can still call them.
        notes.once("defer_loading", "defer_loading was accepted but not acted on: the tool "
                                    "is offered to the model from the start.")
    if value.get("eager_input_streaming") is not None:
        notes.once("eager_input_streaming", "eager_input_streaming was accepted but not acted "
                                            "on: tool input streams as the provider sends it.")
    function: dict[str, Any] = {"name": value.get("name")}
    if value.get("description") is not None:
        function["description"] = value["description"]
    schema = value.get("input_schema")
    if not isinstance(schema, Mapping):
        raise bad(f"{where}.input_schema", "is required: the JSON schema of the tool's input.")
    function["parameters"] = dict(schema)
    if value.get("strict") is not None:
        function["strict"] = value["strict"]
    return {"type": "function", "function": function}  # the core checks name and schema


def _tool_choice(value: Any, params: dict[str, Any]) -> None:
    if not isinstance(value, Mapping):
        raise bad("tool_choice", "must be {'type': 'auto' | 'any' | 'tool' | 'none'}.")
    kind = value.get("type")
    extra = sorted(set(value) - {"type", "name", "disable_parallel_tool_use"})
    if extra:
        raise bad(f"tool_choice.{extra[0]}", "is not a field of tool_choice.")
    if kind == "tool":
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise bad("tool_choice.name", "must name the tool to call.")
        params["tool_choice"] = {"type": "function", "function": {"name": name}}
    elif kind in ("auto", "any", "none"):
        params["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[kind]
    else:
        raise bad("tool_choice.type", f"must be 'auto', 'any', 'tool' or 'none', got {kind!r}.")
    serial = value.get("disable_parallel_tool_use")
    if serial is not None and not isinstance(serial, bool):
        raise bad("tool_choice.disable_parallel_tool_use", "must be true or false.")
    if serial and kind != "none":
        params["parallel_tool_calls"] = False


def _thinking(value: Any, params: dict[str, Any], notes: Notes) -> None:
    if not isinstance(value, Mapping):
        raise bad("thinking", "must be {'type': 'enabled', 'budget_tokens': ...} or "
                              "{'type': 'disabled'}.")
    kind = value.get("type")
    if value.get("display") is not None:
        notes.once("thinking.display", "thinking.display was accepted but not acted on: "
                                       "reasoning is sent as the provider gives it.")
    if kind == "enabled":
        budget = value.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
            raise bad("thinking.budget_tokens", f"must be a whole number of tokens, got "
                                                f"{budget!r}.")
        params["reasoning_effort"] = ("low" if budget < 4096 else
                                      "medium" if budget < 16384 else "high")
    elif kind in ("adaptive", "between_tools"):
        notes.once("thinking.type", f"thinking {kind!r} was accepted but not acted on: the "
                                    "model reasons as its provider's default has it.")
    elif kind != "disabled":
        raise bad("thinking.type", f"must be 'enabled', 'disabled', 'adaptive' or "
                                   f"'between_tools', got {kind!r}.")


def _output_config(value: Any, params: dict[str, Any]) -> None:
    if not isinstance(value, Mapping):
        raise bad("output_config", "must be an object (effort, format).")
    extra = sorted(set(value) - {"effort", "format"})
    if extra:
        raise bad(f"output_config.{extra[0]}", "is not a field of output_config.")
    effort = value.get("effort")
    if effort is not None:
        if effort not in _EFFORTS:
            raise bad("output_config.effort", f"must be one of {', '.join(_EFFORTS)}, got "
                                              f"{effort!r}.")
        params["reasoning_effort"] = _EFFORTS[effort]
    output = value.get("format")
    if output is not None:
        if not isinstance(output, Mapping) or output.get("type") != "json_schema" or (
                set(output) - {"type", "schema"}):
            raise bad("output_config.format", "must be {'type': 'json_schema', 'schema': "
                                              "{...}}.")
        params["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "output", "schema": output.get("schema", {})}}


def _metadata(value: Any, notes: Notes) -> None:
    if not isinstance(value, Mapping):
        raise bad("metadata", "must be an object: {'user_id': ...}.")
    extra = sorted(set(value) - {"user_id"})
    if extra:
        raise bad(f"metadata.{extra[0]}", "is not a field of metadata (it takes user_id).")
    user = value.get("user_id")
    if user is not None and not isinstance(user, str):
        raise bad("metadata.user_id", "must be a string.")
    if user:
        notes.once("metadata.user_id", "metadata.user_id was accepted but not sent on: no "
                                       "provider behind this server is told who the user is.")


def _common(body: Mapping[str, Any], notes: Notes,
            params: dict[str, Any]) -> list[Message]:
    """Check what a message and a token count share; return the conversation."""
    system = system_text(body.get("system"), notes)
    messages = conversation(body.get("messages"), notes)
    if body.get("cache_control") is not None:
        notes.block_keys({"cache_control": body["cache_control"]}, (), "cache_control")
    if body.get("context_management") is not None:
        # Claude Code asks for old tool results to be cleared when the context fills up:
        # the history is sent whole instead, which changes no answer that fits the model.
        notes.once("context_management", "context_management was accepted but not acted "
                                         "on: the conversation is sent as it came.")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad("tools", "must be a list of tools.")
        params["tools"] = [_tool(tool, f"tools[{n}]", notes) for n, tool in enumerate(tools)]
    if body.get("tool_choice") is not None:
        _tool_choice(body["tool_choice"], params)
    if body.get("thinking") is not None:
        _thinking(body["thinking"], params, notes)
    if body.get("output_config") is not None:
        _output_config(body["output_config"], params)
    return ([Message("system", system)] if system else []) + messages


def parse_messages_call(body: Mapping[str, Any]) -> ChatCall:
    """Check a POST /v1/messages body and return its ChatCall (400s name the field)."""
    _fields(body, _MESSAGE_FIELDS)
    model = _model(body)
    notes = Notes()
    params: dict[str, Any] = {"max_tokens": _max_tokens(body)}
    messages = _common(body, notes, params)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad("stream", f"must be true or false, got {stream!r}.")
    for name in _SAMPLING:
        if body.get(name) is not None:
            params[name] = body[name]  # the core checks the range
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list):
            raise bad("stop_sequences", "must be a list of strings.")
        if stops:
            params["stop"] = stops
    if body.get("top_k") is not None:
        top_k = body["top_k"]
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise bad("top_k", f"must be a whole number of at least 1, got {top_k!r}.")
        notes.once("top_k", "top_k was accepted but not acted on: the core has no top_k "
                            "parameter to send to providers.")
    if body.get("metadata") is not None:
        _metadata(body["metadata"], notes)
    tier = body.get("service_tier")
    if tier is not None:
        if tier not in ("auto", "standard_only"):
            raise bad("service_tier", f"must be 'auto' or 'standard_only', got {tier!r}.")
        notes.once("service_tier", "service_tier was accepted but not acted on.")
    return ChatCall(model, messages, bool(stream), params, tuple(notes.warnings))


def parse_count_call(body: Mapping[str, Any]) -> ChatCall:
    """Check a POST /v1/messages/count_tokens body (no max_tokens) as a ChatCall."""
    _fields(body, _COUNT_FIELDS)
    model = _model(body)
    notes = Notes()
    params: dict[str, Any] = {}
    messages = _common(body, notes, params)
    return ChatCall(model, messages, False, params, tuple(notes.warnings))
