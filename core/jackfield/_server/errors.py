"""jackfield errors and HTTP failures as OpenAI-shaped error replies with the right status."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

from jackfield._errors import (
    AllProvidersFailedError,
    AuthenticationError,
    InvalidRequestError,
    JackfieldError,
    PartialResponseError,
    PluginError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
    UnknownModelError,
)
from jackfield._secrets import mask_known

__all__ = [
    "ERROR_SHAPES_KEY", "MAX_BODY_KEY", "OPENAI_ERRORS", "RESPONSE_KEY", "ApiError",
    "ErrorShape", "Refusal", "classify", "error_body", "error_middleware", "error_response",
    "error_shape", "remember_response",
]

log = logging.getLogger("jackfield._server")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The body-size limit the app enforces (client_max_size), for the 413 message.
MAX_BODY_KEY = web.AppKey("jackfield_max_body_bytes", int)
# The response whose headers went out (on_response_prepare), for a request that fails later.
RESPONSE_KEY = web.RequestKey("jackfield_response", web.StreamResponse)


@attrs.frozen
class ApiError:
    """One error as the client sees it: HTTP status, OpenAI `type`, `code` and `param` (the
    offending field, when one is), extra headers."""

    status: int
    type: str
    code: str
    message: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    param: str | None = None


class Refusal(Exception):
    """A request the server refuses before any provider call, answered with error as it is."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


