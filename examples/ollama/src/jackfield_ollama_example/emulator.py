"""An aiohttp.web app that speaks the subset of Ollama's native API this plugin uses.

`GET /api/tags` and `POST /api/show` list the shelf's models (app[SHELF_KEY], which tests
change while it runs); `POST /api/chat` answers deterministically, as NDJSON lines when
`stream` is true (Ollama's default) or as one object; `POST /api/embed` returns a vector per
input. Requests are checked as Ollama checks them: an unknown model is a 404 `{"error":
"model 'x' not found, try pulling it first"}`, tools, images or thinking sent to a model
without them a 400. Protocol faults: `drop_mid_stream` cuts the stream after two pieces,
`invalid_lines` sends a line that is not JSON; a model's `fails_after` ends its stream with
an `{"error": ...}` line, as a crashed runner does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from jackfield.testing import (
    FAULTS_KEY,
    STATS_KEY,
    drop_connection,
    new_app,
    request_fault,
    words_of,
)

from .chat_replies import Answer, answer
from .shelf import DEFAULT_MODELS, PulledModel, Shelf, vector

SHELF_KEY = web.AppKey("ollama_shelf", Shelf)
ROLES = frozenset({"system", "user", "assistant", "tool"})
MESSAGE_KEYS = frozenset({"role", "content", "images", "tool_calls", "tool_name", "thinking"})
OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "temperature": (int, float), "top_p": (int, float), "num_predict": (int,),
    "presence_penalty": (int, float), "frequency_penalty": (int, float), "seed": (int,),
    "stop": (list,), "num_ctx": (int,)}


class Rejected(Exception):
    """A request Ollama would refuse: answered with its status and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(models: Iterable[PulledModel] | None = None) -> web.Application:
    """Return the emulator, with DEFAULT_MODELS pulled unless models are given."""
    app = new_app(fault_endpoints=("/api/chat", "/api/embed"))
    app[SHELF_KEY] = Shelf.of(DEFAULT_MODELS if models is None else models)
    app.router.add_get("/api/tags", tags)
    app.router.add_post("/api/show", show)
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/embed", embed)
    return app


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refusing(handler: Handler) -> Handler:
    """Answer a Rejected request with Ollama's `{"error": ...}` body and its status."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Rejected as rejected:
            return web.json_response({"error": rejected.message}, status=rejected.status)

    return handle


@_refusing
async def tags(request: web.Request) -> web.StreamResponse:
    """List every pulled model."""
    models = request.app[SHELF_KEY].models.values()
    return web.json_response({"models": [model.listing() for model in models]})


@_refusing
async def show(request: web.Request) -> web.StreamResponse:
    """Describe one model: its details and capabilities."""
    body = await _body(request, {"model"}, frozenset({"verbose"}))
    model = request.app[SHELF_KEY].find(_text(body, "model"))
    if model is None:
        raise Rejected(404, f"model '{body['model']}' not found")
    return web.json_response({"modelfile": f"FROM {model.name}\n", "parameters": "",
                              "template": "{{ .Prompt }}", "details": model.details(),
                              "model_info": {"general.architecture": model.family},
                              "capabilities": list(model.capabilities)})


@_refusing
async def chat(request: web.Request) -> web.StreamResponse:
    """Answer a chat, streamed as NDJSON or as one object."""
    body = await _body(request, {"model", "messages"}, frozenset(
        {"stream", "options", "format", "tools", "think", "keep_alive"}))
    model = _model(request, body, "completion", "chat")
    turns = _messages(body["messages"], model)
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise Rejected(400, '"options" must be an object')
    for key, value in options.items():
        if key not in OPTION_TYPES or not isinstance(value, OPTION_TYPES[key]) or isinstance(
                value, bool):
            raise Rejected(400, f"invalid option {key!r}: {value!r}")
    fmt = body.get("format")
    if fmt is not None and fmt != "json" and not isinstance(fmt, dict):
        raise Rejected(400, 'format must be "json" or a JSON schema')
    tools = body.get("tools", [])
    if tools and not model.can("tools"):
        raise Rejected(400, f'"{model.name}" does not support tools')
    if not isinstance(tools, list) or not all(_is_tool(tool) for tool in tools):
        raise Rejected(400, '"tools" must be a list of {"type": "function", "function": '
                            '{"name", "parameters"}}')
    think = body.get("think", False)
    if think not in (True, False, "low", "medium", "high"):
        raise Rejected(400, f"invalid think value {think!r}")
    if think and not model.can("thinking"):
        raise Rejected(400, f'"{model.name}" does not support thinking')
    stream = body.get("stream", True)
    if not isinstance(stream, bool):
        raise Rejected(400, '"stream" must be a boolean')
    reply = answer(turns, options, fmt, tools, bool(think))
    if not stream:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.thinking:
            message["thinking"] = reply.thinking
        if reply.tool_calls:
            message["tool_calls"] = reply.tool_calls
        return web.json_response({**_stamp(model), "message": message, **_final(reply)})
    return await _stream(request, model, reply)


async def _stream(request: web.Request, model: PulledModel, reply: Answer
                  ) -> web.StreamResponse:
    """Write the reply piece by piece, one NDJSON object per line."""
    response = web.StreamResponse(headers={"content-type": "application/x-ndjson"})
    await response.prepare(request)
    fault = request_fault(request)
    pieces = [{"thinking": piece, "content": ""} for piece in words_of(reply.thinking)
              if reply.thinking] + [{"content": piece} for piece in words_of(reply.text)
                                    if reply.text]
    for number, piece in enumerate(pieces):
        if fault == "drop_mid_stream" and number == 2:
            await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
            await drop_connection(request)  # a coroutine: await it
            return response
        if model.fails_after is not None and number == model.fails_after:
            await response.write(_line({"error": "an error was encountered while running "
                                                 "the model: unexpected EOF"}))
            await response.write_eof()
            return response
        await response.write(_line({**_stamp(model), "message": {"role": "assistant", **piece},
                                    "done": False}))
        if fault == "invalid_lines" and number == 0:
            await response.write(b"this is not JSON\n")
    if reply.tool_calls:
        await response.write(_line({**_stamp(model), "done": False, "message": {
            "role": "assistant", "content": "", "tool_calls": reply.tool_calls}}))
    await response.write(_line({**_stamp(model), "message": {"role": "assistant",
                                                             "content": ""}, **_final(reply)}))
    await response.write_eof()
    return response


@_refusing
async def embed(request: web.Request) -> web.StreamResponse:
    """Return one deterministic vector per input."""
    body = await _body(request, {"model", "input"}, frozenset(
        {"truncate", "dimensions", "keep_alive", "options"}))
    model = _model(request, body, "embedding", "embeddings")
    inputs = [body["input"]] if isinstance(body["input"], str) else body["input"]
    if not isinstance(inputs, list) or not inputs or not all(
            isinstance(text, str) for text in inputs):
        raise Rejected(400, '"input" must be a string or a list of strings')
    dimensions = body.get("dimensions", 8)
    if type(dimensions) is not int or dimensions < 1:
        raise Rejected(400, '"dimensions" must be a positive whole number')
    return web.json_response({
        "model": model.name, "embeddings": [vector(text, dimensions) for text in inputs],
        "total_duration": 14_143_917, "load_duration": 1_019_500,
        "prompt_eval_count": sum(len(text.split()) for text in inputs)})


async def _body(request: web.Request, required: set[str],
                optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Return the JSON body if it holds the required keys and no unknown one."""
    try:
        body = await request.json()
    except ValueError:
        raise Rejected(400, "invalid character in the request body: not JSON") from None
    request.app[STATS_KEY].last_json = body  # for tests: what the plugin sent
    if not isinstance(body, dict):
        raise Rejected(400, "the request body must be a JSON object")
    missing, unknown = required - set(body), set(body) - required - optional
    if missing or unknown:
        raise Rejected(400, f"missing {sorted(missing)}, unknown {sorted(unknown)} fields")
    return body


