"""Work per call is bounded (issue 10, must fix 5): images per reply, bytes of all downloads,
and a non-streamed reply is held in memory once."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from jackfield import Finish, Image, Limits, ResponseFormatError
from jackfield._http.transport import ProviderTransport, Transport
from jackfield._settings.limits import Timeouts
from jackfield.provider import (
    CompletionRequest,
    HttpRequest,
    HttpResponse,
    ModelSpec,
    ProviderConfig,
    ProviderSpec,
    hookimpl,
    image_urls,
)
from jackfield.testing import RegistryFactory, ServeApp, new_app

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
        """Declare 16 MiB, then send it slowly (the client should hang up after the headers)."""
        self.downloads += 1
        response = web.StreamResponse(headers={"content-type": "image/png"})
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


async def gallery(serve_app: ServeApp, make_registry: RegistryFactory, count: int, size: int,
                  **limits: int) -> tuple[Gallery, Any]:
    service = Gallery(count, size)
    url = await serve_app(service.app)
    registry = make_registry([GalleryPlugin()], base_urls={"gallery": url},
                             limits=Limits(**limits), timeouts=Timeouts(5, 5, 20))
    return service, registry


def test_the_defaults() -> None:
    assert Limits().max_images == 32
    assert Limits().max_call_bytes <= 64 * MiB


async def test_a_reply_naming_too_many_images_is_refused(serve_app: ServeApp,
                                                         make_registry: RegistryFactory) -> None:
    service, registry = await gallery(serve_app, make_registry, 200, 1024)
    with pytest.raises(ResponseFormatError, match=r"more than 32 images.*max_images"):
        await registry.complete("draw", "x")
    assert service.downloads == 32


async def test_the_downloads_of_one_call_are_bounded_in_bytes(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    service, registry = await gallery(serve_app, make_registry, 10, MiB, max_call_bytes=3 * MiB)
    with pytest.raises(ResponseFormatError, match=r"exceed 3145728 bytes.*max_call_bytes"):
        await registry.complete("draw", "x")
    # The fourth is refused by its Content-Length, before its body is read.
    assert service.downloads == 4


async def test_a_large_declared_length_is_refused_before_reading(serve_app: ServeApp) -> None:
    service = Gallery(1, 1024)
    url = await serve_app(service.app)
    transport = Transport(timeouts=Timeouts(5, 5, 20), limits=Limits(max_call_bytes=MiB))
    follow = ProviderTransport(transport, "gallery", None, None, base_url=url)
    tracemalloc.start()
    try:
        with pytest.raises(ResponseFormatError, match="max_call_bytes"):
            await follow.get(f"{url}/huge")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await transport.aclose()
    assert peak < MiB, f"peak {peak / MiB:.1f} MiB"


async def test_a_non_streamed_reply_is_held_once(serve_app: ServeApp,
                                                 make_registry: RegistryFactory) -> None:
    count, size = 16, MiB
    service, registry = await gallery(serve_app, make_registry, count, size)
    await registry.complete("draw", "warm up the pool and the imports")
    tracemalloc.start()
    try:
        completion = await registry.complete("draw", "x")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(completion.images) == count
    assert all(image.data == service.image for image in completion.images)
    # The images themselves, plus one image in flight (its chunks and their join).
    assert peak < count * size + 2 * size, f"peak {peak / MiB:.1f} MiB"
