"""A Responses API request (POST /v1/responses) checked and decoded into the one ChatCall.

The server is stateless: nothing is stored, so `previous_response_id`, `conversation`,
`prompt` (a stored template) and `background` runs are refused with a 400 that says to send
the whole input; `store: true` is a warning that nothing is kept (`store: false` says what
is done anyway). Each field is either done (mapped onto the core's OpenAI names: `tools`,
`tool_choice`, `parallel_tool_calls`, `text.format` as `response_format`,
`max_output_tokens`, `temperature`, `top_p`, `reasoning.effort`, `top_logprobs` and the
logprobs `include`), handed to the core as it is (`metadata`, `user`, `safety_identifier`,
`prompt_cache_key`, `service_tier`: the core reports them unless a provider takes them),
or reported as a warning (what clients such as openai-agents send routinely but nothing
here can do: `truncation: auto`, `text.verbosity`, cache settings). A name this API does
not have is handed on as a provider's own option, as on /v1/chat/completions (the core
refuses one nobody declares); a chat-completions name is refused with its Responses name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from jackfield._errors import InvalidRequestError
from jackfield._server.call import ChatCall
from jackfield._server.openai_shapes import call_params
from jackfield._server.responses_input import input_messages
from jackfield._types.notices import CallWarning
from jackfield._types.specs import FIRST_CLASS

__all__ = ["ResponsesCall", "parse_responses_call"]

STATELESS = ("This server is stateless: it stores no responses or conversations. Send the "
             "whole conversation in 'input' (earlier output items included) instead.")
_REFUSED = {
    "previous_response_id": STATELESS,
    "conversation": STATELESS,
    "prompt": "Prompt templates are stored by OpenAI, and this server stores nothing: send "
              "the instructions and the input themselves.",
    "moderation": "This server runs no moderation model: moderate the input and output "
                  "yourself.",
}
# Fields clients send routinely that nothing here can act on: a warning each when set.
_WARNED = {
    "prompt_cache_retention": "prompt caching is the provider's own",
    "prompt_cache_options": "prompt caching is the provider's own",
    "context_management": "this server does not compact the context",
    "max_tool_calls": "it limits built-in tools, and this server has none",
}
# Handed to the core as they are: it sends them to a provider that takes them, and reports
# them otherwise (its no-op fields).
_PASSED = ("metadata", "user", "safety_identifier", "prompt_cache_key", "service_tier")
_CHAT_NAMES = {"max_tokens": "max_output_tokens", "max_completion_tokens": "max_output_tokens",
               "response_format": "text.format", "reasoning_effort": "reasoning.effort",
               "messages": "input", "logprobs": "include ['message.output_text.logprobs']"}
_LOGPROBS = "message.output_text.logprobs"
_INCLUDABLE = ("file_search_call.results", "web_search_call.results",
               "web_search_call.action.sources", "message.input_image.image_url",
               "computer_call_output.output.image_url", "code_interpreter_call.outputs",
               "reasoning.encrypted_content", _LOGPROBS)
_HANDLED = {"model", "input", "instructions", "stream", "tools", "tool_choice",
            "parallel_tool_calls", "text", "max_output_tokens", "temperature", "top_p",
            "reasoning", "include", "top_logprobs", "store", "truncation", "background",
            "stream_options", *_REFUSED, *_WARNED, *_PASSED}


@attrs.frozen
class ResponsesCall:
    """One checked Responses request: the ChatCall to run, and what the Response object
    echoes of the request (instructions, tools, tool_choice, text, metadata, ...)."""

    call: ChatCall
    echo: dict[str, Any]


def _bad(param: str, text: str) -> InvalidRequestError:
    return InvalidRequestError(text, param=param)


def _warn(warnings: list[CallWarning], param: str, text: str) -> None:
    warnings.append(CallWarning(param, f"{param} was accepted but not acted on: {text}."))


def _object(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad(name, f"{name!r} must be an object, got {type(value).__name__}.")
    return value


def _flag(value: Any, name: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise _bad(name, f"{name!r} must be true or false, got {value!r}.")
    return value


def _tool(tool: Any, where: str, warnings: list[CallWarning]) -> dict[str, Any]:
    """Return one function tool in the chat API's shape (the core checks the rest)."""
    kind = tool.get("type") if isinstance(tool, Mapping) else None
    if kind != "function":
        raise _bad(f"{where}.type", f"{kind!r} tools are not available on this server: its "
                                    "models call function tools only ({'type': 'function', "
                                    "'name': ..., 'parameters': {...}}); leave built-in tools "
                                    "such as web_search or file_search out.")
    function = {key: tool[key] for key in ("name", "description", "parameters", "strict")
                if tool.get(key) is not None}
    for key in ("allowed_callers", "defer_loading", "output_schema"):
        if tool.get(key) is not None:
            _warn(warnings, f"{where}.{key}", "the tool is sent without it")
    extra = sorted(set(tool) - {"type", "name", "description", "parameters", "strict",
                                "allowed_callers", "defer_loading", "output_schema"})
    if extra:
        raise _bad(f"{where}.{extra[0]}", f"{where}.{extra[0]} is not a field of a function "
                                          "tool.")
    return {"type": "function", "function": function}


