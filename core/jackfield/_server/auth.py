"""The server key's check for every route but /health, compared in constant time.

A client sends it as `Authorization: Bearer <key>` (OpenAI's SDKs and most clients) or as
`x-api-key: <key>` (Anthropic's SDK, Claude Code); either is accepted on every route.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Middleware

from jackfield._server.errors import ApiError, Handler, error_response

__all__ = ["API_KEY_ENV", "API_KEY_KEY", "OPEN_PATHS", "auth_middleware", "has_api_key"]

API_KEY_ENV = "JACKFIELD_API_KEY"
OPEN_PATHS = frozenset({"/health"})  # load balancers probe it without credentials
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="jackfield"'}
# The server's API key ("" when it has none), for an open route that shows more with it.
API_KEY_KEY = web.AppKey("jackfield_api_key", str)


def _refuse(request: web.Request, code: str, message: str) -> web.Response:
    return error_response(ApiError(401, "authentication_error", code, message, _CHALLENGE),
                          request)


def _sent_key(request: web.Request) -> str | None:
    """Return the key the request carries (Bearer token, else x-api-key), or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = request.headers.get("x-api-key", "").strip()
    return key or None


def _matches(sent: str, expected: bytes) -> bool:
    # compare_digest takes as long for a wrong key as for a right one: no timing oracle.
    # surrogateescape: aiohttp keeps a non-UTF-8 byte of the header as a lone surrogate.
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), expected)


def auth_middleware(api_key: str) -> Middleware:
    """Return a middleware that lets through only requests that carry api_key."""
    if not api_key:
        raise ValueError("the API key must not be empty")
    expected = api_key.encode()

    @web.middleware
    async def check_api_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        sent = _sent_key(request)
        if sent is None:
            return _refuse(request, "missing_api_key",
                           "This server needs an API key: send `Authorization: Bearer <key>` "
                           "(or `x-api-key: <key>`).")
        if not _matches(sent, expected):
            return _refuse(request, "invalid_api_key",
                           "The API key is not valid for this server.")
        return await handler(request)

    return check_api_key


def has_api_key(request: web.Request) -> bool:
    """Return True if the server has an API key and the request carries it (on any route)."""
    api_key = request.app.get(API_KEY_KEY, "")
    sent = _sent_key(request)
    return bool(api_key) and sent is not None and _matches(sent, api_key.encode())
