"""A loopback image service whose replies name many images, and its provider plugin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from jackfield import Finish, Image
from jackfield.provider import (
    CompletionRequest,
    HttpRequest,
    HttpResponse,
    ModelSpec,
    ProviderConfig,
    ProviderSpec,
    ProviderTransport,
    hookimpl,
    image_urls,
)
from jackfield.testing import new_app

MiB = 1024 * 1024


class Gallery:
    """A loopback image service: /reply lists `count` images of `size` bytes each."""

    def __init__(self, count: int, size: int) -> None:
        self.count = count
        self.image = b"\x89PNG" + bytes(size - 4)
        self.downloads = 0
        self.app = new_app()
        self.app.router.add_post("/reply", self.reply)
        self.app.router.add_get("/img/{n}", self.serve)
        self.app.router.add_get("/huge", self.huge)

    async def reply(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [{"url": f"/img/{n}"} for n in range(self.count)]})

    async def serve(self, request: web.Request) -> web.Response:
        self.downloads += 1
        return web.Response(body=self.image, content_type="image/png")


    async def huge(self, request: web.Request) -> web.StreamResponse:
        """Send 16 MiB slowly, declared (the client should hang up after the headers) or
        chunked (the client should hang up once its budget is spent)."""
        self.downloads += 1
        response = web.StreamResponse(headers={"content-type": "image/png"})
        if "chunked" in request.query:
            response.enable_chunked_encoding()  # no length to refuse early: counted as read
        else:
            response.content_length = 16 * MiB
        await response.prepare(request)
        for _ in range(256):
            if request.transport is None or request.transport.is_closing():
                break
            await response.write(bytes(64 * 1024))
            await asyncio.sleep(0.01)
        return response


class GalleryPlugin:
    """Provider "gallery": one image model whose reply names every image of the Gallery."""

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec(name="gallery", base_url="http://127.0.0.1:9",
                            models=(ModelSpec("draw", "image"),))

    @hookimpl
    def jackfield_build_request(self, request: CompletionRequest,
                                config: ProviderConfig) -> HttpRequest:
        return HttpRequest("POST", config.url("/reply"), json={})

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest, response: HttpResponse,
                                 transport: ProviderTransport) -> AsyncIterator[Any]:
        return _images(request, response, transport)


async def _images(request: CompletionRequest, response: HttpResponse,
                  transport: ProviderTransport) -> AsyncIterator[Any]:
    for url in image_urls(request.provider, await response.json(), response.url):
        download = await transport.get(url)
        yield Image(url=url, data=download.data, mime_type=download.content_type)
    yield Finish("stop")
