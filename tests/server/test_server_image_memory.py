"""The images endpoint encodes only the images asked for (issue 10, must fix 5)."""

from __future__ import annotations

import tracemalloc

import aiohttp
from server_helpers import StartServer

from gallery import Gallery, GalleryPlugin, MiB
from jackfield.testing import RegistryFactory, ServeApp


async def test_one_b64_image_of_a_reply_of_many_is_encoded_alone(
        serve_app: ServeApp, make_registry: RegistryFactory, start_server: StartServer,
        http: aiohttp.ClientSession) -> None:
    service = Gallery(16, MiB)
    registry = make_registry([GalleryPlugin()], base_urls={"gallery": await serve_app(service.app)})
    url = await start_server(registry)
    body = {"model": "draw", "prompt": "x", "response_format": "b64_json", "n": 1}
    async with http.post(f"{url}/v1/images/generations", json=body) as warm_up:
        assert warm_up.status == 200
    tracemalloc.start()
    try:
        async with http.post(f"{url}/v1/images/generations", json=body) as response:
            reply = await response.json()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(reply["data"]) == 1
    # The reply's 16 MiB held once, plus one image as base64, its JSON text and body; before,
    # all 16 were encoded and then dropped (40 MiB).
    assert peak < 16 * MiB + 8 * MiB, f"peak {peak / MiB:.1f} MiB"
