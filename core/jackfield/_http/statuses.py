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


def error_for_status(provider: str, status: int, headers: Mapping[str, str], body: bytes,
                     content_type: str = "", auth_hint: str = "") -> ProviderError:
    """Map a non-2xx answer to the typed error a caller can act on."""
    said = describe_body(body, content_type)
    if status in (401, 403):
        html = said.startswith("an HTML page")
        reason = ("the provider refused access with " + said + " (a login or bot-challenge page)"
                  if html else "the provider refused our credentials")
        # A challenge page is no verdict on our credentials: say what it is before the hint.
        advice = (("This is a page for browsers, not an API answer: try again later or from "
                   "another network. " + auth_hint).strip() if html else auth_hint or None)
        return AuthenticationError(provider, reason, status=status, body=None if html else said,
                                   advice=advice)
    if status == 429:
        return RateLimitError(provider, "rate limited", status=status, body=said,
                              retry_after=parse_retry_after(headers.get("Retry-After")))
    if status == 408:
        return ProviderTimeoutError(provider, "the provider timed out the request",
                                    status=status, body=said)
    if status >= 500:
        return ProviderUnavailableError(provider, "the provider failed", status=status, body=said)
    return ProviderError(provider, "the provider rejected the request", status=status, body=said,
                         advice="Check the model name and options; if they are right, the plugin "
                                "may be out of date.")
