"""Work per call is bounded (issue 10, must fix 5): images per reply, bytes of all downloads,
and a non-streamed reply is held in memory once."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from gallery import Gallery, GalleryPlugin, MiB
from jackfield import Limits, ResponseFormatError
from jackfield._http.transport import ProviderTransport, Transport
from jackfield._settings.limits import Timeouts
from jackfield.testing import RegistryFactory, ServeApp


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


@pytest.mark.parametrize("query", ["", "?chunked"])
async def test_a_huge_download_is_refused_within_the_budget(serve_app: ServeApp,
                                                             query: str) -> None:
    service = Gallery(1, 1024)
    url = await serve_app(service.app)
    transport = Transport(timeouts=Timeouts(5, 5, 20), limits=Limits(max_call_bytes=MiB // 2))
    follow = ProviderTransport(transport, "gallery", None, None, base_url=url)
    tracemalloc.start()
    try:
        with pytest.raises(ResponseFormatError, match="max_call_bytes"):
            await follow.get(f"{url}/huge{query}")
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
