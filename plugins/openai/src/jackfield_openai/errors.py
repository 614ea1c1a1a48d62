"""OpenAI's error object (`{"error": {"message", "type", "param", "code"}}`) as typed errors:
for a non-2xx reply (the error hook) and for an error sent inside a 2xx stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jackfield.provider import (
    AuthenticationError,
    ErrorReply,
    InvalidRequestError,
    JackfieldError,
    ProviderError,
    ProviderRequest,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    UnknownModelError,
    error_for_status,
)

__all__ = ["error_reply", "stream_error"]

QUOTA_ADVICE = ("the account's quota or credit is used up (insufficient_quota): this is not "
                "a burst limit, waiting will not lift it; check the plan and billing")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _names_model(message: str, model: str | None) -> bool:
    return bool(model) and f"{model}" in message


def error_reply(request: ProviderRequest | None, reply: ErrorReply) -> JackfieldError | None:
    """Return the typed error an OpenAI-shaped error reply means, or None for the core's."""
    error = reply.error_object()
    message = " ".join(_text(error.get("message")).split())
    code, kind, param = _text(error.get("code")), _text(error.get("type")), error.get("param")
    if reply.model and (code == "model_not_found"
                        or (reply.status == 404 and _names_model(message, reply.model))):
        return UnknownModelError.from_service(reply.provider, reply.model, message)
    if code == "insufficient_quota":
        return RateLimitError(reply.provider, QUOTA_ADVICE, status=reply.status,
                              body=message or None, quota=True)
    if reply.status == 401:
        return AuthenticationError(reply.provider, "the service refused the API key",
                                   status=401, body=message or None,
                                   advice=reply.default.advice)
    if reply.status == 400 and (code == "context_length_exceeded"
                                or kind == "invalid_request_error"):
        text = message or "the service refused the request"
        return InvalidRequestError(f"{reply.provider}: {text}",
                                   param=param if isinstance(param, str) else None)
    if message and reply.status != 429:
        # The core's own error for the status, quoting the service's message rather than
        # the whole JSON body (a 429's Retry-After is kept by leaving it to the core).
        return error_for_status(reply.provider, reply.status, headers=reply.headers,
                                body=message, auth_hint=reply.default.advice)
    return None


def stream_error(provider: str, error: Mapping[str, Any] | str) -> ProviderError:
    """Return the typed error for `data: {"error": ...}` inside a 2xx stream or body."""
    if isinstance(error, str):
        error = {"message": error}
    message = " ".join(_text(error.get("message")).split()) or "no message"
    label = f"{_text(error.get('type'))} {_text(error.get('code'))}".lower()
    said = "the service reported an error in its reply"
    if "insufficient_quota" in label:
        return RateLimitError(provider, QUOTA_ADVICE, status=None, body=message, quota=True)
    if "rate_limit" in label:
        return RateLimitError(provider, f"{said} (rate limited)", status=None, body=message)
    if "timeout" in label:
        return ProviderTimeoutError(provider, said, body=message)
    if any(word in label for word in ("auth", "api_key", "permission")):
        return AuthenticationError(provider, said, body=message)
    status = error.get("status", error.get("code"))
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        return error_for_status(provider, status, body=message, reason=said)
    if any(word in label for word in ("server", "unavailable", "overloaded", "provider")):
        return ProviderUnavailableError(provider, said, body=message)
    return ProviderError(provider, said, body=message,
                         advice="Try again, or pick another model.")
