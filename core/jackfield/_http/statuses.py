"""Error replies as typed errors: a status, its headers and its body, with no HTTP stack."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping

from jackfield._errors import (
    AuthenticationError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
)

__all__ = ["describe_body", "error_for_status", "parse_retry_after"]


def parse_retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks for (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe_body(body: bytes, content_type: str) -> str:
    """Return what an error body says: its JSON message, an HTML page's title, or its text."""
    text = body.decode("utf-8", "replace")
    if "html" in content_type or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        return "an HTML page" + (f" titled {title.group(1).strip()!r}" if title else "")
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        for key in ("message", "error", "detail"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message", value)
            if value:
                return str(value)
    return text


def error_for_status(provider: str, status: int, *, headers: Mapping[str, str] | None = None,
                     body: bytes | str = b"", auth_hint: str = "",
                     reason: str | None = None) -> ProviderError:
    """Return the typed error a caller can act on for a non-2xx status, or an error a service
    reports inside a 2xx reply with its own status code.

    :param headers: the reply's headers, if any: `Retry-After` and `Content-Type` are read.
    :param body: the reply's body; its JSON message or HTML page title is quoted.
    :param auth_hint: the provider's `auth_hint`, appended to 401/403 advice.
    :param reason: what went wrong, instead of the status's own wording.
    """
    headers = headers or {}
    content_type = _header(headers, "Content-Type")
    said = describe_body(body.encode() if isinstance(body, str) else body, content_type)
    if status in (401, 403):
        html = said.startswith("an HTML page")
        default = ("the provider refused access with " + said + " (a login or bot-challenge page)"
                   if html else "the provider refused our credentials")
        # A challenge page is no verdict on our credentials: say what it is before the hint.
        advice = (("This is a page for browsers, not an API answer: try again later or from "
                   "another network. " + auth_hint).strip() if html else auth_hint or None)
        return AuthenticationError(provider, reason or default, status=status,
                                   body=None if html else said, advice=advice)
    if status == 429:
        return RateLimitError(provider, reason or "rate limited", status=status, body=said,
                              retry_after=parse_retry_after(_header(headers, "Retry-After")))
    if status == 408:
        return ProviderTimeoutError(provider, reason or "the provider timed out the request",
                                    status=status, body=said)
    if status >= 500:
        return ProviderUnavailableError(provider, reason or "the provider failed",
                                        status=status, body=said)
    if status == 402:
        # "Balance is not enough" and the like: the same model will not work on a retry.
        return ProviderError(provider, reason or "the provider wants payment for this model",
                             status=status, body=said,
                             advice="Pick another model, or check your account with the provider.")
    return ProviderError(provider, reason or "the provider rejected the request", status=status,
                         body=said, advice="Check the model name and options; if they are "
                                           "right, the plugin may be out of date.")


def _header(headers: Mapping[str, str], name: str) -> str:
    """Return a header's value whatever its case (a plain dict is not case-insensitive)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or ""