async def remember_response(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: keep the response whose headers are sent, for error_middleware."""
    request[RESPONSE_KEY] = response


def _masked(error: ApiError) -> ApiError:
    # Every error reply and stream error event passes here: the message is masked once more
    # with every secret the process knows (the API key, each provider's credentials).
    return attrs.evolve(error, message=mask_known(error.message))


def error_body(error: ApiError) -> dict[str, dict[str, str | None]]:
    """Return the OpenAI error object: {"error": {"message", "type", "param", "code"}},
    its message masked."""
    return {"error": {"message": mask_known(error.message), "type": error.type,
                      "param": error.param, "code": error.code}}


def _same_status(error: ApiError) -> int:
    return error.status


@attrs.frozen
class ErrorShape:
    """How one wire format writes an error: `body` the JSON of an error reply and of an
    in-stream error event, `status` the HTTP status for the neutral ApiError (a format may
    have statuses of its own), `event` the SSE event name its streams give an error (None:
    a bare `data:` line, as OpenAI's chat stream). Messages are masked before `body` runs.
    """

    body: Callable[[ApiError], dict[str, Any]]
    status: Callable[[ApiError], int] = _same_status
    event: str | None = None

    def response(self, error: ApiError) -> web.Response:
        """Return the JSON error reply for error."""
        error = _masked(error)
        return web.json_response(self.body(error), status=self.status(error),
                                 headers=error.headers, dumps=json.dumps)

    def event_bytes(self, error: ApiError) -> bytes:
        """Return the SSE event that ends a stream with error."""
        head = b"" if self.event is None else b"event: " + self.event.encode() + b"\n"
        return head + b"data: " + json.dumps(self.body(_masked(error))).encode() + b"\n\n"


OPENAI_ERRORS = ErrorShape(error_body)
# Path prefix -> the shape of errors on the routes under it (anything else: OpenAI's).
ERROR_SHAPES_KEY = web.AppKey("jackfield_error_shapes", dict[str, ErrorShape])


def error_shape(request: web.Request | None) -> ErrorShape:
    """Return the error shape of the wire format request speaks (by its path)."""
    if request is not None:
        path = request.path
        for prefix, shape in request.app.get(ERROR_SHAPES_KEY, {}).items():
            if path == prefix or path.startswith(prefix + "/"):
                return shape
    return OPENAI_ERRORS


def error_response(error: ApiError, request: web.Request | None = None) -> web.Response:
    """Return the JSON error reply for error, in the shape of request's wire format."""
    return error_shape(request).response(error)


def _retry_after(seconds: float | None) -> dict[str, str]:
    # Retry-After takes whole seconds; rounding up never invites a too-early retry.
    return {} if seconds is None else {"Retry-After": str(max(1, math.ceil(seconds)))}


def _provider_code(error: ProviderError) -> str:
    if isinstance(error, PartialResponseError):
        return "provider_partial_response"
    if isinstance(error, AuthenticationError):
        return "provider_authentication_failed"
    if isinstance(error, ProviderUnavailableError):
        return "provider_unavailable"
    if isinstance(error, ResponseFormatError):
        return "provider_bad_response"
    return "provider_error"


def classify(error: JackfieldError) -> ApiError:
    """Map a jackfield error to its status: 400, 404, 429, 502, 504 (500 for the unforeseen)."""
    message = " ".join(str(error).split())  # multi-line messages read badly in one JSON field
    if isinstance(error, UnknownModelError):
        return ApiError(404, "invalid_request_error", "model_not_found", message, param="model")
    if isinstance(error, InvalidRequestError):  # CapabilityError included, with its param
        return ApiError(400, "invalid_request_error", "invalid_request", message,
                        param=error.param)
    if isinstance(error, RateLimitError):
        return ApiError(429, "rate_limit_error", "rate_limit_exceeded", message,
                        _retry_after(error.retry_after))
    if isinstance(error, ProviderTimeoutError):
        return ApiError(504, "timeout_error", "provider_timeout", message)
    if isinstance(error, ProviderError):
        return ApiError(502, "provider_error", _provider_code(error), message)
    if isinstance(error, AllProvidersFailedError):
        return _all_failed(error, message)
    if isinstance(error, PluginError):
        return ApiError(502, "provider_error", "plugin_error", message)
    return ApiError(500, "server_error", "internal_error", message)


def _all_failed(error: AllProvidersFailedError, message: str) -> ApiError:
    """Every candidate failed: keep 429 or 504 when all of them failed that same way."""
    causes = error.errors
    if causes and all(isinstance(c, RateLimitError) for c in causes):
        waits = [c.retry_after for c in causes if isinstance(c, RateLimitError)]
        known = [w for w in waits if w is not None]
        return ApiError(429, "rate_limit_error", "rate_limit_exceeded", message,
                        _retry_after(min(known) if len(known) == len(waits) else None))
    if causes and all(isinstance(c, ProviderTimeoutError) for c in causes):
        return ApiError(504, "timeout_error", "provider_timeout", message)
    return ApiError(502, "provider_error", "all_providers_failed", message)


def _served(app: web.Application) -> str:
    """Return the routes app serves, as "GET /v1/models, POST /v1/chat/completions, ..."."""
    routes = [f"{route.method} {route.resource.canonical}" for route in app.router.routes()
              if route.method not in ("HEAD", "OPTIONS", "*") and route.resource is not None]
    names = list(dict.fromkeys(routes))
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def _http_error(request: web.Request, exc: web.HTTPException) -> ApiError:
    """Describe aiohttp's own refusals (no route, wrong method, body too large)."""
    if isinstance(exc, web.HTTPNotFound):
        return ApiError(404, "invalid_request_error", "not_found",
                        f"No route {request.method} {request.path}. This server serves "
                        f"{_served(request.app)}.")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return ApiError(405, "invalid_request_error", "method_not_allowed",
                        f"{request.method} is not allowed on {request.path}; use {allowed}.",
                        {"Allow": allowed})
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = request.app.get(MAX_BODY_KEY)
        size = f" of {limit} bytes" if limit is not None else ""
        return ApiError(413, "invalid_request_error", "request_too_large",
                        f"The request body is larger than this server's limit{size} "
                        "(jackfield serve --max-body-bytes).")
    return ApiError(exc.status, "invalid_request_error", "http_error", exc.reason)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into an OpenAI error reply; never send a traceback to a client."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are not errors
        return error_response(_http_error(request, exc), request)
    except Refusal as refusal:
        return error_response(refusal.error, request)
    except JackfieldError as error:
        return error_response(classify(error), request)
    except ConnectionResetError as error:
        # The client is gone: one line, not aiohttp's traceback. The response already under
        # way (or a new one) goes back to aiohttp, whose write then fails quietly.
        log.info("client went away during %s %s: %s", request.method, request.path, error)
        gone = ApiError(499, "invalid_request_error", "client_closed_request",
                        "The client went away.")
        return request.get(RESPONSE_KEY) or error_response(gone, request)
    # Deliberately broad: an unforeseen bug is logged here with its traceback and the client
    # gets a plain 500, so that no internals leak into a reply.
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        internal = ApiError(500, "server_error", "internal_error",
                            "Internal server error; the server log has the details.")
        return error_response(internal, request)
