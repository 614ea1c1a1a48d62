"""What the emulator refuses, as OpenAI refuses it: the error object, unknown fields, wrong
types, a missing or wrong bearer key."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from jackfield.testing import STATS_KEY

__all__ = ["API_KEY", "Refusal", "check_auth", "check_type", "error_response", "json_body",
           "refusals", "require"]

API_KEY = web.AppKey("openai_emulator_api_key", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# OpenAI's wording for each expected type ("expected a decimal, but got a string instead").
_TYPE_WORDS: Mapping[str, tuple[type | tuple[type, ...], str]] = {
    "string": (str, "a string"), "integer": (int, "an integer"),
    "number": ((int, float), "a decimal"), "boolean": (bool, "a boolean"),
    "object": (dict, "an object"), "array": (list, "an array"),
}
_GOT = {str: "a string", int: "an integer", float: "a decimal", bool: "a boolean",
        dict: "an object", list: "an array", type(None): "null"}


class Refusal(Exception):
    """A request the emulator refuses: becomes OpenAI's `{"error": {...}}` with its status."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = (
            status, message, param, code, type_)


def error_response(refusal: Refusal) -> web.Response:
    """Return the JSON error reply OpenAI sends for refusal."""
    return web.json_response({"error": {"message": refusal.message, "type": refusal.type,
                                        "param": refusal.param, "code": refusal.code}},
                             status=refusal.status)


def refusals(handler: Handler) -> Handler:
    """Wrap a handler so that a Refusal becomes its error reply."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refusal as refusal:
            return error_response(refusal)

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def check_auth(request: web.Request) -> None:
    """With a configured key, require `Authorization: Bearer <it>` (401 otherwise); without
    one, take any request, as a local vLLM or Ollama does."""
    expected = request.app[API_KEY]
    if not expected:
        return
    header = request.headers.get("authorization", "")
    if not header:
        raise Refusal(401, "You didn't provide an API key. You need to provide your API key in "
                           "an Authorization header using Bearer auth (i.e. Authorization: "
                           "Bearer YOUR_KEY).")
    if header != f"Bearer {expected}":
        # The real API shows a masked key; the emulator shows none, so no test can leak one.
        raise Refusal(401, "Incorrect API key provided. You can find your API key at "
                           "https://platform.openai.com/account/api-keys.",
                      code="invalid_api_key")


def _got(value: Any) -> str:
    return _GOT.get(type(value), type(value).__name__)


def check_type(value: Any, expected: str, param: str) -> None:
    """Refuse value unless it is of the JSON type `expected` (booleans are not numbers)."""
    python_type, words = _TYPE_WORDS[expected]
    wrong_bool = isinstance(value, bool) and expected in ("integer", "number")
    if wrong_bool or not isinstance(value, python_type):
        raise Refusal(400, f"Invalid type for '{param}': expected {words}, but got "
                           f"{_got(value)} instead.", param=param, code="invalid_type")


def require(condition: bool, message: str, param: str | None = None,
            code: str | None = None) -> None:
    """Refuse with a 400 `message` unless condition holds."""
    if not condition:
        raise Refusal(400, message, param=param, code=code)


async def json_body(request: web.Request, fields: Mapping[str, str],
                    required: tuple[str, ...]) -> dict[str, Any]:
    """Return the checked JSON body: an object with only known fields (field -> JSON type,
    "any" for free-form) and every required one; auth is checked first."""
    check_auth(request)
    if request.content_type != "application/json":
        raise Refusal(400, "Invalid content type: the body must be JSON "
                           "(Content-Type: application/json).")
    try:
        body = await request.json()
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(400, "We could not parse the JSON body of your request. (HINT: This "
                           "likely means you aren't using your HTTP library correctly.)"
                      ) from None
    if not isinstance(body, dict):
        raise Refusal(400, "The body of your request must be a JSON object.")
    request.app[STATS_KEY].last_json = body
    for name in body:
        if name not in fields:
            raise Refusal(400, f"Unrecognized request argument supplied: {name}", param=name)
    for name in required:
        if name not in body:
            raise Refusal(400, f"Missing required parameter: '{name}'.", param=name,
                          code="missing_required_parameter")
    for name, value in body.items():
        # null means "the default" for OpenAI's optional fields.
        if fields[name] != "any" and value is not None:
            check_type(value, fields[name], name)
    return body
