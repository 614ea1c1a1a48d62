"""A loopback emulator of ai-chats.org that implements shared/protocols/aichats.md strictly.

Fault modes (docs/faults.md): `create_app(fault=...)`, JACKFIELD_EMULATOR_FAULT or
`app[FAULTS_KEY].set(...)`. The generic ones come from jackfield.testing; the protocol ones
are answered here, after the request was validated:

- `drop_mid_stream`: a chat reply sends its first two pieces, then the connection is closed
  without ending the body (image requests are answered normally);
- `invalid_lines`: a chat reply whose `data:` lines are not UTF-8 (Latin-1 text). The protocol
  skips every line that is not a `data:` line, so a non-data line is never invalid; a line
  that is not text is;
- `no_images`: an image reply of `{"data": []}` (chat requests are answered normally).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
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

__all__ = [
    "CONTROLS_KEY", "FAULTS_KEY", "MAX_PIECES", "EmulatorControls", "create_app", "reply_pieces",
]

MAX_PIECES = 100_000
MAX_IMAGES = 10_000  # remembered image prompts; the oldest are forgotten first
PIECES_PROMPT = re.compile(r"pieces:(\d+)")
KINDS = ("chat", "image")
REFERER_PATHS = {"chat": "/chat/", "image": "/image/"}
ENDPOINT = "/chat/send2/"
DROP_AFTER_PIECES = 2  # drop_mid_stream: pieces sent before the connection is dropped
CHAT_CONTENT_TYPE = "text/event-stream; charset=utf-8"


@attrs.define
class EmulatorControls:
    """Test hooks: `pacer(index)` is awaited before chat piece `index` is written."""

    pacer: Callable[[int], Awaitable[None]] | None = None
    # image name -> the prompt whose PNG it serves
    images: dict[str, str] = attrs.field(factory=dict)


CONTROLS_KEY = web.AppKey("aichats_controls", EmulatorControls)


class BadRequest(Exception):
    """A request that breaks the protocol; its message names what is wrong."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def reply_pieces(prompt: str) -> list[str]:
    """Return the streamed pieces answering prompt (`pieces:N` asks for N pieces " wK")."""
    match = PIECES_PROMPT.fullmatch(prompt)
    if match is not None:
        count = int(match.group(1))
        if count > MAX_PIECES:
            raise BadRequest(f"pieces:N takes N from 0 to {MAX_PIECES}, got {count}")
        return [f" w{k}" for k in range(1, count + 1)]
    # Whitespace is collapsed so that no piece holds a line break, which would end its line.
    said = " ".join(prompt.split())
    return words_of(f"Hello from the AiChats emulator. You said: {said}")


def _check_cookie(request: web.Request, expected: str | None) -> None:
    header = request.headers.get("cookie", "")
    if not header.strip():
        raise BadRequest("Forbidden", status=403)
    if expected is not None:
        present = {pair.strip() for pair in header.split(";")}
        wanted = {pair.strip() for pair in expected.split(";") if pair.strip()}
        if not wanted <= present:
            raise BadRequest("Forbidden", status=403)


def _check_headers(request: web.Request) -> None:
    for name in ("origin", "referer"):
        if not request.headers.get(name, "").strip():
            raise BadRequest(f"the {name} header is missing")
    if request.content_type != "application/json":
        raise BadRequest(f"content-type must be application/json, got {request.content_type!r}")


