"""Anthropic's error object (`{"type": "error", "error": {"type", "message"}}`) as typed
errors: for a non-2xx reply (the error hook) and for an `error` event inside a 2xx stream.

- invalid_request_error (400): InvalidRequestError, its `param` from the message's path
  ("messages.1.content" → "messages[1].content"); "credit balance is too low" is a quota;
- authentication_error, permission_error (401, 403): AuthenticationError with the key's hint;
- billing_error (402): RateLimitError(quota=True), not retried;
- not_found_error (404): UnknownModelError.from_service for a call's model;
- request_too_large (413): InvalidRequestError, the request is over the API's size limit;
- rate_limit_error (429): RateLimitError with Retry-After (the core's mapping);
- api_error, overloaded_error (500, 529): ProviderUnavailableError, retried, then the next
  candidate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jackfield.provider import (
    AuthenticationError,
    ErrorReply,
    InvalidRequestError,
    JackfieldError,
    ProviderError,
    ProviderRequest,
    ProviderUnavailableError,
    RateLimitError,
    UnknownModelError,
    error_for_status,
)

from .spec import PROVIDER

__all__ = ["error_reply", "stream_error"]

QUOTA_ADVICE = ("the account's credit is used up: this is not a burst limit, waiting will "
                "not lift it; check the plan and billing")
_CREDIT = ("credit balance is too low", "billing")
# "messages.1.content.0.image.source: ..." or "max_tokens: Field required".
_PATH = re.compile(r"^([a-z_]+(?:\.[a-z0-9_]+)*):\s")
# The status each error type comes with, for one that arrives inside a 2xx stream.
_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
           "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
           "rate_limit_error": 429, "api_error": 500, "overloaded_error": 529,
           "timeout_error": 504}


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _param(message: str) -> str | None:
    """Return the field a message names, in jackfield's form ("messages[1].content")."""
    match = _PATH.match(message)
    if match is None:
        return None
    return re.sub(r"\.(\d+)", r"[\1]", match.group(1))


def _typed(provider: str, kind: str, status: int | None, message: str,
           model: str | None) -> JackfieldError | None:
    """Return the error that an error type means, None for the core's status mapping."""
    said = message or "no message"
    if kind == "billing_error" or any(words in message.lower() for words in _CREDIT):
        return RateLimitError(provider, QUOTA_ADVICE, status=status, body=said, quota=True)
    if kind == "not_found_error" and model:
        return UnknownModelError.from_service(provider, model, said)
    if kind == "invalid_request_error":
        return InvalidRequestError(f"{provider}: {said}", param=_param(message))
    if kind == "request_too_large":
        return InvalidRequestError(f"{provider}: the request is larger than the API takes "
                                   f"({said}); send fewer or smaller images or less text.",
                                   param="messages")
    if kind in ("overloaded_error", "api_error"):
        return ProviderUnavailableError(provider, "the service is overloaded" if
                                        kind == "overloaded_error" else "the service failed",
                                        status=status, body=said)
    return None


def _key_advice(reply: ErrorReply) -> str:
    """Return how to set the key: the plugin's hint for its own provider; for a named
    instance its own variable (the core's default advice names the plugin's variables)."""
    if reply.provider == PROVIDER:
        return reply.default.advice
    variable = "JACKFIELD_" + re.sub(r"[^A-Z0-9]", "_", reply.provider.upper()) + "_API_KEY"
    return (f"Set {variable}, or api_key in [providers.{reply.provider}] of the config "
            "file.")


def error_reply(request: ProviderRequest | None, reply: ErrorReply) -> JackfieldError | None:
    """Return the typed error an Anthropic error reply means, or None for the core's."""
    error = reply.error_object()
    message, kind = _text(error.get("message")), _text(error.get("type"))
    typed = _typed(reply.provider, kind, reply.status, message, reply.model)
    if typed is not None:
        return typed
    if reply.status in (401, 403) and message:  # a page (a bot challenge): the core's words
        return AuthenticationError(reply.provider, "the service refused the API key"
                                   if reply.status == 401 else "the service refused access",
                                   status=reply.status, body=message,
                                   advice=_key_advice(reply))
    if message and reply.status != 429:
        # The core's error for the status, quoting the message rather than the whole body
        # (a 429's Retry-After is kept by leaving it to the core).
        return error_for_status(reply.provider, reply.status, headers=reply.headers,
                                body=message, auth_hint=_key_advice(reply))
    return None


def stream_error(provider: str, model: str, error: Any) -> ProviderError | JackfieldError:
    """Return the typed error of an `error` event inside a 2xx stream (or a 2xx body)."""
    if not isinstance(error, Mapping):
        error = {"message": str(error)}
    message, kind = _text(error.get("message")), _text(error.get("type"))
    status = _STATUS.get(kind)
    typed = _typed(provider, kind, status, message, model)
    if typed is not None:
        return typed
    reason = "the service reported an error in its reply"
    if status is not None:
        return error_for_status(provider, status, body=message or kind, reason=reason)
    return ProviderError(provider, reason, body=message or kind or None,
                         advice="Try again, or pick another model.")
