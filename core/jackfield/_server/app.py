"""The OpenAI-compatible aiohttp application: models, chat completions, images, embeddings
and health."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from jackfield._engine.registry import Registry
from jackfield._errors import ResponseFormatError
from jackfield._server.access_log import access_log_middleware, note_call
from jackfield._server.anthropic_api import ROUTES as ANTHROPIC_ROUTES
from jackfield._server.anthropic_models import anthropic_models, wants_anthropic
from jackfield._server.auth import API_KEY_KEY, KEYRING_KEY, auth_middleware, has_api_key
from jackfield._server.body import BODY_TIMEOUT_KEY, DEFAULT_BODY_TIMEOUT, read_json
from jackfield._server.call import (
    CALL_TIMEOUT_KEY,
    REGISTRY_KEY,
    check_kind,
    start_chat,
    strict_error,
)
from jackfield._server.chat_shapes import completion_object, notice_headers, warning_list
from jackfield._server.chat_stream import stream_chat
from jackfield._server.completions_api import ROUTES as COMPLETIONS_ROUTES
from jackfield._server.embeddings import embedding_response, parse_embedding_call
from jackfield._server.errors import (
    ERROR_SHAPES_KEY,
    MAX_BODY_KEY,
    OPENAI_ERRORS,
    error_middleware,
    remember_response,
)
from jackfield._server.guard import Guard
from jackfield._server.health import health_report, remember_secrets
from jackfield._server.key_limits import key_limits_middleware
from jackfield._server.model_list import model_listing, model_lookup
from jackfield._server.openai_shapes import (
    completion_id,
    image_object,
    now,
    parse_chat_call,
    parse_image_call,
)
from jackfield._server.responses_api import ROUTES as RESPONSES_ROUTES
from jackfield._server.routes import Route
from jackfield._server.server_keys import KeyRing, ServerKey
from jackfield._server.shutdown import DEFAULT_GRACE, Drain
from jackfield._server.sse import WRITE_TIMEOUT_KEY
from jackfield._shared.store import DEFAULT_PREFIX
from jackfield._shared.wiring import attach, shared_status
from jackfield._types.notices import CallWarning

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_WRITE_TIMEOUT", "REGISTRY_KEY", "ROUTES",
           "create_app"]

# Image parts come as data: URLs: one image of OpenAI's largest (20 MiB) is 27 MiB as base64.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
DEFAULT_WRITE_TIMEOUT = 30.0  # seconds a streaming client may read nothing before it is cut


async def list_models(request: web.Request) -> web.Response:
    """GET /v1/models: every model of every provider and each route group, in OpenAI's list
    shape (the services that discover asked again once their list is older than the TTL);
    in Anthropic's when the request names an `anthropic-version` (Anthropic's SDK)."""
    if wants_anthropic(request):
        return await anthropic_models(request.app[REGISTRY_KEY], request.query)
    return web.json_response(await model_listing(request.app[REGISTRY_KEY]))


async def get_model(request: web.Request) -> web.Response:
    """GET /v1/models/{model}: the model or route group a name resolves to (404 if none)."""
    if wants_anthropic(request):
        return await anthropic_models(request.app[REGISTRY_KEY], request.query,
                                      request.match_info["model"])
    return web.json_response(await model_lookup(request.app[REGISTRY_KEY],
                                                request.match_info["model"]))


async def embeddings(request: web.Request) -> web.Response:
    """POST /v1/embeddings: one vector per input, as floats or base64 (float32s)."""
    registry = request.app[REGISTRY_KEY]
    call = parse_embedding_call(await read_json(request))
    note_call(request, model=call.model)
    await check_kind(registry, call.model, "embedding")
    if registry.strict and call.warnings:
        raise strict_error(call.warnings[0])
    result = await registry.embed(call.model, call.inputs, dimensions=call.dimensions,
                                  **call.options)
    return embedding_response(result, call)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """POST /v1/chat/completions: one `chat.completion`, or SSE chunks when stream is true."""
    call = parse_chat_call(await read_json(request))
    if call.stream:
        return await stream_chat(request, await start_chat(request, call, True), call)
    completion = await start_chat(request, call, False)
    warnings = (*call.warnings, *completion.warnings)
    return web.json_response(
        completion_object(completion, call, completion_id(), now(), warnings),
        headers=notice_headers(warnings, completion.emulated))


async def generate_images(request: web.Request) -> web.Response:
    """POST /v1/images/generations: n images as URLs or base64 (one provider call per image)."""
    registry = request.app[REGISTRY_KEY]
    call = parse_image_call(await read_json(request))
    note_call(request, model=call.model)
    await check_kind(registry, call.model, "image")
    data: list[dict[str, str]] = []
    warnings: dict[CallWarning, None] = {}  # each call reports the same: listed once
    emulated: dict[str, None] = {}
    while len(data) < call.n:
        completion = await registry.complete(call.model, call.prompt, **call.params)
        if not completion.images:
            raise ResponseFormatError(completion.provider, "the reply held no image")
        warnings.update(dict.fromkeys(completion.warnings))
        emulated.update(dict.fromkeys(completion.emulated))
        # Only the images asked for are encoded: a reply may hold up to Limits.max_images.
        for image in completion.images[:call.n - len(data)]:
            if call.response_format == "b64_json" and image.data is None:
                raise ResponseFormatError(completion.provider,
                                          "the reply gave an image URL but not its bytes",
                                          advice="Ask for response_format 'url' instead.")
            data.append(image_object(image, call.response_format))
    return web.json_response(
        {"created": now(), "data": data[:call.n], "jackfield_warnings": warning_list(warnings)},
        headers=notice_headers(list(warnings), list(emulated)))


async def health(request: web.Request) -> web.Response:
    """GET /health: plugins, their load errors and each provider's recent failures.

    It is open to probes; with an API key set, only a caller with the key sees error text.
    """
    keyed = bool(request.app.get(API_KEY_KEY, "")) or bool(request.app[KEYRING_KEY])
    withhold = keyed and not has_api_key(request)
    return web.json_response(health_report(request.app[REGISTRY_KEY], withhold=withhold,
                                           shared=shared_status(request.app)))


# OpenAI's API; each other wire format's module lists its own (the order is the 404's list).
OPENAI_ROUTES = (
    Route("GET", "/v1/models", list_models),
    Route("GET", "/v1/models/{model:.+}", get_model),
    Route("POST", "/v1/chat/completions", chat_completions),
    Route("POST", "/v1/images/generations", generate_images),
    Route("POST", "/v1/embeddings", embeddings),
)
ROUTES = (*OPENAI_ROUTES, *RESPONSES_ROUTES, *COMPLETIONS_ROUTES, *ANTHROPIC_ROUTES,
          Route("GET", "/health", health))


def create_app(registry: Registry | None = None, *, api_key: str | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               write_timeout: float = DEFAULT_WRITE_TIMEOUT,
               allowed_hosts: Iterable[str] = (), cors_origins: Iterable[str] = (),
               body_timeout: float = DEFAULT_BODY_TIMEOUT,
               grace: float = DEFAULT_GRACE, strict: bool = False,
               prompted: bool | Iterable[str] | Mapping[str, Any] = False,
               call_timeout: float | None = None, metrics: bool = False,
               server_keys: Iterable[ServerKey] = (), redis_url: str | None = None,
               redis_prefix: str = DEFAULT_PREFIX) -> web.Application:
    """Return the server app over registry (None: discover plugins and close it at cleanup).

    strict and prompted are the settings of the registry discovered here (see Registry);
    a registry given already has its own.

    Requests are answered only when their Host is loopback, the address they came to or one
    of allowed_hosts ("*": any), and, from a web page, only for an origin in cors_origins.
    write_timeout: seconds a streaming client may read nothing before it is dropped (and
    its upstream call closed). At shutdown, calls in flight get grace seconds; then each
    ends with a 503 or, for a stream under way, a final error event. call_timeout: seconds
    a whole chat call may take (None: the registry's timeouts), as `timeout=` of complete().
    Each request is logged on the `jackfield.access` logger (INFO), without keys or prompts.
    metrics=True serves Prometheus metrics at GET /metrics (behind the API key like the API;
    it needs the `jackfield[metrics]` extra: ConfigurationError without it).
    server_keys: named keys (jackfield._server.server_keys), accepted beside api_key, each
    held to its limits. redis_url: share cooldowns and the keys' counts with every other
    server on that Redis (keys under redis_prefix); None keeps them in this process.
    """
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
    if not isinstance(write_timeout, int | float) or not 0 < write_timeout < math.inf:
        raise ValueError(f"write_timeout must be a positive number of seconds, got "
                         f"{write_timeout!r}")
    if not (math.isfinite(body_timeout) and body_timeout > 0):
        raise ValueError(f"body_timeout must be a positive number of seconds, got {body_timeout}")
    if call_timeout is not None and not (math.isfinite(call_timeout) and call_timeout > 0):
        raise ValueError(f"call_timeout must be a positive number of seconds, got "
                         f"{call_timeout}")
    guard, drain = Guard(allowed_hosts, cors_origins), Drain(grace)
    counted = None
    if metrics:
        from jackfield._server.metrics import Metrics

        counted = Metrics()
    # error_middleware outside the guard and auth: their own refusals pass through as they
    # are; the access log outside it, to see the status sent; the drain outermost, as it
    # answers for the requests it interrupts.
    middlewares: list[Middleware] = [drain.track, access_log_middleware(), error_middleware,
                                     guard.middleware()]
    if counted is not None:  # inside the access log, outside the error replies: the status
        middlewares.insert(2, counted.middleware())
    keyring = KeyRing(server_keys)
    if api_key or keyring:
        middlewares.append(auth_middleware(api_key, keyring))
    app = web.Application(middlewares=middlewares, client_max_size=max_body_bytes)
    app.on_response_prepare.append(remember_response)
    app.on_response_prepare.append(guard.add_cors_headers)
    app.on_shutdown.append(drain.on_shutdown)
    app[BODY_TIMEOUT_KEY] = body_timeout
    app[MAX_BODY_KEY] = max_body_bytes
    app[WRITE_TIMEOUT_KEY] = float(write_timeout)
    if call_timeout is not None:
        app[CALL_TIMEOUT_KEY] = float(call_timeout)
    if registry is not None and (strict or prompted):
        raise ValueError("strict= and prompted= set up the registry create_app() discovers; "
                         "pass them to the Registry you give it instead")
    if registry is None:
        owned = Registry.discover(strict=strict, prompted=prompted)

        async def close_registry(_app: web.Application) -> None:
            await owned.aclose()

        app.on_cleanup.append(close_registry)
        registry = owned
    app[REGISTRY_KEY] = registry
    app[API_KEY_KEY] = api_key or ""
    app[KEYRING_KEY] = keyring
    shared = attach(app, registry, redis_url, prefix=redis_prefix)
    if any(key.limited for key in keyring.keys):
        app.middlewares.append(key_limits_middleware(shared.counters))
    remember_secrets(registry, api_key)
    app[ERROR_SHAPES_KEY] = {route.path: route.errors for route in ROUTES
                             if route.errors is not OPENAI_ERRORS}
    for route in ROUTES:
        if route.method == "GET":
            app.router.add_get(route.path, route.handler)  # HEAD too, as HTTP asks
        else:
            app.router.add_route(route.method, route.path, route.handler)
    if counted is not None:
        from jackfield._server.metrics import METRICS_KEY

        app[METRICS_KEY] = counted
        counted.attach(registry)
        app.router.add_get("/metrics", counted.handler)

        async def stop_counting(_app: web.Application) -> None:
            counted.detach()

        app.on_cleanup.append(stop_counting)
    return app
