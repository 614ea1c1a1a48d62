"""A scripted provider for the prompted-tools tests: a text-only model (no native tools, no
JSON mode), so prompted emulation is the only way a call with tools or a schema reaches it,
and a loopback service that answers with the replies a test queues, as a real model might
write them. Streamed replies go out piece by piece (word by word unless a test says).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
from aiohttp import web

from jackfield import Completion, PartialResponseError, Registry, UnparsableReplyError
from jackfield.provider import (
    Capabilities,
    CompletionRequest,
    Finish,
    HttpRequest,
    HttpResponse,
    ModelSpec,
    ProviderConfig,
    ProviderSpec,
    ResponseFormatError,
    TextDelta,
    Usage,
    hookimpl,
    sse_data,
)
from jackfield.testing import new_app, words_of


class ScriptedProvider:
    """Provider "scripted": chat models "model" and "other", text only (the default), and
    "jsonic", which has a native JSON mode but no tools."""

    name = "scripted"
    __name__ = "scripted"

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(name="scripted", base_url="http://127.0.0.1:9",
                            models=(ModelSpec("model"), ModelSpec("other"),
                                    ModelSpec("jsonic", capabilities=Capabilities(
                                        json_object=True, json_schema=True))),
                            default_model="model")

    @hookimpl
    def jackfield_build_request(self, request: CompletionRequest,
                                config: ProviderConfig) -> HttpRequest:
        return HttpRequest("POST", config.url("/chat"), stream=request.stream,
                           headers={"content-type": "application/json"},
                           json={"model": request.model.id, "stream": request.stream,
                                 "messages": [m.to_dict() for m in request.messages],
                                 "params": request.params.to_openai()})

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest,
                                 response: HttpResponse) -> AsyncIterator[Any]:
        return _parse(request, response)


async def _parse(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Any]:
    if not request.stream:
        body = await response.json()
        yield TextDelta(body["text"])
        yield Usage(3, 5, 8)
        yield Finish(body["finish"])
        return
    async for payload in sse_data(response.iter_lines()):
        if payload == "[DONE]":
            return
        data = json.loads(payload)
        if "finish" in data:
            yield Finish(data["finish"])
            yield Usage(3, 5, 8)  # after the finish, as OpenAI's usage chunk comes
        else:
            yield TextDelta(data["text"])
    raise ResponseFormatError(request.provider, "the stream ended without [DONE]")


@attrs.define
class Reply:
    """One queued reply: its text, the finish reason sent, how a stream splits it."""

    text: str
    finish: str = "stop"
    split: Callable[[str], list[str]] = words_of


class ScriptedServer:
    """The service: answers each request with the next queued reply, records each body.

    `release_last`, when set by a test, is awaited before a stream's last piece is written,
    so the test can see what arrived before the reply ended.
    """

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[dict[str, Any]] = []
        self.release_last: asyncio.Event | None = None
        self.pieces_sent = 0
        self.url = ""  # where it runs, once served
        self.app = new_app()
        self.app.router.add_post("/chat", self.chat)

    def queue(self, text: str, finish: str = "stop",
              split: Callable[[str], list[str]] = words_of) -> None:
        """Queue the next reply."""
        self.replies.append(Reply(text, finish, split))

    @property
    def system(self) -> str:
        """Return the system message of the last request ("" if none)."""
        messages = self.seen[-1]["messages"]
        return next((m["content"] for m in messages if m["role"] == "system"), "")

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.seen.append(body)
        if not self.replies:
            return web.json_response({"error": "no reply queued"}, status=500)
        reply = self.replies.pop(0)
        if not body["stream"]:
            return web.json_response({"text": reply.text, "finish": reply.finish})
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        pieces = reply.split(reply.text)
        for number, piece in enumerate(pieces, 1):
            if number == len(pieces) and self.release_last is not None:
                await self.release_last.wait()
            await response.write(f"data: {json.dumps({'text': piece})}\n\n".encode())
            self.pieces_sent += 1
        await response.write(f"data: {json.dumps({'finish': reply.finish})}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object",
                   "properties": {"city": {"type": "string"},
                                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"], "additionalProperties": False}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "The time in a zone, shifted by an offset in hours.",
    "parameters": {"type": "object",
                   "properties": {"zone": {"type": "string"}, "offset": {"type": "number"}},
                   "required": ["zone"]}}}
TOOLS = [WEATHER, TIME]
CITY = {"type": "object",
        "properties": {"city": {"type": "string"}, "temperature": {"type": "number"}},
        "required": ["city", "temperature"], "additionalProperties": False}
CITY_FORMAT = {"type": "json_schema",
               "json_schema": {"name": "city_report", "description": "a city's weather",
                               "schema": CITY}}


async def ask(registry: Registry, stream: bool, messages: Any = "What is the weather in Paris?",
              model: str = "scripted/model", **options: Any) -> Completion:
    """Return the Completion of a call, streamed (read to the end) or not."""
    if not stream:
        return await registry.complete(model, messages, **options)
    async with await registry.complete(model, messages, stream=True, **options) as chunks:
        async for _ in chunks:
            pass
    return chunks.completion


def unparsable(error: BaseException) -> UnparsableReplyError:
    """Return the UnparsableReplyError behind error (a stream that had shown prose wraps it
    in a PartialResponseError)."""
    if isinstance(error, PartialResponseError):
        error = error.cause
    assert isinstance(error, UnparsableReplyError), repr(error)
    return error
