"""The server key's check for every route but /health, compared in constant time.

A client sends it as `Authorization: Bearer <key>` (OpenAI's SDKs and most clients) or as
`x-api-key: <key>` (Anthropic's SDK, Claude Code); either is accepted on every route. The
key is the single `--api-key` (named "api-key" in the logs), or one of the named keys of
jackfield._server.server_keys, or either when both are set; the request then carries its
ServerKey (SERVER_KEY_KEY) for the limits, and the access log its name.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from aiohttp.typedefs import Middleware

from jackfield._server.access_log import note_call
from jackfield._server.errors import ApiError, Handler, error_response
from jackfield._server.server_keys import KeyRing, ServerKey

__all__ = ["API_KEY_ENV", "API_KEY_KEY", "KEYRING_KEY", "OPEN_PATHS", "SERVER_KEY_KEY",
           "SINGLE_KEY_NAME", "auth_middleware", "has_api_key"]

API_KEY_ENV = "JACKFIELD_API_KEY"
OPEN_PATHS = frozenset({"/health"})  # load balancers probe it without credentials
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="jackfield"'}
# The server's API key ("" when it has none), for an open route that shows more with it.
API_KEY_KEY = web.AppKey("jackfield_api_key", str)
# The named keys (empty when there are none).
KEYRING_KEY = web.AppKey("jackfield_keyring", KeyRing)
# The named key a request came with (absent for the single key or none).
SERVER_KEY_KEY = web.RequestKey("jackfield_server_key", ServerKey)
SINGLE_KEY_NAME = "api-key"


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


def _identify(request: web.Request, sent: str) -> bool:
    """Return True if sent is the single key or a named one (noting which on the request)."""
    api_key = request.app.get(API_KEY_KEY, "")
    single = bool(api_key) and _matches(sent, api_key.encode())
    keyring = request.app.get(KEYRING_KEY)
    named = keyring.match(sent) if keyring else None  # asked either way: same time for both
    if named is not None:
        request[SERVER_KEY_KEY] = named
        note_call(request, key=named.name)
        return True
    if single:
        note_call(request, key=SINGLE_KEY_NAME)
    return single


def auth_middleware(api_key: str | None = None, keyring: KeyRing | None = None) -> Middleware:
    """Return a middleware that lets through only requests that carry api_key or one of the
    keyring's keys (the app holds both, under API_KEY_KEY and KEYRING_KEY)."""
    if not api_key and not keyring:
        raise ValueError("the API key must not be empty")

    @web.middleware
    async def check_api_key(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        sent = _sent_key(request)
        if sent is None:
            return _refuse(request, "missing_api_key",
                           "This server needs an API key: send `Authorization: Bearer <key>` "
                           "(or `x-api-key: <key>`).")
        if not _identify(request, sent):
            return _refuse(request, "invalid_api_key",
                           "The API key is not valid for this server.")
        return await handler(request)

    return check_api_key


def has_api_key(request: web.Request) -> bool:
    """Return True if the server has an API key (or named keys) and the request carries one
    (on any route)."""
    api_key = request.app.get(API_KEY_KEY, "")
    keyring = request.app.get(KEYRING_KEY)
    sent = _sent_key(request)
    if sent is None or not (api_key or keyring):
        return False
    single = bool(api_key) and _matches(sent, api_key.encode())
    return (keyring.match(sent) is not None if keyring else False) or single