def _tool_choice(value: Any, tools: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """Return tool_choice in the chat API's shape, and the tools to send: `allowed_tools`
    sends only the tools it allows."""
    if value in ("auto", "none", "required"):
        return value, tools
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "function" and isinstance(value.get("name"), str):
        return {"type": "function", "function": {"name": value["name"]}}, tools
    if kind == "allowed_tools" and value.get("mode") in ("auto", "required") and isinstance(
            value.get("tools"), list):
        allowed = set()
        for number, entry in enumerate(value["tools"]):
            if not (isinstance(entry, Mapping) and entry.get("type") == "function"
                    and isinstance(entry.get("name"), str)):
                raise _bad(f"tool_choice.tools[{number}]", "allowed tools are "
                           "{'type': 'function', 'name': ...}: only function tools exist here.")
            allowed.add(entry["name"])
        unknown = sorted(allowed - {tool["function"].get("name") for tool in tools})
        if unknown:
            raise _bad("tool_choice.tools", f"allows {unknown[0]!r}, which is not one of the "
                                            "tools.")
        return value["mode"], [tool for tool in tools if tool["function"].get("name") in allowed]
    raise _bad("tool_choice", "'tool_choice' must be 'auto', 'none', 'required', "
                              "{'type': 'function', 'name': ...} or {'type': 'allowed_tools', "
                              f"'mode': ..., 'tools': [...]}}, got {value!r}; built-in tool "
                              "choices are not available on this server.")


def _text_format(body: Mapping[str, Any], warnings: list[CallWarning]) -> Any:
    """Return text.format as the chat API's response_format (None: plain text)."""
    text = _object(body, "text")
    extra = sorted(set(text) - {"format", "verbosity"})
    if extra:
        raise _bad(f"text.{extra[0]}", f"text.{extra[0]} is not a field of text.")
    if text.get("verbosity") not in (None, "medium"):
        _warn(warnings, "text.verbosity", "the models here take no verbosity setting")
    form = text.get("format")
    kind = form.get("type") if isinstance(form, Mapping) else None
    if form is None or kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind != "json_schema":
        raise _bad("text.format", "'text.format' must be {'type': 'text'}, {'type': "
                                  "'json_object'} or {'type': 'json_schema', 'name': ..., "
                                  f"'schema': {{...}}}}, got {form!r}.")
    extra = sorted(set(form) - {"type", "name", "schema", "description", "strict"})
    if extra:
        raise _bad(f"text.format.{extra[0]}", f"text.format.{extra[0]} is not a field of a "
                                              "json_schema format.")
    if not isinstance(form.get("schema"), Mapping):
        raise _bad("text.format.schema", "a json_schema format needs its schema (an object).")
    inner = {key: form[key] for key in ("name", "schema", "description", "strict")
             if form.get(key) is not None}
    return {"type": "json_schema", "json_schema": inner}


def _reasoning(body: Mapping[str, Any], params: dict[str, Any],
               warnings: list[CallWarning]) -> None:
    reasoning = _object(body, "reasoning")
    extra = sorted(set(reasoning) - {"effort", "summary", "generate_summary", "context",
                                     "mode"})
    if extra:
        raise _bad(f"reasoning.{extra[0]}", f"reasoning.{extra[0]} is not a field of "
                                            "reasoning.")
    if reasoning.get("effort") is not None:
        params["reasoning_effort"] = reasoning["effort"]  # the core checks the value
    for key in ("summary", "generate_summary"):
        # The reasoning comes back as the model gives it (as its summary): "auto" is that.
        if reasoning.get(key) not in (None, "auto"):
            _warn(warnings, f"reasoning.{key}", "the reasoning comes back as the model gives "
                                                "it")
    for key, default in (("context", "auto"), ("mode", "standard")):
        if reasoning.get(key) not in (None, default):
            _warn(warnings, f"reasoning.{key}", "the models here take no such setting")


def _include(body: Mapping[str, Any], params: dict[str, Any],
             warnings: list[CallWarning]) -> None:
    include = body.get("include") or []
    if not isinstance(include, list) or not all(isinstance(name, str) for name in include):
        raise _bad("include", "'include' must be a list of strings.")
    for name in include:
        if name == _LOGPROBS:
            params["logprobs"] = True
        elif name in _INCLUDABLE:
            _warn(warnings, "include", f"{name!r} belongs to what this server does not have "
                                       "(built-in tools, stored files, encrypted reasoning)")
        else:
            raise _bad("include", f"'include' holds {name!r}, which is none of "
                                  f"{', '.join(_INCLUDABLE)}.")
    if body.get("top_logprobs") is not None:
        if _LOGPROBS not in include:
            raise _bad("top_logprobs", f"'top_logprobs' needs include [{_LOGPROBS!r}].")
        params["top_logprobs"] = body["top_logprobs"]


def _stateless(body: Mapping[str, Any], warnings: list[CallWarning]) -> None:
    for name, text in _REFUSED.items():
        if body.get(name) is not None:
            raise _bad(name, f"{name!r} is not supported. {text}")
    if _flag(body.get("background"), "background"):
        raise _bad("background", "Background responses are stored to be polled, and this "
                                 "server stores nothing: leave 'background' out.")
    if _flag(body.get("store"), "store"):
        warnings.append(CallWarning("store", "store: true was not done: this server is "
                                             "stateless and keeps no response."))
    if body.get("truncation") not in (None, "disabled", "auto"):
        raise _bad("truncation", f"'truncation' must be 'auto' or 'disabled', got "
                                 f"{body['truncation']!r}.")
    if body.get("truncation") == "auto":
        _warn(warnings, "truncation", "the input is sent whole; a model's own context limit "
                                      "applies")
    for name, text in _WARNED.items():
        if body.get(name) is not None:
            _warn(warnings, name, text)
    options = _object(body, "stream_options")
    if options.get("include_obfuscation"):
        _warn(warnings, "stream_options.include_obfuscation", "the events are not padded")


def _foreign(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields this API does not have: a provider's own options, for the core."""
    rest = call_params(body, _HANDLED)
    for name in sorted(rest):
        if name in FIRST_CLASS or name in _CHAT_NAMES:
            hint = f" use {_CHAT_NAMES[name]!r} instead," if name in _CHAT_NAMES else ""
            raise _bad(name, f"{name!r} is not a field of the Responses API:{hint} or POST "
                             "/v1/chat/completions, which takes it.")
    return rest


def parse_responses_call(body: Mapping[str, Any]) -> ResponsesCall:
    """Check a Responses request body and return the call it asks for."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("model", "'model' is required and must be a non-empty string.")
    stream = bool(_flag(body.get("stream"), "stream"))
    warnings: list[CallWarning] = []
    _stateless(body, warnings)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _bad("instructions", "'instructions' must be a string.")
    messages = input_messages(body.get("input"), instructions, warnings)
    params = _foreign(body)
    params.update({name: body[name] for name in _PASSED if body.get(name) is not None})
    raw_tools = body.get("tools") or []
    if not isinstance(raw_tools, list):
        raise _bad("tools", "'tools' must be a list of function tools.")
    tools = [_tool(tool, f"tools[{number}]", warnings) for number, tool in enumerate(raw_tools)]
    choice = body.get("tool_choice")
    if choice is not None:
        params["tool_choice"], tools = _tool_choice(choice, tools)
    if tools:
        params["tools"] = tools
    if body.get("parallel_tool_calls") is not None:
        params["parallel_tool_calls"] = body["parallel_tool_calls"]
    response_format = _text_format(body, warnings)
    if response_format is not None:
        params["response_format"] = response_format
    limit = body.get("max_output_tokens")
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise _bad("max_output_tokens", "'max_output_tokens' must be a whole number of at "
                                            f"least 1, got {limit!r}.")
        params["max_tokens"] = limit
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            params[name] = body[name]  # the core checks them (the same names)
    _reasoning(body, params, warnings)
    _include(body, params, warnings)
    call = ChatCall(model, messages, stream, params, tuple(warnings))
    return ResponsesCall(call, _echo(body, raw_tools))


def _echo(body: Mapping[str, Any], tools: list[Any]) -> dict[str, Any]:
    """Return the request's fields as a Response object repeats them."""
    reasoning = _object(body, "reasoning")
    text = dict(_object(body, "text"))
    text.setdefault("format", {"type": "text"})
    return {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "store": False,  # whatever was asked: nothing is kept
        "temperature": body.get("temperature"),
        "text": text,
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": [dict(tool) for tool in tools],
        "top_p": body.get("top_p"),
        "top_logprobs": body.get("top_logprobs"),
        "truncation": body.get("truncation") or "disabled",
        "user": body.get("user"),
        "previous_response_id": None,
        "background": False,
    }