def _prompt_of(body: Any) -> tuple[str, str]:
    """Return (type, prompt) of a valid body; raise BadRequest naming the first fault."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    extra = sorted(set(body) - {"type", "messagesHistory"})
    if extra:
        raise BadRequest(f"unexpected field(s) in the body: {', '.join(extra)}")
    kind = body.get("type")
    if kind not in KINDS:
        raise BadRequest(f'"type" must be "chat" or "image", got {kind!r}')
    history = body.get("messagesHistory")
    if not isinstance(history, list) or len(history) != 1:
        raise BadRequest('"messagesHistory" must be a list of exactly one entry')
    entry = history[0]
    if not isinstance(entry, dict) or set(entry) != {"from", "content"}:
        raise BadRequest('"messagesHistory[0]" must be an object with "from" and "content" only')
    if entry["from"] != "you":
        raise BadRequest(f'"messagesHistory[0].from" must be "you", got {entry["from"]!r}')
    content = entry["content"]
    if not isinstance(content, str) or not content:
        raise BadRequest('"messagesHistory[0].content" must be a non-empty string')
    return kind, content


async def _stream_chat(request: web.Request, prompt: str) -> web.StreamResponse:
    pieces = reply_pieces(prompt)
    controls = request.app[CONTROLS_KEY]
    response = web.StreamResponse(
        headers={"content-type": CHAT_CONTENT_TYPE, "cache-control": "no-cache"}
    )
    await response.prepare(request)
    fault = request_fault(request)
    if fault == "invalid_lines":
        # Latin-1 where the protocol's lines are UTF-8 text: no piece can be read from them.
        for _ in range(3):
            await response.write(b"data: caf\xe9 cr\xe8me br\xfbl\xe9e\n\n")
        await response.write_eof()
        return response
    drop_after = DROP_AFTER_PIECES if fault == "drop_mid_stream" else None
    for index, piece in enumerate(pieces):
        if index == drop_after:
            break
        if controls.pacer is not None:
            await controls.pacer(index)
        # One write per piece: aiohttp hands each to the socket, so the client sees them apart.
        await response.write(f"data: {piece}\n\n".encode())
    if drop_after is not None:
        await asyncio.sleep(request.app[FAULTS_KEY].drop_pause)
        await drop_connection(request)
        return response
    await response.write(b"data: \n\n")
    await response.write_eof()
    return response


def _image_reply(request: web.Request, prompt: str) -> web.Response:
    if request_fault(request) == "no_images":
        return web.json_response({"data": []})
    images = request.app[CONTROLS_KEY].images
    name = hashlib.sha256(prompt.encode()).hexdigest()[:24]
    images.pop(name, None)
    images[name] = prompt
    while len(images) > MAX_IMAGES:
        del images[next(iter(images))]
    url = request.url.origin().join(request.app.router["image"].url_for(name=name))
    return web.json_response({"data": [{"url": str(url)}]})


async def _reply_type(request: web.Request) -> str:
    """Return the content type of the reply the protocol sends to request (for faults)."""
    try:
        body = await request.json()
    except (UnicodeDecodeError, ValueError, web.HTTPException):
        body = None
    if isinstance(body, dict) and body.get("type") == "image":
        return "application/json"
    return CHAT_CONTENT_TYPE


def create_app(*, cookie: str | None = None, fault: str | None = None) -> web.Application:
    """Return the emulator app; with cookie set, requests must send its name=value pairs.

    fault: a fault mode injected into every request to the endpoint ("name" or
    "name:times"; docs/faults.md); else JACKFIELD_EMULATOR_FAULT; tests use app[FAULTS_KEY].
    """
    app = new_app(fault=fault, fault_endpoints=(ENDPOINT,), reply_type=_reply_type)
    app[CONTROLS_KEY] = EmulatorControls()

    async def send(request: web.Request) -> web.StreamResponse:
        try:
            _check_cookie(request, cookie)
            _check_headers(request)
            raw = await request.read()
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, ValueError) as error:
                raise BadRequest("the body is not valid JSON") from error
            request.app[STATS_KEY].last_json = body
            kind, prompt = _prompt_of(body)
            referer_path = REFERER_PATHS[kind]
            if not request.headers["referer"].endswith(referer_path):
                raise BadRequest(f"a {kind} request needs a referer ending in {referer_path}")
            if kind == "image":
                return _image_reply(request, prompt)
            return await _stream_chat(request, prompt)
        except BadRequest as error:
            return web.json_response({"message": str(error)}, status=error.status)

    async def image(request: web.Request) -> web.Response:
        prompt = request.app[CONTROLS_KEY].images.get(request.match_info["name"])
        if prompt is None:
            return web.json_response({"message": "no such image"}, status=404)
        return web.Response(body=png_bytes(seed=prompt), content_type="image/png")

    app.router.add_post(ENDPOINT, send)
    app.router.add_get("/images/{name}.png", image, name="image")
    return app
