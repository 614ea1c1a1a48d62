"""A strict loopback emulator of api.amigochat.io, following shared/protocols/amigochat.md.

It refuses whatever the real client would not send (each refusal a 400 naming the problem),
answers unavailable models as upstream did (402 "balance is not enough"), streams chat replies
one SSE event per word and serves the images it generates.

Test hooks: a last user message of exactly `pieces:N` (N <= 100000) is answered with the N
pieces " w1" ... " wN"; `dall-e-3` returns two images per prompt (every other image model one),
so that clients meet a reply with several URLs.

Fault modes (docs/faults.md): `create_app(fault=...)`, JACKFIELD_EMULATOR_FAULT or
`app[FAULTS_KEY].set(...)`, applied to the /v1/ endpoints only (image downloads are left
alone). The generic ones come from jackfield.testing; the protocol ones are answered here,
after the request was validated:

- `drop_mid_stream`: a streamed chat reply sends two chunk events, a non-streamed one the first
  half of its JSON object (with the whole object's Content-Length); then the connection is
  closed without ending the body;
- `invalid_lines`: a streamed chat reply whose `data:` payloads are not JSON; a non-streamed
  one whose body is lines that are not one JSON object;
- `no_images`: an image reply whose only entry has no `url` (`{"data": [{"revised_prompt": …}]}`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from jackfield.testing import (
    FAULTS_KEY,
    STATS_KEY,
    drop_connection,
    new_app,
    png_bytes,
    request_fault,
    words_of,
)

from .models import ALIASES, model_by_id

__all__ = ["FAULTS_KEY", "MAX_PIECES", "create_app"]

MAX_PIECES = 100_000
_PIECES = re.compile(r"pieces:(\d+)")
_ROLES = ("system", "user", "assistant")
_CHAT_FIELDS = frozenset({"chatId", "frequency_penalty", "max_tokens", "messages", "model",
                          "personaId", "presence_penalty", "stream", "temperature", "top_p"})
_IMAGE_FIELDS = frozenset({"prompt", "model", "personaId"})
_NUMBERS = ("frequency_penalty", "presence_penalty", "temperature", "top_p")
_IMAGES_PER_MODEL = {"dall-e-3": 2}
_DROP_AFTER_PIECES = 2  # drop_mid_stream: chunk events sent before the connection is dropped
_INVALID_LINES = (b"data: this is not JSON\n\n", b'data: {"choices": [{"delta": \n\n',
                  b"data: [DONE]\n\n")
_KEPT_IMAGES = 4096  # image names remembered; older ones are forgotten so memory stays bounded

_TOKEN_KEY = web.AppKey("amigochat_token", str)
_IMAGES_KEY = web.AppKey("amigochat_images", dict[str, str])


class _Refusal(Exception):
    """A request the emulator refuses; becomes a JSON {"message": ...} reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _bad(message: str) -> _Refusal:
    return _Refusal(400, message)


def _check_auth(request: web.Request) -> None:
    """Require the bearer word, and the exact token when the app was created with one."""
    authorization = request.headers.get("authorization", "")
    if not authorization.startswith("Bearer"):
        raise _Refusal(401, "Unauthorized")
    token = request.app[_TOKEN_KEY]
    if token and authorization != f"Bearer {token}":
        raise _Refusal(401, "Unauthorized")


def _check_device(request: web.Request) -> None:
    """Require the device headers the web client sends, with a parseable device uuid."""
    device = request.headers.get("x-device-uuid")
    if not device:
        raise _bad("missing header x-device-uuid")
    try:
        uuid.UUID(device)
    except ValueError:
        raise _bad(f"header x-device-uuid is not a UUID: {device[:60]!r}") from None
    for name in ("x-device-language", "x-device-platform", "x-device-version"):
        if not request.headers.get(name):
            raise _bad(f"missing header {name}")
    if request.headers["x-device-platform"] != "web":
        raise _bad("header x-device-platform must be 'web'")


async def _json_body(request: web.Request, fields: frozenset[str]) -> dict[str, Any]:
    """Return the JSON object body; refuse other content types, bad JSON and unknown fields."""
    if request.content_type != "application/json":
        raise _bad(f"content-type must be application/json, got {request.content_type!r}")
    try:
        body = await request.json()
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    request.app[STATS_KEY].last_json = body
    unknown = sorted(set(body) - fields)
    if unknown:
        raise _bad(f"unexpected field(s): {', '.join(unknown)}")
    missing = sorted(fields - set(body))
    if missing:
        raise _bad(f"missing field(s): {', '.join(missing)}")
    return body


