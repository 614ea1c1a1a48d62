"""complete()'s first-class parameters (OpenAI's names and shapes): checked before any I/O,
whatever the model, and split from the provider's own options."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from jackfield._errors import InvalidRequestError
from jackfield._settings.checks import MAX_COUNT, shown_value
from jackfield._types.message_input import is_text
from jackfield._types.notices import CallWarning
from jackfield._types.params import NO_PARAMS, CallParams, ResponseFormat, Tool, ToolChoice
from jackfield._types.specs import FIRST_CLASS

__all__ = ["MAX_N", "NOTHING", "NO_OPS", "PROMPTABLE", "Prompted", "Wanted", "parse_prompted",
           "prompted_setting", "split_call"]

MAX_N = 10
PROMPTABLE = frozenset({"tools", "json"})
# Standard OpenAI fields that do not change the answer: accepted and reported, not sent
# (unless the provider declares an option of that name).
NO_OPS = frozenset({"user", "store", "metadata", "service_tier", "stream_options",
                    "prompt_cache_key", "safety_identifier", "modalities"})
# Image-generation fields a provider may honour by declaring an option of the same name.
IMAGE_SOFT = frozenset({"size", "quality", "style"})
_RANGES = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "presence_penalty": (-2.0, 2.0),
           "frequency_penalty": (-2.0, 2.0)}
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
MAX_STOPS = 4
# The core holds back at most this many characters of a stream while it looks for a stop.
MAX_STOP_CHARS = 256


@attrs.frozen
class Wanted:
    """The first-class parameters of one call, checked, before any model is chosen."""

    params: CallParams = NO_PARAMS
    n: int = 1
    prompted: frozenset[str] | None = None  # None: not given, the registry's setting applies
    warnings: tuple[CallWarning, ...] = ()


NOTHING = Wanted()


def _bad(param: str, text: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param} {text}", param=param)


def _number(name: str, value: Any) -> float:
    low, high = _RANGES[name]
    if not isinstance(value, int | float) or isinstance(value, bool) or not (
            math.isfinite(value) and low <= value <= high):
        raise _bad(name, f"must be a number from {low:g} to {high:g}, got {shown_value(value)}.")
    return float(value)


def _whole(name: str, value: Any, low: int, high: int = MAX_COUNT) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _bad(name, f"must be a whole number from {low} to {high}, got "
                         f"{shown_value(value)}.")
    return value


def _stop(value: Any) -> tuple[str, ...]:
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list | tuple) or not all(isinstance(s, str) and s for s in stops):
        raise _bad("stop", f"must be a non-empty string or a list of them, got "
                           f"{shown_value(value)}.")
    if len(stops) > MAX_STOPS:
        raise _bad("stop", f"takes at most {MAX_STOPS} strings, got {len(stops)}.")
    for stop in stops:
        if len(stop) > MAX_STOP_CHARS:
            raise _bad("stop", f"strings are at most {MAX_STOP_CHARS} characters, got one of "
                               f"{len(stop)}.")
        if not is_text(stop):
            raise _bad("stop", "holds an unpaired surrogate, which is not text (check how it "
                               "was decoded).")
    return tuple(dict.fromkeys(stops))


def check_schema(schema: Any, param: str) -> dict[str, Any]:
    """Return schema if it is a JSON schema object (checked by jsonschema)."""
    if not isinstance(schema, Mapping):
        raise _bad(param, f"must be a JSON schema object, got {type(schema).__name__}.")
    import jsonschema  # only calls with tools or a schema pay for importing it

    try:
        jsonschema.validators.validator_for(schema).check_schema(dict(schema))
    except jsonschema.SchemaError as error:
        raise _bad(param, f"is not a valid JSON schema: {error.message}.") from None
    return dict(schema)


def _tool(value: Any, where: str) -> Tool:
    if isinstance(value, Tool):  # built by the caller: held to the same rules as a dict
        value = value.to_dict()
    if not isinstance(value, Mapping) or value.get("type", "function") != "function":
        raise _bad(where, "must be {'type': 'function', 'function': {'name': ..., "
                          "'parameters': {...}}}; only function tools are supported.")
    extra = sorted(set(value) - {"type", "function"})
    if extra:
        raise _bad(f"{where}.{extra[0]}", "is not a field of a tool.")
    function = value.get("function")
    if not isinstance(function, Mapping):
        raise _bad(f"{where}.function", "must be an object with the function's name.")
    extra = sorted(set(function) - {"name", "description", "parameters", "strict"})
    if extra:
        raise _bad(f"{where}.function.{extra[0]}", "is not a field of a function tool.")
    name = function.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _bad(f"{where}.function.name", "must be 1 to 64 letters, digits, _ or -, got "
                                             f"{shown_value(name)}.")
    description = function.get("description") or ""
    if not isinstance(description, str):
        raise _bad(f"{where}.function.description", "must be a string.")
    parameters = function.get("parameters")
    parameters = {"type": "object", "properties": {}} if parameters is None else check_schema(
        parameters, f"{where}.function.parameters")
    strict = function.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise _bad(f"{where}.function.strict", "must be true or false.")
    return Tool(name, description, parameters, strict)


def _tools(value: Any) -> tuple[Tool, ...]:
    if not isinstance(value, list | tuple):
        raise _bad("tools", f"must be a list of tools, got {type(value).__name__}.")
    tools = tuple(_tool(item, f"tools[{i}]") for i, item in enumerate(value))
    names = [tool.name for tool in tools]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise _bad("tools", f"names the function(s) {', '.join(twice)} more than once.")
    return tools


def _tool_choice(value: Any, tools: tuple[Tool, ...]) -> ToolChoice:
    if isinstance(value, ToolChoice):
        choice = value
    elif value in ("auto", "none", "required"):
        choice = ToolChoice(value)
    elif (isinstance(value, Mapping) and value.get("type") == "function"
          and isinstance(value.get("function"), Mapping)
          and isinstance(value["function"].get("name"), str)):
        choice = ToolChoice("function", value["function"]["name"])
    else:
        raise _bad("tool_choice", "must be 'auto', 'none', 'required' or {'type': 'function', "
                                  f"'function': {{'name': ...}}}}, got {shown_value(value)}.")
    if choice.mode == "function" and choice.name not in {tool.name for tool in tools}:
        raise _bad("tool_choice", f"names {choice.name!r}, which is not one of the tools.")
    return choice


def _response_format(value: Any) -> ResponseFormat | None:
    if isinstance(value, ResponseFormat):  # built by the caller: checked as its dict would be
        value = value.to_wire()
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind != "json_schema":
        raise _bad("response_format", "must be {'type': 'text'}, {'type': 'json_object'} or "
                                      "{'type': 'json_schema', 'json_schema': {...}}, got "
                                      f"{shown_value(value)}.")
    inner = value.get("json_schema")
    if not isinstance(inner, Mapping):
        raise _bad("response_format.json_schema", "must be {'name': ..., 'schema': {...}}.")
    extra = sorted(set(inner) - {"name", "schema", "strict", "description"})
    if extra:
        raise _bad(f"response_format.json_schema.{extra[0]}", "is not a field of json_schema.")
    name = inner.get("name", "response")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _bad("response_format.json_schema.name", "must be 1 to 64 letters, digits, _ "
                                                       f"or -, got {shown_value(name)}.")
    strict = inner.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise _bad("response_format.json_schema.strict", "must be true or false.")
    schema = check_schema(inner.get("schema", {}), "response_format.json_schema.schema")
    return ResponseFormat("json_schema", name, schema, strict, inner.get("description") or "")


def parse_prompted(value: Any, source: str = "prompted") -> frozenset[str]:
    """Return which of tools and JSON to describe in the prompt: True (both), False, or names."""
    if isinstance(value, bool):
        return PROMPTABLE if value else frozenset()
    items = [value] if isinstance(value, str) else list(value) if isinstance(
        value, Iterable) and not isinstance(value, Mapping) else None
    names = frozenset(items) if items is not None and all(
        isinstance(item, str) for item in items) else None
    if names is None or not names <= PROMPTABLE:
        raise InvalidRequestError(f"{source} must be True, False, or some of 'tools' and "
                                  f"'json', got {shown_value(value)}.", param="prompted")
    return names


# Registry(prompted=...): for every model, or per model name / "provider/model" / provider.
Prompted = Mapping[str, frozenset[str]] | frozenset[str]


def prompted_setting(value: Any, source: str) -> Prompted:
    """Check Registry(prompted=...): True/False, some of "tools"/"json", or a mapping of
    model names to those."""
    if isinstance(value, Mapping):
        return {str(name): parse_prompted(entry, f"{source}[{name!r}]")
                for name, entry in value.items()}
    return parse_prompted(value, source)


def split_call(options: Mapping[str, Any]) -> tuple[Wanted, dict[str, Any]]:
    """Return the checked first-class parameters, and the rest (the provider's own options,
    and the no-op fields, which are judged per provider).

    A first-class parameter set to None (JSON null) is not set. The rest keep their None:
    the provider's options then take their defaults, and a name nobody declares is still
    refused, null or not.
    """
    if not options:
        return NOTHING, {}
    given: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for name, value in options.items():
        if name not in FIRST_CLASS:
            rest[name] = value
        elif value is not None:
            given[name] = value
    if not given:
        return NOTHING, rest
    fields: dict[str, Any] = {}
    warnings: list[CallWarning] = []
    for name in _RANGES:
        if name in given:
            fields[name] = _number(name, given[name])
    if "max_completion_tokens" in given:  # the newer name of max_tokens
        if "max_tokens" in given:
            raise _bad("max_completion_tokens", "and max_tokens are the same: send one.")
        fields["max_tokens"] = _whole("max_completion_tokens", given["max_completion_tokens"], 1)
    elif "max_tokens" in given:
        fields["max_tokens"] = _whole("max_tokens", given["max_tokens"], 1)
    if "stop" in given:
        fields["stop"] = _stop(given["stop"])
    if "seed" in given:
        fields["seed"] = _whole("seed", given["seed"], -MAX_COUNT - 1)
    if "tools" in given or "tool_choice" in given or "parallel_tool_calls" in given:
        _tool_fields(given, fields, warnings)
    if "response_format" in given:
        response_format = _response_format(given["response_format"])
        if response_format is None:
            warnings.append(CallWarning("response_format", "response_format 'text' is the "
                                                           "default; it was not sent."))
        fields["response_format"] = response_format
    if "reasoning_effort" in given:
        if given["reasoning_effort"] not in _EFFORTS:
            raise _bad("reasoning_effort", f"must be one of {', '.join(_EFFORTS)}, got "
                                           f"{shown_value(given['reasoning_effort'])}.")
        fields["reasoning_effort"] = given["reasoning_effort"]
    if "logprobs" in given or "top_logprobs" in given:
        _logprob_fields(given, fields, warnings)
    n = _whole("n", given["n"], 1, MAX_N) if "n" in given else 1
    prompted = parse_prompted(given["prompted"]) if "prompted" in given else None
    if "strict" in given:
        raise _bad("strict", "is a setting of the registry: Registry(strict=True).")
    if not fields and not warnings and n == 1 and prompted is None:
        return NOTHING, rest
    return Wanted(CallParams(**fields) if fields else NO_PARAMS, n, prompted,
                  tuple(warnings)), rest


def _tool_fields(given: dict[str, Any], fields: dict[str, Any],
                 warnings: list[CallWarning]) -> None:
    tools = _tools(given["tools"]) if "tools" in given else ()
    if tools:
        fields["tools"] = tools
    if "tool_choice" in given:
        if not tools:
            # "none" and "auto" without tools ask for what happens anyway; "required" or a
            # named function cannot be done without them.
            choice = given["tool_choice"]
            if isinstance(choice, ToolChoice):
                choice = choice.to_wire()
            if choice not in ("none", "auto"):
                _tool_choice(choice, tools)  # a malformed value is refused as such
                raise _bad("tool_choice", f"{shown_value(choice)} needs tools: send the tools "
                                          "it chooses from.")
            warnings.append(CallWarning("tool_choice", f"tool_choice {choice!r} without "
                                                       "tools changes nothing; it was not "
                                                       "sent."))
        else:
            fields["tool_choice"] = _tool_choice(given["tool_choice"], tools)
    if "parallel_tool_calls" in given:
        if not isinstance(given["parallel_tool_calls"], bool):
            raise _bad("parallel_tool_calls", "must be true or false.")
        if tools:
            fields["parallel_tool_calls"] = given["parallel_tool_calls"]
        else:
            warnings.append(CallWarning("parallel_tool_calls", "parallel_tool_calls without "
                                                               "tools changes nothing; it was "
                                                               "not sent."))


def _logprob_fields(given: dict[str, Any], fields: dict[str, Any],
                    warnings: list[CallWarning]) -> None:
    logprobs = given.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise _bad("logprobs", "must be true or false.")
    if "top_logprobs" in given:
        if not logprobs:
            raise _bad("top_logprobs", "needs logprobs: true.")
        fields["top_logprobs"] = _whole("top_logprobs", given["top_logprobs"], 0, 20)
    if logprobs:
        fields["logprobs"] = True
    elif logprobs is False:
        warnings.append(CallWarning("logprobs", "logprobs false is the default; it was not "
                                                "sent."))
