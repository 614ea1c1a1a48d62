"""A mock provider plugin and its loopback server, used by the core's tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from jackfield import Finish, Image, ResponseFormatError, TextDelta
from jackfield._http.lines import sse_data
from jackfield.provider import (
    Capabilities,
    CompletionRequest,
    HttpRequest,
    HttpResponse,
    ModelSpec,
    Option,
    ProviderConfig,
    ProviderSpec,
    ProviderTransport,
    Setting,
    hookimpl,
)
from jackfield.testing import new_app, png_bytes, words_of


class MockProvider:
    """Provider "mock": chat model echo (alias parrot), image model painter, one unavailable."""

    name = "mock"

    def __init__(self, name: str = "mock") -> None:
        self.name = name
        self.__name__ = name

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(
            name=self.name,
            base_url="http://127.0.0.1:9",  # discard port: tests must point it somewhere real
            models=(ModelSpec("echo", capabilities=Capabilities(sampling={"temperature"})),
                    ModelSpec("painter", "image"),
                    ModelSpec("broken", available=False)),
            default_model="echo",
            aliases={"parrot": "echo"},
            options={"creativity": Option(float, 0.7, kinds=("chat",))},
            settings={"token": Setting()},
            auth_hint="Set JACKFIELD_MOCK_TOKEN.",
        )

    @hookimpl
    def jackfield_build_request(self, request: CompletionRequest,
                                config: ProviderConfig) -> HttpRequest:
        headers = {"content-type": "application/json"}
        if config.get("token"):
            headers["authorization"] = f"Bearer {config.get('token')}"
        path = "/image" if request.model.kind == "image" else "/chat"
        return HttpRequest("POST", config.url(path), headers=headers, stream=request.stream, json={
            "model": request.model.id, "stream": request.stream,
            "messages": [m.to_dict() for m in request.messages], "options": dict(request.options),
            "params": request.params.to_openai(),
        })

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest, response: HttpResponse,
                                 transport: ProviderTransport) -> AsyncIterator[Any]:
        return _parse(request, response, transport)


async def _parse(request: CompletionRequest, response: HttpResponse,
                 transport: ProviderTransport) -> AsyncIterator[Any]:
    if request.model.kind == "image":
        body = await response.json()
        download = await transport.get(body["url"])
        yield Image(url=body["url"], data=download.data, mime_type=download.content_type)
        return
    if not request.stream:
        body = await response.json()
        if "text" not in body:
            raise ResponseFormatError(request.provider, "no text in reply", body=str(body))
        yield TextDelta(body["text"])
        yield Finish("stop")
        return
    async for payload in sse_data(response.iter_lines()):
        if payload == "[DONE]":
            yield Finish("stop")
            return
        try:
            yield TextDelta(json.loads(payload)["text"])
        except (ValueError, KeyError) as error:
            raise ResponseFormatError(request.provider, "bad event", body=payload) from error
    raise ResponseFormatError(request.provider, "the stream ended without [DONE]")


class MockServer:
    """The mock provider's service; `fail` queues statuses to answer before succeeding."""

    def __init__(self) -> None:
        self.fail: list[tuple[int, dict[str, str], str]] = []
        self.seen: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.gate: asyncio.Event | None = None  # when set, pieces wait for it one by one
        self.stall = 0.0
        self.app = new_app()
        self.app.router.add_post("/chat", self.chat)
        self.app.router.add_post("/image", self.image)
        self.app.router.add_get("/img.png", self.png)

    def _failure(self) -> web.Response | None:
        if not self.fail:
            return None
        status, headers, body = self.fail.pop(0)
        return web.Response(status=status, headers=headers, text=body,
                            content_type="application/json")

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.seen.append(body)
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        failure = self._failure()
        if failure is not None:
            return failure
        reply = "You said: " + body["messages"][-1]["content"]
        if not body["stream"]:
            return web.json_response({"text": reply})
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        if self.stall:
            await asyncio.sleep(self.stall)
        for piece in words_of(reply):
            if self.gate is not None:
                await self.gate.wait()
                self.gate.clear()
            await response.write(f"data: {json.dumps({'text': piece})}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response

    async def image(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen.append(body)
        failure = self._failure()
        if failure is not None:
            return failure
        return web.json_response({"url": str(request.url.with_path("/img.png"))})

    async def png(self, request: web.Request) -> web.Response:
        return web.Response(body=png_bytes("mock"), content_type="image/png")
