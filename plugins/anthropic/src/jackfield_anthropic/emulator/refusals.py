"""What the emulator refuses, as Anthropic refuses it: the error object and its statuses, the
x-api-key and anthropic-version headers, a body that is no JSON object, field types worded
as the API words them ("max_tokens: Input should be a valid integer")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from jackfield.testing import STATS_KEY

__all__ = ["API_KEY", "STATUSES", "VERSIONS", "Refusal", "check_fields", "check_headers",
           "check_type", "error_body", "read_body", "refusals", "require"]

API_KEY = web.AppKey("anthropic_emulator_api_key", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# 2023-06-01 is the version this plugin (and most compatible servers) speak; the anthropic
# SDK of late 2026 sends 2026-10-21, with the key as a bearer token.
VERSIONS = ("2023-06-01", "2023-01-01", "2026-10-21")
# Each error type's status (docs.anthropic.com, "Errors").
STATUSES = {"invalid_request_error": 400, "authentication_error": 401,
            "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
            "rate_limit_error": 429, "api_error": 500, "overloaded_error": 529}
# JSON type -> (Python types, the API's wording of what was expected).
_TYPES: Mapping[str, tuple[type | tuple[type, ...], str]] = {
    "string": (str, "a valid string"), "integer": (int, "a valid integer"),
    "number": ((int, float), "a valid number"), "boolean": (bool, "a valid boolean"),
    "object": (dict, "a valid dictionary"), "array": (list, "a valid list"),
}


class Refusal(Exception):
    """A request the emulator refuses: Anthropic's `{"type": "error", ...}` and its status."""

    def __init__(self, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message, self.kind, self.status = message, kind, STATUSES[kind]


def _request_id(request: web.Request) -> str:
    seed = f"{request.method} {request.path_qs} {request.app[STATS_KEY].requests}"
    return "req_" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def error_body(kind: str, message: str) -> dict[str, Any]:
    """Return the error object Anthropic answers with (and sends as a stream's error event)."""
    return {"type": "error", "error": {"type": kind, "message": message}}


def refusals(handler: Handler) -> Handler:
    """Wrap a handler so that a Refusal becomes its error reply, with a request-id."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refusal as refusal:
            request_id = _request_id(request)
            return web.json_response({**error_body(refusal.kind, refusal.message),
                                      "request_id": request_id}, status=refusal.status,
                                     headers={"request-id": request_id})

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def check_headers(request: web.Request) -> None:
    """With a configured key, require it as x-api-key or `Authorization: Bearer` (401
    otherwise); without one, take any request, as a local compatible server does. Then
    require a known anthropic-version (400 otherwise), in the API's order."""
    expected = request.app[API_KEY]
    bearer = request.headers.get("authorization", "")
    key = request.headers.get("x-api-key") or bearer.removeprefix("Bearer ").strip()
    if expected and not key:
        raise Refusal("x-api-key header is required", "authentication_error")
    if expected and key != expected:
        # The real API names no key; neither does the emulator, so no test can leak one.
        raise Refusal("invalid x-api-key", "authentication_error")
    version = request.headers.get("anthropic-version")
    if not version:
        raise Refusal("anthropic-version: header is required")
    if version not in VERSIONS:
        raise Refusal(f"anthropic-version: invalid version '{version}'")


def check_type(value: Any, expected: str, where: str) -> None:
    """Refuse value unless it is of the JSON type `expected` (booleans are not numbers)."""
    python_type, words = _TYPES[expected]
    if (isinstance(value, bool) and expected in ("integer", "number")) or not isinstance(
            value, python_type):
        raise Refusal(f"{where}: Input should be {words}")


def require(condition: bool, message: str) -> None:
    """Refuse with a 400 invalid_request_error `message` unless condition holds."""
    if not condition:
        raise Refusal(message)


def check_fields(value: Mapping[str, Any], fields: Mapping[str, str], where: str,
                 required: tuple[str, ...] = ()) -> None:
    """Refuse unknown fields ("Extra inputs are not permitted"), missing required ones and
    wrong types (field -> JSON type, "any" for what the caller checks itself)."""
    prefix = f"{where}." if where else ""
    for name in value:
        require(name in fields, f"{prefix}{name}: Extra inputs are not permitted")
    for name in required:
        require(name in value, f"{prefix}{name}: Field required")
    for name, item in value.items():
        if fields[name] != "any":
            check_type(item, fields[name], f"{prefix}{name}")


async def read_body(request: web.Request) -> dict[str, Any]:
    """Return the JSON object of a request, after its headers were checked."""
    check_headers(request)
    try:
        body = await request.json()
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal("There was an issue with your request body: it is not valid JSON."
                      ) from None
    if not isinstance(body, dict):
        raise Refusal("Input should be a valid dictionary")
    request.app[STATS_KEY].last_json = body
    return body
