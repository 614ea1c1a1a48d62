"""An aiohttp.web app that speaks EchoAPI's protocol and validates requests strictly.

Chat: `POST /v1/echo` with `{"model", "turns": [{"who", "say"}], "stream", "shout"}` and an
optional `"max_words"` echoes the last user turn (its first max_words words, finish "length"
when cut), as NDJSON lines (`{"delta": ...}` then `{"done": true, ...}`) when `stream` is
true, else as one JSON body. Sketch: `POST /v1/sketch` with `{"model", "prompt"}`
answers `{"images": [{"url": ...}]}`; the URL serves a PNG drawn from the prompt.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from jackfield.testing import STATS_KEY, new_app, png_bytes, words_of

CHAT_MODELS = frozenset({"echo-1"})
IMAGE_MODELS = frozenset({"sketch-1"})
WHO = frozenset({"system", "user", "echo"})
TOKEN_KEY = web.AppKey("echoapi_token", str)


class Rejected(Exception):
    """A request the real service would refuse: answered with status and a JSON message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(token: str | None = None) -> web.Application:
    """Return the emulator; with token set, only `Bearer <token>` is accepted."""
    app = new_app()
    if token is not None:
        app[TOKEN_KEY] = token
    app.router.add_post("/v1/echo", echo)
    app.router.add_post("/v1/sketch", sketch)
    app.router.add_get("/v1/files/{name}.png", file)
    return app


async def echo(request: web.Request) -> web.StreamResponse:
    """Echo the last user turn, streamed as NDJSON or as one JSON body."""
    try:
        body = await _checked_json(request, {"model", "turns", "stream", "shout"},
                                   optional=frozenset({"max_words"}))
        if body["model"] not in CHAT_MODELS:
            raise Rejected(404, f"unknown chat model {body['model']!r}")
        turns = body["turns"]
        if not isinstance(turns, list) or not turns:
            raise Rejected(400, '"turns" must be a non-empty list')
        for turn in turns:
            if (not isinstance(turn, dict) or set(turn) != {"who", "say"}
                    or turn["who"] not in WHO or not isinstance(turn["say"], str)):
                raise Rejected(400, 'each turn must be {"who": system|user|echo, "say": str}')
        if turns[-1]["who"] != "user":
            raise Rejected(400, "the last turn must be the user's")
        for flag in ("stream", "shout"):
            if not isinstance(body[flag], bool):
                raise Rejected(400, f'"{flag}" must be a boolean')
        limit = body.get("max_words")
        if limit is not None and (type(limit) is not int or limit < 1):
            raise Rejected(400, '"max_words" must be a whole number of at least 1')
        wanted = "application/x-ndjson" if body["stream"] else "application/json"
        if request.headers.get("accept") != wanted:
            raise Rejected(406, f"send accept: {wanted}")
    except Rejected as rejected:
        return web.json_response({"error": rejected.message}, status=rejected.status)
    text = turns[-1]["say"]
    if body["shout"]:
        text = text.upper()
    finish = "stop"
    if limit is not None and len(text.split()) > limit:
        text, finish = " ".join(text.split()[:limit]), "length"
    usage = {"in": sum(len(turn["say"].split()) for turn in turns), "out": len(text.split())}
    if not body["stream"]:
        return web.json_response({"text": text, "finish": finish, "usage": usage})
    response = web.StreamResponse(headers={"content-type": "application/x-ndjson"})
    await response.prepare(request)
    await response.write(b"\n")  # a keep-alive blank line, which clients must skip
    for piece in words_of(text):
        await response.write(_line({"delta": piece}))
    await response.write(_line({"done": True, "finish": finish, "usage": usage}))
    await response.write_eof()
    return response


async def sketch(request: web.Request) -> web.Response:
    """Answer a sketch request with a link to a PNG drawn from the prompt."""
    try:
        body = await _checked_json(request, {"model", "prompt"})
        if body["model"] not in IMAGE_MODELS:
            raise Rejected(404, f"unknown image model {body['model']!r}")
        if not isinstance(body["prompt"], str) or not body["prompt"].strip():
            raise Rejected(400, '"prompt" must be a non-empty string')
    except Rejected as rejected:
        return web.json_response({"error": rejected.message}, status=rejected.status)
    name = hashlib.sha256(body["prompt"].encode()).hexdigest()[:16]
    url = request.url.origin().with_path(f"/v1/files/{name}.png")
    return web.json_response({"images": [{"url": str(url)}]})


async def file(request: web.Request) -> web.Response:
    """Serve the PNG a sketch link points to."""
    return web.Response(body=png_bytes(request.match_info["name"]), content_type="image/png")


async def _checked_json(request: web.Request, keys: set[str],
                        optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Check the token and content type; return the JSON body if it has exactly these keys
    (and perhaps some of the optional ones)."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[len("Bearer "):].strip():
        raise Rejected(401, "missing bearer token")
    expected = request.app.get(TOKEN_KEY)
    if expected is not None and auth != f"Bearer {expected}":
        raise Rejected(401, "invalid bearer token")
    if request.content_type != "application/json":
        raise Rejected(415, "send content-type: application/json")
    try:
        body = await request.json()
    except ValueError:
        raise Rejected(400, "the body is not JSON") from None
    request.app[STATS_KEY].last_json = body  # for tests: what the plugin sent
    if not isinstance(body, dict) or not keys <= set(body) <= keys | optional:
        raise Rejected(400, f"the body must be an object with exactly the keys {sorted(keys)}"
                            + (f" (and optionally {sorted(optional)})" if optional else ""))
    return body


def _line(item: dict[str, Any]) -> bytes:
    """Encode one NDJSON line."""
    return json.dumps(item).encode() + b"\n"
