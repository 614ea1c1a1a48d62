"""The OpenAI-compatible aiohttp application: models, chat completions, images and health."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from jackfield._engine.completion import CompletionStream
from jackfield._engine.registry import Registry
from jackfield._errors import InvalidRequestError, JackfieldError, ResponseFormatError
from jackfield._server.auth import API_KEY_KEY, auth_middleware, has_api_key
from jackfield._server.body import BODY_TIMEOUT_KEY, DEFAULT_BODY_TIMEOUT, read_json
from jackfield._server.errors import (
    MAX_BODY_KEY,
    ApiError,
    classify,
    error_body,
    error_middleware,
    remember_response,
)
from jackfield._server.guard import Guard
from jackfield._server.health import health_report, remember_secrets
from jackfield._server.openai_shapes import (
    ChatCall,
    chunk_object,
    completion_id,
    completion_object,
    image_object,
    model_object,
    now,
    parse_chat_call,
    parse_image_call,
)
from jackfield._server.shutdown import DEFAULT_GRACE, Drain
from jackfield._types.events import Chunk

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_WRITE_TIMEOUT", "REGISTRY_KEY", "create_app"]

log = logging.getLogger("jackfield._server")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
REGISTRY_KEY = web.AppKey("jackfield_registry", Registry)
DEFAULT_WRITE_TIMEOUT = 30.0  # seconds a streaming client may read nothing before it is cut
WRITE_TIMEOUT_KEY = web.AppKey("jackfield_write_timeout", float)
ENDPOINTS = {"chat": "/v1/chat/completions", "image": "/v1/images/generations"}
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # a reverse proxy must pass each event on at once
}


def _check_kind(registry: Registry, model: str, kind: str) -> None:
    """Refuse a model of the other kind, naming the endpoint that serves it."""
    routes = registry.resolve(model)
    if all(route.model.kind != kind for route in routes):
        other = routes[0].model.kind
        raise InvalidRequestError(f"{model!r} is an {other} model; use POST {ENDPOINTS[other]}.")


async def list_models(request: web.Request) -> web.Response:
    """GET /v1/models: every model of every provider, in OpenAI's list shape."""
    models = request.app[REGISTRY_KEY].models()
    return web.json_response({"object": "list", "data": [model_object(m) for m in models]})


async def get_model(request: web.Request) -> web.Response:
    """GET /v1/models/{model}: the model a name resolves to (404 if none)."""
    registry = request.app[REGISTRY_KEY]
    candidate = registry.resolve(request.match_info["model"])[0]
    [info] = [m for m in registry.models(provider=candidate.provider.name)
              if m.id == candidate.model.id]
    return web.json_response(model_object(info))


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """POST /v1/chat/completions: one `chat.completion`, or SSE chunks when stream is true."""
    registry = request.app[REGISTRY_KEY]
    call = parse_chat_call(await read_json(request))
    _check_kind(registry, call.model, "chat")
    if call.stream:
        stream = await registry.complete(call.model, call.messages, stream=True, **call.options)
        try:
            return await _stream_chat(request, stream, call)
        finally:
            # Also reached when the client disconnects (the handler is cancelled): closing
            # the stream drops the upstream connection at once.
            await stream.aclose()
    completion = await registry.complete(call.model, call.messages, **call.options)
    return web.json_response(completion_object(completion, completion_id(), now()))


class _ClientNotReading(Exception):
    """The client read nothing for the write timeout; its connection has been dropped."""


class _EventWriter:
    """Writes SSE events to one client, cutting a client that stops reading.

    A client that never reads would otherwise hold its handler, and so the upstream
    connection, for as long as the stream lasts: each write waits at most write_timeout.
    """

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self._request = request
        self._response = response
        self._timeout = request.app[WRITE_TIMEOUT_KEY]

    async def write(self, data: bytes, *, eof: bool = False) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await (self._response.write_eof(data) if eof else self._response.write(data))
        except TimeoutError:
            transport = self._request.transport
            if transport is not None:
                transport.abort()  # the unread events are dropped with the connection
            log.info("dropped a client of %s that read nothing for %g s",
                     self._request.path, self._timeout)
            raise _ClientNotReading from None

    async def send(self, payload: dict[str, Any]) -> None:
        await self.write(b"data: " + json.dumps(payload).encode() + b"\n\n")


async def _stream_chat(request: web.Request, stream: CompletionStream,
                       call: ChatCall) -> web.StreamResponse:
    """Relay a stream as SSE; an upstream failure after the headers becomes an error event."""
    # The first chunk comes before the 200 and its headers, so that a failure up to here
    # still reaches the client as an HTTP error with the right status.
    first: Chunk | None
    try:
        first = await stream.__anext__()
    except StopAsyncIteration:
        first = None
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    writer = _EventWriter(request, response)
    # A client cut for not reading: the caller closes the upstream stream, and aiohttp
    # finds the client's connection already closed.
    with contextlib.suppress(_ClientNotReading):
        await _write_events(writer, stream, call, first)
    return response


