"""Embeddings and image generation through a Registry against the emulator."""

from __future__ import annotations

import pytest
from aiohttp import web
from openai_helpers import openai_registry

from jackfield import InvalidRequestError, Registry
from jackfield.testing import Emulator, RegistryFactory, ServeApp, png_bytes
from jackfield_openai.emulator.embeddings import embed_text


@pytest.mark.parametrize("encoding", ["base64", "float"])
async def test_embeddings_in_either_encoding(registry: Registry, emulator: Emulator,
                                             encoding: str) -> None:
    embeddings = await registry.embed("openai/text-embedding-3-small", ["red", "blue"],
                                      dimensions=32, encoding_format=encoding)
    assert len(embeddings) == 2
    # float32 on the wire either way: the values are exactly the emulator's.
    assert list(embeddings[0]) == pytest.approx(embed_text("red", 32), abs=0)
    assert list(embeddings[1]) == embed_text("blue", 32)
    assert embeddings.usage is not None and embeddings.usage.prompt_tokens == 2
    sent = emulator.stats.last_json
    assert (sent["input"], sent["dimensions"], sent["encoding_format"]) == (
        ["red", "blue"], 32, encoding)


async def test_embeddings_default_to_base64_and_the_models_size(registry: Registry,
                                                                emulator: Emulator) -> None:
    embeddings = await registry.embed("openai/text-embedding-3-small", "one text")
    assert len(embeddings[0]) == 1536
    assert emulator.stats.last_json["encoding_format"] == "base64"
    assert "dimensions" not in emulator.stats.last_json


async def test_a_bad_encoding_is_refused_before_sending(registry: Registry,
                                                        emulator: Emulator) -> None:
    await registry.refresh_models()
    before = emulator.stats.requests
    with pytest.raises(InvalidRequestError, match="encoding_format must be one of"):
        await registry.embed("openai/text-embedding-3-small", "x", encoding_format="int8")
    assert emulator.stats.requests == before


async def test_dimensions_a_model_cannot_take_are_the_services_400(registry: Registry) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        await registry.embed("openai/text-embedding-ada-002", "x", dimensions=8)
    assert "does not support specifying dimensions" in str(raised.value)
    assert raised.value.param == "dimensions"


@pytest.mark.parametrize(("model", "sent_format"), [("dall-e-3", "b64_json"),
                                                    ("gpt-image-1", None),
                                                    ("flux-schnell", "b64_json")])
async def test_image_generation(registry: Registry, emulator: Emulator, model: str,
                                sent_format: str | None) -> None:
    completion = await registry.complete(f"openai/{model}", "a red fox")
    [image] = completion.images
    assert image.data == png_bytes(f"{model}:a red fox:0")
    assert image.mime_type == "image/png"
    assert image.url is None  # the bytes came in the reply
    assert emulator.stats.last_json.get("response_format") == sent_format


async def test_image_options_are_sent(registry: Registry, emulator: Emulator) -> None:
    completion = await registry.complete("openai/dall-e-3", "a lighthouse", size="1792x1024",
                                         quality="hd", style="natural")
    assert len(completion.images) == 1
    sent = emulator.stats.last_json
    assert (sent["size"], sent["quality"], sent["style"]) == ("1792x1024", "hd", "natural")
    with pytest.raises(InvalidRequestError) as raised:
        await registry.complete("openai/dall-e-3", "a lighthouse", size="9x9")
    assert raised.value.param == "size"


async def test_a_streamed_image_call(registry: Registry) -> None:
    reply = await registry.complete("openai/gpt-image-1", "a cat", stream=True)
    images = [chunk.image async for chunk in reply if chunk.image is not None]
    assert [image.data for image in images] == [png_bytes("gpt-image-1:a cat:0")]


async def test_an_image_url_in_the_reply_is_downloaded(serve_app: ServeApp,
                                                       make_registry: RegistryFactory) -> None:
    """A server that answers with URLs anyway (it ignores response_format)."""
    async def generations(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"created": 1, "data": [
            {"url": str(request.url.with_path(f"/files/{body['prompt']}.png"))}]})

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=png_bytes(request.match_info["name"]),
                            content_type="image/png")

    async def models(_request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "dall-e-2"}]})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/images/generations", generations)
    app.router.add_get("/files/{name}.png", image)
    registry = openai_registry(make_registry, await serve_app(app), key=None)
    [picture] = (await registry.complete("openai/dall-e-2", "fox")).images
    assert picture.data == png_bytes("fox") and picture.url is not None
    assert picture.url.endswith("/files/fox.png")