def _check_model(body: Mapping[str, Any], kind: str) -> str:
    """Return the model id after checking it, its kind, its personaId and its availability."""
    model = body["model"]
    if not isinstance(model, str):
        raise _bad("model must be a string")
    spec = model_by_id(model)
    # gpt-4o and gpt-4o-mini are ids as well as aliases: only a name that is no id is refused.
    if spec is None and model in ALIASES:
        raise _bad(f"model {model!r} is an alias: send the model id, not an alias "
                   f"({ALIASES[model]!r})")
    if spec is None:
        raise _bad(f"unknown model {model!r}")
    if spec.kind != kind:
        raise _bad(f"model {model!r} is a {spec.kind} model, not a {kind} model")
    if body["personaId"] != spec.extra["persona_id"]:
        raise _bad(f"personaId {body['personaId']!r} does not match model {model!r}")
    if not spec.available:
        raise _Refusal(402, "balance is not enough")
    return model


def _check_messages(messages: Any) -> list[dict[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise _bad("messages must be a non-empty list")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise _bad(f"messages[{index}] must be an object with exactly role and content")
        if message["role"] not in _ROLES:
            raise _bad(f"messages[{index}].role must be one of {', '.join(_ROLES)}")
        if not isinstance(message["content"], str):
            raise _bad(f"messages[{index}].content must be a string")
    return messages


def _check_chat_fields(body: Mapping[str, Any]) -> None:
    chat_id = body["chatId"]
    if not isinstance(chat_id, str):
        raise _bad("chatId must be a string")
    try:
        uuid.UUID(chat_id)
    except ValueError:
        raise _bad("chatId must be a UUID") from None
    for name in _NUMBERS:
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"{name} must be a number")
    max_tokens = body["max_tokens"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise _bad("max_tokens must be a positive integer")
    if not isinstance(body["stream"], bool):
        raise _bad("stream must be true or false")


def _reply_pieces(model: str, messages: list[dict[str, str]]) -> list[str]:
    """Return the reply, split into the pieces it is streamed in."""
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), None)
    if last_user is None:
        raise _bad("messages holds no user message")
    match = _PIECES.fullmatch(last_user)
    if match:
        count = int(match.group(1))
        if count > MAX_PIECES:
            raise _bad(f"pieces:N allows N up to {MAX_PIECES}")
        return [f" w{i}" for i in range(1, count + 1)]
    return words_of(f"Hello from the AmigoChat emulator ({model}). You said: {last_user}")


def _usage(messages: list[dict[str, str]], pieces: int) -> dict[str, int]:
    """Count tokens as words: good enough to check that usage is passed through."""
    prompt = sum(len(m["content"].split()) for m in messages)
    return {"prompt_tokens": prompt, "completion_tokens": pieces, "total_tokens": prompt + pieces}


def _event(data: Mapping[str, Any]) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


async def _stream(request: web.Request, model: str, chat_id: str, pieces: list[str],
                  usage: dict[str, int]) -> web.StreamResponse:
    """Write one SSE event per piece, each sent on its own, then the finish chunk and [DONE]."""
    response = web.StreamResponse(headers={"content-type": "text/event-stream",
                                           "cache-control": "no-cache"})
    await response.prepare(request)
    fault = request_fault(request)
    if fault == "invalid_lines":
        for line in _INVALID_LINES:
            await response.write(line)
        await response.write_eof()
        return response
    base = {"id": f"chatcmpl-{chat_id}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}
    drop_after = _DROP_AFTER_PIECES if fault == "drop_mid_stream" else None
    for index, piece in enumerate(pieces):
        if index == drop_after:
            break
        choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
        await response.write(_event(base | {"choices": [choice]}))
    if drop_after is not None:
        await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
        await drop_connection(request)
        return response
    final = {"index": 0, "delta": {}, "finish_reason": "stop"}
    await response.write(_event(base | {"choices": [final], "usage": usage}))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """POST /v1/chat/completions: an SSE stream or one chat.completion object."""
    _check_auth(request)
    _check_device(request)
    body = await _json_body(request, _CHAT_FIELDS)
    model = _check_model(body, "chat")
    _check_chat_fields(body)
    messages = _check_messages(body["messages"])
    pieces = _reply_pieces(model, messages)
    usage = _usage(messages, len(pieces))
    if body["stream"]:
        return await _stream(request, model, body["chatId"], pieces, usage)
    completion = {
        "id": f"chatcmpl-{body['chatId']}", "object": "chat.completion",
        "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)},
                     "finish_reason": "stop"}],
        "usage": usage,
    }
    fault = request_fault(request)
    if fault == "invalid_lines":
        # Lines where one JSON object belongs: the SSE shape, and an object cut short.
        return web.Response(body=b"".join(_INVALID_LINES[:2]), content_type="application/json")
    if fault == "drop_mid_stream":
        return await _drop_json(request, json.dumps(completion).encode())
    return web.json_response(completion)


