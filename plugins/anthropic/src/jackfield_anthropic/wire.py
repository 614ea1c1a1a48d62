"""Building the requests (no I/O): `POST {base}/v1/messages` and `GET {base}/v1/models`.

How the core's parameters map (docs/protocols/anthropic.md says the same):

- `max_tokens`: required by the API; DEFAULT_MAX_TOKENS (4096) unless the caller sets it,
  plus the thinking budget when thinking is on (the budget counts towards max_tokens);
- `stop` → `stop_sequences`; `temperature` (0 to 1 here) and `top_p` as they are;
- `tools` → `{name, description, input_schema}`; `tool_choice` auto/required/function/none
  → `{"type": "auto"|"any"|"tool"|"none"}`; `parallel_tool_calls=False` →
  `disable_parallel_tool_use`;
- `reasoning_effort` → `thinking: {"type": "enabled", "budget_tokens": EFFORT_BUDGETS[...]}`
  ("none" sends no thinking; nor does a call that answers tool results, whose turn's signed
  thinking block jackfield does not keep); the `thinking_budget` option sets the budget;
- `response_format` (JSON object or schema) → one forced tool, JSON_TOOL, whose input is the
  reply (parse.py yields it as the text): the API has no JSON mode of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from jackfield.provider import (
    CallWarning,
    CompletionRequest,
    HttpRequest,
    InvalidRequestError,
    ProviderConfig,
    ProviderRequest,
    ResponseFormat,
)

from .messages import convert
from .spec import DEFAULT_MAX_TOKENS, auth_headers

__all__ = ["EFFORT_BUDGETS", "JSON_TOOL", "build_request", "json_tool_name", "models_request"]

# reasoning_effort → thinking.budget_tokens (1024 is the API's smallest budget).
EFFORT_BUDGETS: Mapping[str, int] = {"minimal": 1024, "low": 2048, "medium": 8192,
                                     "high": 16384, "xhigh": 32768}
MIN_BUDGET = 1024
JSON_TOOL = "json_response"
_CHOICES = {"auto": "auto", "required": "any", "function": "tool", "none": "none"}


def json_tool_name(request: CompletionRequest) -> str | None:
    """Return the name of the forced tool that carries a JSON reply, None without one."""
    return JSON_TOOL if request.params.response_format is not None else None


def _refuse(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(f"anthropic: {message}", param=param)


def _json_tool(response_format: ResponseFormat) -> dict[str, Any]:
    schema = dict(response_format.schema or {}) if response_format.type == "json_schema" \
        else {"type": "object"}
    if schema.get("type", "object") != "object":
        raise _refuse("the reply's JSON goes through a tool, whose input must be an object: "
                      "give response_format a schema of type object (wrap the value in "
                      "one).", "response_format")
    schema.setdefault("type", "object")
    description = response_format.description or "Give the reply as this tool's input."
    return {"name": JSON_TOOL, "description": description, "input_schema": schema}


def _tools(request: CompletionRequest, body: dict[str, Any]) -> None:
    params = request.params
    tools = [{"name": tool.name, "input_schema": dict(tool.parameters),
              **({"description": tool.description} if tool.description else {})}
             for tool in params.tools]
    choice: dict[str, Any] | None = None
    if params.tool_choice is not None:
        choice = {"type": _CHOICES[params.tool_choice.mode]}
        if params.tool_choice.mode == "function":
            choice["name"] = params.tool_choice.name
    if params.response_format is not None:
        if tools or choice is not None:
            raise _refuse("response_format goes through a forced tool, so it cannot be "
                          "combined with tools or tool_choice: send one or the other.",
                          "response_format")
        tools, choice = [_json_tool(params.response_format)], {"type": "tool",
                                                                "name": JSON_TOOL}
    if params.parallel_tool_calls is False and tools:
        choice = {"type": "auto"} if choice is None else choice
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if tools:
        body["tools"] = tools
    if choice is not None:
        body["tool_choice"] = choice


def _ends_in_tool_results(turns: list[dict[str, Any]]) -> bool:
    last = turns[-1]["content"]
    return turns[-1]["role"] == "user" and bool(last) and last[0]["type"] == "tool_result"


def _thinking(request: CompletionRequest, body: dict[str, Any],
              warnings: list[CallWarning]) -> int:
    """Set `thinking` when asked for; return its budget (0 without). Thinking asked for but
    not sent is added to warnings."""
    params, options = request.params, request.options
    budget = options.get("thinking_budget")
    if budget is None and params.reasoning_effort not in (None, "none"):
        budget = EFFORT_BUDGETS[str(params.reasoning_effort)]
    if budget is None:
        return 0
    if _ends_in_tool_results(body["messages"]):
        # The turn answering tool results continues an assistant turn whose signed thinking
        # block the core's messages do not carry, and the API wants it replayed before the
        # tool_use: that call goes without thinking, as the API itself then answers (the
        # turn's thinking came with its first leg). Said, not silently dropped.
        warnings.append(CallWarning(_thinking_param(request), (
            "thinking was not sent with this call: it answers tool results, and Anthropic "
            "wants the earlier turn's signed thinking block replayed first, which a "
            "conversation in jackfield's messages does not carry.")))
        return 0
    param = _thinking_param(request)
    if budget < MIN_BUDGET:
        raise _refuse(f"thinking_budget must be at least {MIN_BUDGET}, got {budget}.", param)
    if body.get("tool_choice", {}).get("type") in ("any", "tool"):
        raise _refuse("thinking cannot be combined with a forced tool (tool_choice required "
                      "or a function, or response_format): drop one.", param)
    if body.get("temperature") is not None or "top_k" in body:
        raise _refuse("thinking cannot be combined with temperature or top_k: leave them "
                      "out.", "temperature" if "temperature" in body else "top_k")
    if body.get("top_p") is not None and not 0.95 <= body["top_p"] <= 1:
        raise _refuse("with thinking, top_p must be from 0.95 to 1.", "top_p")
    body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    return int(budget)


def _thinking_param(request: CompletionRequest) -> str:
    return "thinking_budget" if "thinking_budget" in request.options else "reasoning_effort"


def _sampling(request: CompletionRequest, body: dict[str, Any]) -> None:
    params = request.params
    if params.temperature is not None:
        if params.temperature > 1:
            raise _refuse(f"temperature ranges from 0 to 1, got {params.temperature:g}.",
                          "temperature")
        body["temperature"] = params.temperature
    if params.top_p is not None:
        body["top_p"] = params.top_p
    if params.stop:
        if any(not stop.strip() for stop in params.stop):
            raise _refuse("a stop sequence must hold more than whitespace.", "stop")
        body["stop_sequences"] = list(params.stop)
    if "top_k" in request.options:
        body["top_k"] = request.options["top_k"]
    if "user_id" in request.options:
        body["metadata"] = {"user_id": request.options["user_id"]}


def _messages(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    system, turns = convert(request.messages)
    body: dict[str, Any] = {"model": request.model.id, "messages": turns}
    if system:
        body["system"] = system
    _sampling(request, body)
    _tools(request, body)
    warnings: list[CallWarning] = []
    budget = _thinking(request, body, warnings)
    given = request.params.max_tokens
    if given is not None and given <= budget:
        raise _refuse(f"max_tokens ({given}) must exceed the thinking budget ({budget}): "
                      "raise it, or lower reasoning_effort.", "max_tokens")
    body["max_tokens"] = given if given is not None else DEFAULT_MAX_TOKENS + budget
    headers = {"content-type": "application/json", "accept": "application/json",
               **auth_headers(config)}
    if request.stream:
        body["stream"] = True
        headers["accept"] = "text/event-stream"
    return HttpRequest("POST", config.url("v1/messages"), headers=headers, json=body,
                       stream=request.stream, warnings=warnings)


def models_request(config: ProviderConfig, after_id: str | None = None) -> HttpRequest:
    """Return GET {base}/v1/models (a page after after_id), raising AuthenticationError
    first if a key is required."""
    query = "?" + urlencode({"limit": 1000, **({"after_id": after_id} if after_id else {})})
    headers = {"accept": "application/json", **auth_headers(config)}
    return HttpRequest("GET", config.url(f"v1/models{query}"), headers=headers)


def build_request(request: ProviderRequest, config: ProviderConfig) -> HttpRequest:
    """Return the HTTP request of a chat call; other kinds have no Messages endpoint."""
    if not isinstance(request, CompletionRequest) or request.model.kind != "chat":
        kind = "embedding" if not isinstance(request, CompletionRequest) else request.model.kind
        raise _refuse(f"the Messages API has no {kind} models.", "model")
    return _messages(request, config)
