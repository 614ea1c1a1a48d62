"""The unified request a provider translates, and the plain HTTP request it translates it to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from jackfield._types.messages import Message
from jackfield._types.notices import CallWarning
from jackfield._types.params import NO_PARAMS, CallParams
from jackfield._types.specs import ModelSpec

__all__ = [
    "SENSITIVE_HEADERS", "CompletionRequest", "EmbeddingRequest", "HttpRequest", "ProviderRequest",
    "redact_headers", "redact_url",
]

# Header values that are credentials: redacted wherever a request is shown, and masked in
# errors when configured (`headers` of a provider's table: Gemini's key header, an API
# gateway's subscription key, a self-hosted server's token).
SENSITIVE_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-api-key", "api-key", "set-cookie",
     "x-goog-api-key", "ocp-apim-subscription-key", "x-auth-token", "x-access-token",
     "private-token"}
)


def redact_url(url: str) -> str:
    """Return url with its password and query values replaced by '***', for reprs.

    A token may ride in either (`https://user:token@host`, `?key=...`); the path is kept,
    as it says which endpoint was meant.
    """
    if "@" not in url and "?" not in url:
        return url  # the usual case, without parsing
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<a malformed URL>"
    netloc = parts.netloc
    if password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    query = "&".join(f"{pair.partition('=')[0]}=***" for pair in parts.query.split("&") if pair)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return headers with credential values replaced by '***'."""
    return {k: ("***" if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


@attrs.frozen
class CompletionRequest:
    """One call as the provider sees it: resolved model, validated messages, the first-class
    parameters this model is sent (`params`) and the provider's own options."""

    provider: str
    model: ModelSpec
    messages: tuple[Message, ...]
    options: Mapping[str, Any] = attrs.field(factory=dict)
    stream: bool = False
    params: CallParams = NO_PARAMS

    @property
    def prompt(self) -> str:
        """Return the content of the last message (the image prompt, for image models)."""
        return self.messages[-1].content


@attrs.frozen
class EmbeddingRequest:
    """One embedding call as the provider sees it: resolved model, the texts to embed, the
    `dimensions` asked for (None: the model's own) and the provider's own options."""

    provider: str
    model: ModelSpec
    inputs: tuple[str, ...]
    options: Mapping[str, Any] = attrs.field(factory=dict)
    dimensions: int | None = None
    # An embedding reply is never streamed; kept so every request has the same fields.
    stream: bool = False


# What the request-building and response-parsing hooks get: look at request.model.kind.
ProviderRequest = CompletionRequest | EmbeddingRequest


def _warnings(values: Iterable[CallWarning]) -> tuple[CallWarning, ...]:
    # Typed: with `converter=tuple`, mypy --strict refuses a list of CallWarnings.
    return tuple(values)


@attrs.frozen(repr=False)
class HttpRequest:
    """A plain description of the HTTP request to send; the core's transport sends it."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    json: Any = None
    # True when the reply is read piece by piece (SSE); it selects the read-idle timeout.
    stream: bool = False
    # What this request leaves out of what the caller asked for, which only the plugin can
    # know (a field the service takes only in some turns, say): reported with the answer
    # as the core's own warnings are, never silently dropped. Not sent.
    warnings: tuple[CallWarning, ...] = attrs.field(default=(), converter=_warnings)

    def __repr__(self) -> str:
        return (f"HttpRequest(method={self.method!r}, url={redact_url(self.url)!r}, "
                f"headers={redact_headers(self.headers)!r}, stream={self.stream!r})")
