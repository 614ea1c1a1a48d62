"""Each named key's limits on the API's POST routes: rpm, tpm, calls in flight, models.

Before the call: a request over its key's requests per minute, or whose key has used its
tokens per minute, or that would exceed its calls in flight, gets a 429 with Retry-After in
the client's wire format (error_response picks OpenAI's or Anthropic's shape by route); a
model outside the key's allow-list gets a 403 when the handler names it (note_call's model
gate). After the call, its prompt and completion tokens count toward the key's tpm; a
stream holds its slot until it has ended. Counting goes through jackfield._shared.counters:
across every instance with Redis, per process without. Each refusal is also told to the
functions in REFUSAL_LISTENERS (metrics may count them by key name and limit).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from jackfield._server.access_log import MODEL_GATE_KEY, call_record
from jackfield._server.auth import SERVER_KEY_KEY
from jackfield._server.errors import ApiError, Handler, Refusal, error_response
from jackfield._server.server_keys import ServerKey
from jackfield._shared.counters import Counters, Lease, retry_after

__all__ = ["REFUSAL_LISTENERS", "key_limits_middleware"]

# listener(key_name, limit) with limit one of "rpm", "tpm", "concurrent", "models".
RefusalListener = Callable[[str, str], None]
REFUSAL_LISTENERS: list[RefusalListener] = []
_WHAT = {"rpm": "requests per minute", "tpm": "tokens per minute",
         "concurrent": "calls in flight at once"}


def _refused(key: ServerKey, limit: str) -> None:
    for listener in REFUSAL_LISTENERS:
        listener(key.name, limit)


def _over(request: web.Request, key: ServerKey, limit: str, allowed: int,
          seconds: float) -> web.Response:
    _refused(key, limit)
    wait = retry_after(seconds)
    return error_response(ApiError(
        429, "rate_limit_error", "rate_limit_exceeded",
        f"The key {key.name!r} is over its limit of {allowed} {_WHAT[limit]}; retry after "
        f"{wait} s.", {"Retry-After": wait}), request)


def _gate(key: ServerKey) -> Callable[[str], None]:
    def check(model: str) -> None:
        if not key.allows(model):
            _refused(key, "models")
            raise Refusal(ApiError(
                403, "permission_error", "model_not_allowed",
                f"The key {key.name!r} may not use the model {model!r}; it may use: "
                f"{', '.join(key.models or ())}.", param="model"))

    return check


def key_limits_middleware(counters: Counters) -> Middleware:
    """Return the middleware that holds each named key to its limits (after auth)."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.get(SERVER_KEY_KEY)
        if key is None or not key.limited or request.method != "POST":
            return await handler(request)  # the single key, listings and probes: no limits
        if key.models is not None:
            request[MODEL_GATE_KEY] = _gate(key)
        if key.rpm is not None:
            count, seconds = await counters.add(key.name, "rpm", 1)
            if count > key.rpm:
                return _over(request, key, "rpm", key.rpm, seconds)
        if key.tpm is not None:
            used, seconds = await counters.add(key.name, "tpm", 0)
            if used >= key.tpm:
                return _over(request, key, "tpm", key.tpm, seconds)
        lease: Lease | None = None
        if key.concurrent is not None:
            lease = await counters.acquire(key.name, key.concurrent)
            if lease is None:
                return _over(request, key, "concurrent", key.concurrent, 1)
        try:
            return await handler(request)
        finally:
            if lease is not None:
                await counters.release(lease)
            if key.tpm is not None:
                record = call_record(request)
                tokens = (record.prompt_tokens or 0) + (record.completion_tokens or 0)
                if tokens:
                    await counters.add(key.name, "tpm", tokens)

    return limit