async def _write_events(writer: _EventWriter, stream: CompletionStream, call: ChatCall,
                        first: Chunk | None) -> None:
    call_id, created = completion_id(), now()
    opening = {"role": "assistant", "content": first.text if first else ""}
    model = stream.model or call.model  # the resolved id, known once the first chunk came
    await writer.send(chunk_object(call_id, created, model, opening))
    failure = None if first is None else await _relay(stream, writer, call_id, created,
                                                      model)
    if failure is not None:
        await writer.send(error_body(failure))  # the stream ends without [DONE]
        await writer.write(b"", eof=True)
        return
    completion = stream.completion
    last = chunk_object(call_id, created, completion.model, {},
                        completion.finish_reason or "stop")
    await writer.send(last | {"provider": completion.provider})
    if call.include_usage:
        usage = completion_object(completion, call_id, created).get("usage")
        await writer.send(chunk_object(call_id, created, completion.model, {})
                          | {"choices": [], "usage": usage})
    await writer.write(b"data: [DONE]\n\n", eof=True)


async def _relay(stream: CompletionStream, writer: _EventWriter, call_id: str,
                 created: int, model: str) -> ApiError | None:
    """Send each text chunk as it arrives; return the error that ended the stream, if any."""
    while True:
        try:
            chunk = await stream.__anext__()
        except StopAsyncIteration:
            return None
        except JackfieldError as error:
            return classify(error)
        # Deliberately broad: the status line is already sent, so an unforeseen bug can only
        # be reported as an error event; it is logged with its traceback here.
        except Exception:
            log.exception("unexpected error relaying a stream of %s", model)
            return ApiError(500, "server_error", "internal_error",
                            "Internal server error; the server log has the details.")
        if chunk.text:  # images have no place in a chat completion chunk
            await writer.send(chunk_object(call_id, created, model, {"content": chunk.text}))


async def generate_images(request: web.Request) -> web.Response:
    """POST /v1/images/generations: n images as URLs or base64 (one provider call per image)."""
    registry = request.app[REGISTRY_KEY]
    call = parse_image_call(await read_json(request))
    _check_kind(registry, call.model, "image")
    data: list[dict[str, str]] = []
    while len(data) < call.n:
        completion = await registry.complete(call.model, call.prompt, **call.options)
        if not completion.images:
            raise ResponseFormatError(completion.provider, "the reply held no image")
        # Only the images asked for are encoded: a reply may hold up to Limits.max_images.
        for image in completion.images[:call.n - len(data)]:
            if call.response_format == "b64_json" and image.data is None:
                raise ResponseFormatError(completion.provider,
                                          "the reply gave an image URL but not its bytes",
                                          advice="Ask for response_format 'url' instead.")
            data.append(image_object(image, call.response_format))
    return web.json_response({"created": now(), "data": data[:call.n]})


async def health(request: web.Request) -> web.Response:
    """GET /health: plugins, their load errors and each provider's recent failures.

    It is open to probes; with an API key set, only a caller with the key sees error text.
    """
    withhold = bool(request.app.get(API_KEY_KEY, "")) and not has_api_key(request)
    return web.json_response(health_report(request.app[REGISTRY_KEY], withhold=withhold))


def create_app(registry: Registry | None = None, *, api_key: str | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               write_timeout: float = DEFAULT_WRITE_TIMEOUT,
               allowed_hosts: Iterable[str] = (), cors_origins: Iterable[str] = (),
               body_timeout: float = DEFAULT_BODY_TIMEOUT,
               grace: float = DEFAULT_GRACE) -> web.Application:
    """Return the server app over registry (None: discover plugins and close it at cleanup).

    Requests are answered only when their Host is loopback, the address they came to or one
    of allowed_hosts ("*": any), and, from a web page, only for an origin in cors_origins.
    write_timeout: seconds a streaming client may read nothing before it is dropped (and
    its upstream call closed). At shutdown, calls in flight get grace seconds; then each
    ends with a 503 or, for a stream under way, a final error event.
    """
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
    if not isinstance(write_timeout, int | float) or not 0 < write_timeout < math.inf:
        raise ValueError(f"write_timeout must be a positive number of seconds, got "
                         f"{write_timeout!r}")
    if not (math.isfinite(body_timeout) and body_timeout > 0):
        raise ValueError(f"body_timeout must be a positive number of seconds, got {body_timeout}")
    guard, drain = Guard(allowed_hosts, cors_origins), Drain(grace)
    # error_middleware outside the guard and auth: their own refusals pass through as they
    # are; the drain outermost, as it answers for the requests it interrupts.
    middlewares: list[Middleware] = [drain.track, error_middleware, guard.middleware()]
    if api_key:
        middlewares.append(auth_middleware(api_key))
    app = web.Application(middlewares=middlewares, client_max_size=max_body_bytes)
    app.on_response_prepare.append(remember_response)
    app.on_response_prepare.append(guard.add_cors_headers)
    app.on_shutdown.append(drain.on_shutdown)
    app[BODY_TIMEOUT_KEY] = body_timeout
    app[MAX_BODY_KEY] = max_body_bytes
    app[WRITE_TIMEOUT_KEY] = float(write_timeout)
    if registry is None:
        owned = Registry.discover()

        async def close_registry(_app: web.Application) -> None:
            await owned.aclose()

        app.on_cleanup.append(close_registry)
        registry = owned
    app[REGISTRY_KEY] = registry
    app[API_KEY_KEY] = api_key or ""
    remember_secrets(registry, api_key)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model:.+}", get_model)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/images/generations", generate_images)
    app.router.add_get("/health", health)
    return app
