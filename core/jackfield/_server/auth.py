"""Bearer-token check for every route but /health, compared in constant time."""

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


def _refuse(code: str, message: str) -> web.Response:
    return error_response(ApiError(401, "authentication_error", code, message, _CHALLENGE))


def auth_middleware(api_key: str) -> Middleware:
    """Return a middleware that lets through only `Authorization: Bearer <api_key>`."""
    if not api_key:
        raise ValueError("the API key must not be empty")
    expected = api_key.encode()

    @web.middleware
    async def check_api_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _refuse("missing_api_key",
                           "This server needs an API key: send `Authorization: Bearer <key>`.")
        # compare_digest takes as long for a wrong key as for a right one: no timing oracle.
        # surrogateescape: aiohttp keeps a non-UTF-8 byte of the header as a lone surrogate.
        if not hmac.compare_digest(token.strip().encode("utf-8", "surrogateescape"), expected):
            return _refuse("invalid_api_key", "The API key is not valid for this server.")
        return await handler(request)

    return check_api_key


def has_api_key(request: web.Request) -> bool:
    """Return True if the server has an API key and the request carries it (on any route)."""
    api_key = request.app.get(API_KEY_KEY, "")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not api_key or scheme.lower() != "bearer" or not token.strip():
        return False
    # surrogateescape: aiohttp keeps a non-UTF-8 byte of the header as a lone surrogate.
    return hmac.compare_digest(token.strip().encode("utf-8", "surrogateescape"),
                               api_key.encode())