async def _drop_json(request: web.Request, document: bytes) -> web.StreamResponse:
    """Announce the whole document, send its first half, then drop the connection."""
    response = web.StreamResponse(headers={"content-type": "application/json"})
    response.content_length = len(document)
    await response.prepare(request)
    await response.write(document[: len(document) // 2])
    await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
    await drop_connection(request)
    return response


async def image_generations(request: web.Request) -> web.Response:
    """POST /v1/images/generations: {"data": [{"url": ...}]} with URLs on this emulator."""
    _check_auth(request)
    _check_device(request)
    body = await _json_body(request, _IMAGE_FIELDS)
    model = _check_model(body, "image")
    prompt = body["prompt"]
    if not isinstance(prompt, str) or not prompt.strip():
        raise _bad("prompt must be a non-empty string")
    if request_fault(request) == "no_images":
        return web.json_response({"created": int(time.time()),
                                  "data": [{"revised_prompt": prompt}]})
    images = request.app[_IMAGES_KEY]
    urls = []
    for index in range(_IMAGES_PER_MODEL.get(model, 1)):
        seed = prompt if index == 0 else f"{prompt}#{index + 1}"
        name = hashlib.sha256(f"{model}\n{seed}".encode()).hexdigest()[:32]
        images[name] = seed
        while len(images) > _KEPT_IMAGES:
            del images[next(iter(images))]
        urls.append(str(request.url.origin().with_path(f"/images/{name}.png")))
    return web.json_response({"created": int(time.time()), "data": [{"url": u} for u in urls]})


async def image_file(request: web.Request) -> web.Response:
    """GET /images/<name>.png: the PNG drawn from the prompt the name was issued for."""
    seed = request.app[_IMAGES_KEY].get(request.match_info["name"])
    if seed is None:
        raise _Refusal(404, "no such image")
    return web.Response(body=png_bytes(seed=seed), content_type="image/png")


@web.middleware
async def _refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn a _Refusal into the JSON error body upstream used."""
    try:
        response: web.StreamResponse = await handler(request)
    except _Refusal as refusal:
        return web.json_response({"message": refusal.message}, status=refusal.status)
    return response


async def _reply_type(request: web.Request) -> str:
    """Return the content type of the reply the protocol sends to request (for faults)."""
    if request.path == "/v1/chat/completions":
        try:
            body = await request.json()
        except (UnicodeDecodeError, ValueError, web.HTTPException):
            body = None
        if isinstance(body, dict) and body.get("stream") is True:
            return "text/event-stream"
    return "application/json"


def create_app(*, token: str | None = None, fault: str | None = None) -> web.Application:
    """Return the emulator app; with token set, only "Bearer <token>" is let in.

    fault: a fault mode injected into every request to the /v1/ endpoints ("name" or
    "name:times"; docs/faults.md); else JACKFIELD_EMULATOR_FAULT; tests use app[FAULTS_KEY].
    """
    app = new_app(fault=fault, fault_endpoints=("/v1/",), reply_type=_reply_type)
    app.middlewares.append(_refusals)
    app[_TOKEN_KEY] = token or ""
    app[_IMAGES_KEY] = {}
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/images/generations", image_generations)
    app.router.add_get(r"/images/{name:[0-9a-f]{32}}.png", image_file)
    return app
