"""Helpers of the recording tests: a plugin that puts its secrets everywhere, a service that
echoes them back, and recording a call through a registry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from jackfield import Registry
from jackfield._cli.record import record_call
from jackfield.provider import (
    CompletionRequest,
    Finish,
    HttpRequest,
    HttpResponse,
    ModelSpec,
    ProviderConfig,
    ProviderSpec,
    ProviderTransport,
    Setting,
    TextDelta,
    hookimpl,
)
from jackfield.testing import new_app

KEY = "leaky-key-0123456789abcdef"  # made up; no real secret belongs in the tests
TOKEN = "leaky-token-fedcba9876543210"
SESSION = "session-cookie-value-5ecret77"
PASSWORD = "url-pass-word-4242"
SECRETS = (KEY, TOKEN, SESSION, PASSWORD)
PAUSE = 0.05


def leaks(text: str) -> list[str]:
    """Return each secret (or its first 12 characters) that text quotes."""
    return [secret for secret in SECRETS if secret in text or secret[:12] in text]


class Leaky:
    """Provider "leaky": sends its key as a header, in the query and in the body, and a token
    as Bearer; its parser reads SSE `data: {"text": ...}` lines or one JSON object."""

    __name__ = "leaky"

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(name="leaky", base_url="http://127.0.0.1:9",
                            models=(ModelSpec("leak-1"),),
                            settings={"key": Setting(secret=True),
                                      "token": Setting(secret=True)})

    @hookimpl
    def jackfield_build_request(self, request: CompletionRequest,
                                config: ProviderConfig) -> HttpRequest:
        key, token = config.get("key"), config.get("token")
        return HttpRequest(
            "POST", config.url(f"/leak?key={key}&mode=x"), stream=request.stream,
            headers={"x-api-key": str(key), "Authorization": f"Bearer {token}"},
            json={"auth": key, "note": f"my key is {key}", "stream": request.stream,
                  "messages": [m.to_dict() for m in request.messages]})

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest, response: HttpResponse,
                                 transport: ProviderTransport) -> AsyncIterator[Any]:
        return _parse(request, response)


async def _parse(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Any]:
    if not request.stream:
        yield TextDelta((await response.json())["text"])
    else:
        async for line in response.iter_lines():
            if line.startswith("data: "):
                yield TextDelta(json.loads(line[6:])["text"])
    yield Finish("stop")


def echo_app() -> web.Application:
    """The service of "leaky": its reply quotes the headers, query and body it got, sets a
    session cookie, and (streamed) cuts the key in two across chunks."""
    async def leak(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        echo = {"headers": dict(request.headers), "query": request.query_string, "body": body}
        text = f"echo {json.dumps(echo)}"
        cookie = {"Set-Cookie": f"sid={SESSION}; Path=/"}
        if not body["stream"]:
            return web.json_response({"text": f"{text} bye {SESSION}"}, headers=cookie)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **cookie})
        await response.prepare(request)
        line = f"data: {json.dumps({'text': text})}\n\n".encode()
        cut = line.index(KEY.encode()) + 5  # the key straddles two chunks
        await response.write(line[:cut])
        await asyncio.sleep(PAUSE)  # so that the client reads the pieces apart
        await response.write(line[cut:])
        await asyncio.sleep(PAUSE)
        await response.write(f"data: {json.dumps({'text': ' bye ' + SESSION})}\n\n".encode())
        return response

    app = new_app()
    app.router.add_post("/leak", leak)
    return app


async def record(registry: Registry, model: str, prompt: str = "hi", *, stream: bool = True,
                 **options: Any) -> tuple[dict[str, Any], Any]:
    """Record one call of model through registry; return (the recording, the call's error)."""
    messages: list[Mapping[str, str]] = [{"role": "user", "content": prompt}]
    return await record_call(registry, model, messages, stream=stream, **options)


async def call_as_recorded(registry: Registry, recording: Any) -> Any:
    """Make the recorded call again (a jackfield.testing.Recording); return its Completion."""
    if not recording.stream:
        return await registry.complete(recording.call["model"], recording.messages,
                                       **recording.options)
    reply = await registry.complete(recording.call["model"], recording.messages, stream=True,
                                    **recording.options)
    async with reply:
        text = "".join([chunk.text async for chunk in reply])
    assert text == reply.completion.text
    return reply.completion
