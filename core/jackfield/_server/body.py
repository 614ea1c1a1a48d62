"""Reading a request body: JSON only, in a known encoding, within a time limit and a depth."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from jackfield._errors import InvalidRequestError
from jackfield._json import loads
from jackfield._server.errors import ApiError, Refusal

__all__ = ["BODY_TIMEOUT_KEY", "DEFAULT_BODY_TIMEOUT", "MAX_DEPTH", "read_json"]

DEFAULT_BODY_TIMEOUT = 30.0
# The time a client has to send the whole body once its headers came (slowloris).
BODY_TIMEOUT_KEY = web.AppKey("jackfield_body_timeout", float)
# OpenAI bodies nest a few levels (messages, content parts, tool schemas); far deeper is an
# attack on the recursion of whatever walks the value later.
MAX_DEPTH = 64
# What aiohttp itself decodes without optional libraries; anything else would reach the JSON
# parser still encoded.
_ENCODINGS = frozenset({"identity", "gzip", "deflate"})


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_request(request: web.Request) -> None:
    """Refuse a body that is not JSON: a web page's form POST sends text/plain or a form."""
    if request.content_type != "application/json":
        sent = request.headers.get("Content-Type", "none")
        raise Refusal(ApiError(
            415, "invalid_request_error", "unsupported_media_type",
            f"The body must be sent as `Content-Type: application/json` (got {sent!r})."))
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in _ENCODINGS:
        raise Refusal(ApiError(
            415, "invalid_request_error", "unsupported_content_encoding",
            f"Content-Encoding {encoding!r} is not supported; send the body as it is, or "
            "gzip or deflate it."))


def _depth(value: Any) -> int:
    """Return how deeply value nests, without recursion (the walk must not overflow either)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                pending.extend((child, depth + 1) for child in children)
    return deepest


async def read_json(request: web.Request) -> dict[str, Any]:
    """Return the request body as a JSON object: 400, 408, 413 or 415 when it is not one."""
    _check_request(request)
    try:
        if request.content.is_eof():  # all of it came with the headers: nothing to wait for
            raw = await request.read()  # aiohttp enforces client_max_size here (413)
        else:
            async with asyncio.timeout(request.app.get(BODY_TIMEOUT_KEY, DEFAULT_BODY_TIMEOUT)):
                raw = await request.read()
    except TimeoutError as error:
        raise Refusal(ApiError(
            408, "invalid_request_error", "request_timeout",
            "The request body did not arrive in time; send it whole at once.")) from error
    except RequestPayloadError as error:  # a corrupt gzip, a body cut short
        raise InvalidRequestError(f"The body could not be read: {error}.") from error
    try:
        body = loads(raw, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        raise InvalidRequestError(f"The body is not valid JSON: {error}.") from error
    except RecursionError as error:
        raise InvalidRequestError(f"The body nests deeper than {MAX_DEPTH} levels.") from error
    if not isinstance(body, dict):
        raise InvalidRequestError("The body must be a JSON object.")
    # Each level opens with a bracket, so a body with few of them (brackets inside strings
    # count too: an upper bound) cannot nest too deep, and the walk is skipped (issue 16).
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(body) > MAX_DEPTH:
        raise InvalidRequestError(f"The body nests deeper than {MAX_DEPTH} levels.")
    return body