def _model(request: web.Request, body: dict[str, Any], capability: str,
           purpose: str) -> PulledModel:
    """Return the model a request names; refuse an unknown one as Ollama does."""
    name = _text(body, "model")
    model = request.app[SHELF_KEY].find(name)
    if model is None:
        raise Rejected(404, f"model '{name}' not found, try pulling it first")
    if not model.can(capability):
        raise Rejected(400, f'"{name}" does not support {purpose}')
    return model


def _messages(raw: Any, model: PulledModel) -> list[dict[str, Any]]:
    """Check the messages; return them with their images decoded to bytes."""
    if not isinstance(raw, list) or not raw:
        raise Rejected(400, '"messages" must be a non-empty list')
    turns = []
    for message in raw:
        if (not isinstance(message, dict) or not {"role", "content"} <= set(message)
                <= MESSAGE_KEYS or message["role"] not in ROLES
                or not isinstance(message["content"], str)):
            raise Rejected(400, 'each message needs a known "role" and a string "content"')
        images = message.get("images", [])
        if images and not model.can("vision"):
            raise Rejected(400, f'"{model.name}" does not support images')
        try:
            decoded = [base64.b64decode(image, validate=True) for image in images]
        except (binascii.Error, TypeError, ValueError):
            raise Rejected(400, "an image is not base64") from None
        calls = message.get("tool_calls", [])
        if calls and (message["role"] != "assistant" or not all(
                isinstance(c, dict) and isinstance(c.get("function"), dict)
                and isinstance(c["function"].get("arguments"), dict) for c in calls)):
            raise Rejected(400, "tool_calls must be an assistant's, with object arguments")
        turns.append({**message, "images": decoded})
    return turns


def _is_tool(tool: Any) -> bool:
    function = tool.get("function") if isinstance(tool, dict) else None
    return (tool.get("type") == "function" and isinstance(function, dict)
            and isinstance(function.get("name"), str)
            and isinstance(function.get("parameters", {}), dict))


def _text(body: dict[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str) or not value:
        raise Rejected(400, f'"{key}" must be a non-empty string')
    return value


def _stamp(model: PulledModel) -> dict[str, Any]:
    return {"model": model.name, "created_at": "2026-12-02T00:00:00Z"}


def _final(reply: Answer) -> dict[str, Any]:
    """Return the fields of the last object: why it ended, the counts and durations."""
    return {"done": True, "done_reason": reply.reason, "total_duration": 4_883_583_458,
            "load_duration": 1_334_875, "prompt_eval_count": reply.prompt_words,
            "prompt_eval_duration": 342_546_000, "eval_count": reply.reply_words,
            "eval_duration": 4_535_599_000}


def _line(item: dict[str, Any]) -> bytes:
    return json.dumps(item).encode() + b"\n"
