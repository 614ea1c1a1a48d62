"""Anthropic's reply shapes: the `message` object, stop reasons, usage, and errors.

Errors keep the gateway's status, with Anthropic's error type for it, except that a
provider that is down or refuses connections (502 provider_unavailable) becomes 529
overloaded_error: that is what Anthropic's clients know as "the service is unavailable for
now, retry later" (the SDK raises OverloadedError; Claude Code retries and says so). Every
other 502 (a provider's bad reply, its refused credentials, all providers failed) stays 502
with type api_error: Anthropic's API has no 502 of its own, but a status of 5xx is what the
SDK retries and reports as InternalServerError, and 502 keeps it plain that the failure was
behind this server, not in it. 504 stays 504 with type timeout_error, the type Anthropic
gives its own gateway timeouts (the SDK raises GatewayTimeoutError).

A stop sequence: chat-completions providers report the end of a reply at a stop string as
"stop", as they do a natural end, so stop_reason is "stop_sequence" (and stop_sequence set)
only when a provider reports Anthropic's own reason; otherwise such a reply says end_turn.
"""

from __future__ import annotations

import uuid
from typing import Any

from jackfield._engine.completion import Completion
from jackfield._errors import ResponseFormatError
from jackfield._server.call import ChatCall
from jackfield._server.chat_shapes import usage_object, warning_list
from jackfield._server.errors import ApiError, ErrorShape
from jackfield._types.content import ToolCall
from jackfield._types.notices import CallWarning

__all__ = ["ANTHROPIC_ERRORS", "error_type", "message_id", "message_object", "stop_reason",
           "tool_input", "usage_fields"]

_TYPES = {400: "invalid_request_error", 401: "authentication_error",
          403: "permission_error", 404: "not_found_error", 413: "request_too_large",
          429: "rate_limit_error", 503: "overloaded_error", 504: "timeout_error",
          529: "overloaded_error"}
# The finish reasons of the core (OpenAI's) and of providers that pass Anthropic's through.
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                 "function_call": "tool_use", "content_filter": "refusal"}
_ANTHROPIC_REASONS = frozenset({"end_turn", "max_tokens", "stop_sequence", "tool_use",
                                "pause_turn", "refusal", "model_context_window_exceeded"})


def _status(error: ApiError) -> int:
    return 529 if error.code == "provider_unavailable" else error.status


def error_type(status: int) -> str:
    """Return Anthropic's error type for an HTTP status."""
    if status in _TYPES:
        return _TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def _error_body(error: ApiError) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type(_status(error)),
                                       "message": error.message}}


# The shape of every error on the Messages routes: replies, auth and guard refusals, the
# shutdown's last words, and a stream's closing `event: error`.
ANTHROPIC_ERRORS = ErrorShape(_error_body, _status, event="error")


def message_id() -> str:
    """Return a fresh id in Anthropic's style (msg_...)."""
    return f"msg_{uuid.uuid4().hex}"


def stop_reason(completion: Completion) -> str:
    """Return Anthropic's stop_reason for a finished reply."""
    if completion.tool_calls:
        return "tool_use"
    reason = completion.finish_reason or "stop"
    if reason in _ANTHROPIC_REASONS:
        return reason
    return _STOP_REASONS.get(reason, "end_turn")


def usage_fields(completion: Completion, call: ChatCall) -> dict[str, Any]:
    """Return Anthropic's usage; counts the provider did not give are estimated, and then
    `jackfield_estimated` is true (as in the OpenAI routes' usage)."""
    usage = usage_object(completion, call)
    return {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
            "cache_creation_input_tokens": None, "cache_read_input_tokens": None,
            "jackfield_estimated": usage["jackfield_estimated"]}


def tool_input(call: ToolCall, provider: str) -> Any:
    """Return a tool call's arguments as the object Anthropic's `input` is."""
    try:
        arguments = call.parsed_arguments()
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise ResponseFormatError(provider, f"the model called {call.name!r} with arguments "
                                            "that are not a JSON object",
                                  advice="Retry the call, or pick a model that calls tools "
                                         "natively.")
    return arguments


def message_object(completion: Completion, call: ChatCall, call_id: str,
                   warnings: tuple[CallWarning, ...]) -> dict[str, Any]:
    """Return the `message` reply: thinking, text and tool_use blocks, in that order."""
    content: list[dict[str, Any]] = []
    if completion.reasoning:
        content.append({"type": "thinking", "thinking": completion.reasoning, "signature": ""})
    if completion.text:
        content.append({"type": "text", "text": completion.text})
    for tool_call in completion.tool_calls:
        content.append({"type": "tool_use", "id": tool_call.id, "name": tool_call.name,
                        "input": tool_input(tool_call, completion.provider)})
    reason = stop_reason(completion)
    return {"id": call_id, "type": "message", "role": "assistant",
            "model": completion.model or call.model, "content": content,
            "stop_reason": reason, "stop_sequence": None,
            "usage": usage_fields(completion, call), "provider": completion.provider,
            "jackfield_warnings": warning_list(warnings)}
