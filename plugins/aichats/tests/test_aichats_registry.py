"""End to end through jackfield.Registry against the emulator on loopback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aichats_helpers import COOKIE

import jackfield_aichats
from jackfield import Registry
from jackfield.provider import AuthenticationError, InvalidRequestError
from jackfield.testing import Emulator, png_bytes, serve_app, words_of
from jackfield_aichats.emulator import CONTROLS_KEY, create_app

CHAT = [{"role": "user", "content": "hi"}]


def registry_for(url: str, cookie: str | None = COOKIE, **kwargs: Any) -> Registry:
    settings = {"base_url": url} | ({} if cookie is None else {"cookie": cookie})
    kwargs.setdefault("environ", {})  # a developer's own JACKFIELD_* settings stay out
    return Registry(plugins=[jackfield_aichats], config={"aichats": settings}, **kwargs)


@pytest.fixture
async def registry(emulator: Emulator) -> AsyncIterator[Registry]:
    async with registry_for(emulator.url) as registry:
        yield registry


async def test_chat_completion(registry: Registry, emulator: Emulator) -> None:
    completion = await registry.complete("gpt-4", CHAT)
    assert completion.text == "Hello from the AiChats emulator. You said: hi"
    assert completion.finish_reason == "stop"
    assert (completion.provider, completion.model) == ("aichats", "gpt-4")
    assert completion.images == ()
    assert emulator.stats.last_json == {"type": "chat",
                                        "messagesHistory": [{"from": "you", "content": "hi"}]}


async def test_conversation_is_packed_into_one_prompt(registry: Registry,
                                                      emulator: Emulator) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"}, {"role": "user", "content": "q"}]
    completion = await registry.complete("gpt-4", messages)
    sent = emulator.stats.last_json["messagesHistory"][0]["content"]
    assert sent == "System: be brief\nUser: hi\nAssistant: hello\nUser: q\nAssistant:"
    assert completion.text.endswith("System: be brief User: hi Assistant: hello User: q Assistant:")


async def test_pinned_and_provider_default_names_route_to_gpt_4(registry: Registry) -> None:
    for name in ("aichats/gpt-4", "aichats"):
        completion = await registry.complete(name, "hi")
        assert completion.model == "gpt-4"


async def test_stream_yields_each_piece(registry: Registry) -> None:
    expected = words_of("Hello from the AiChats emulator. You said: hi")
    stream = await registry.complete("gpt-4", CHAT, stream=True)
    chunks = [chunk.text async for chunk in stream]
    assert chunks == expected
    assert stream.completion.text == "".join(expected)
    assert stream.completion.finish_reason == "stop"


async def test_many_pieces_arrive_in_order(registry: Registry) -> None:
    stream = await registry.complete("gpt-4", "pieces:3000", stream=True)
    chunks = [chunk.text async for chunk in stream]
    assert chunks == [f" w{k}" for k in range(1, 3001)]
    assert stream.completion.text.startswith("w1 w2 w3")


async def test_first_chunk_arrives_while_the_rest_is_held_back(registry: Registry,
                                                             emulator: Emulator) -> None:
    release = asyncio.Event()

    async def pacer(index: int) -> None:
        if index > 0:
            await release.wait()

    emulator.app[CONTROLS_KEY].pacer = pacer
    stream = await registry.complete("gpt-4", "pieces:3", stream=True)
    async with stream:
        first = await asyncio.wait_for(anext(stream), 5)
        assert first.text == " w1"
        assert not release.is_set()
        release.set()
        rest = [chunk.text async for chunk in stream]
    assert rest == [" w2", " w3"]


async def test_empty_reply_is_an_empty_completion(registry: Registry) -> None:
    completion = await registry.complete("gpt-4", "pieces:0")
    assert completion.text == ""
    assert completion.finish_reason == "stop"


async def test_image_completion(registry: Registry, emulator: Emulator) -> None:
    completion = await registry.complete("dalle", [{"role": "user", "content": "a red cat"}])
    assert len(completion.images) == 1
    image = completion.images[0]
    assert image.data == png_bytes(seed="a red cat")
    assert image.mime_type == "image/png"
    assert image.url is not None and image.url.startswith(emulator.url + "/images/")
    assert emulator.stats.last_json["type"] == "image"


async def test_image_prompt_is_the_last_message(registry: Registry, emulator: Emulator) -> None:
    messages = [{"role": "user", "content": "a cat"}, {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "a dog"}]
    completion = await registry.complete("dalle", messages)
    assert emulator.stats.last_json["messagesHistory"] == [{"from": "you", "content": "a dog"}]
    assert completion.images[0].data == png_bytes(seed="a dog")


async def test_streamed_image_arrives_as_an_image_chunk(registry: Registry) -> None:
    stream = await registry.complete("dalle", "a cat", stream=True)
    chunks = [chunk async for chunk in stream]
    assert [chunk.image.data for chunk in chunks if chunk.image] == [png_bytes(seed="a cat")]


def test_models_are_listed() -> None:
    registry = Registry(plugins=[jackfield_aichats], environ={})
    models = {(m.id, m.kind, m.default, m.provider) for m in registry.models()}
    assert models == {("gpt-4", "chat", True, "aichats"), ("dalle", "image", False, "aichats")}


@pytest.mark.parametrize("model", ["gpt-4", "dalle"])
async def test_an_unknown_option_is_rejected_before_io(emulator: Emulator, model: str) -> None:
    async with registry_for(emulator.url) as registry:
        with pytest.raises(InvalidRequestError, match="creativity") as caught:
            await registry.complete(model, CHAT, creativity=0.5)
    assert "Supported options: none" in str(caught.value)
    assert emulator.stats.requests == 0


async def test_a_chat_parameter_to_the_image_model_is_refused(emulator: Emulator) -> None:
    async with registry_for(emulator.url) as registry:
        with pytest.raises(InvalidRequestError, match="image model") as caught:
            await registry.complete("dalle", "a cat", temperature=0.5)
    assert caught.value.param == "temperature"
    assert emulator.stats.requests == 0


async def test_missing_cookie_fails_before_io(emulator: Emulator) -> None:
    async with registry_for(emulator.url, cookie=None) as registry:
        with pytest.raises(AuthenticationError) as caught:
            await registry.complete("gpt-4", CHAT)
    assert "JACKFIELD_AICHATS_COOKIE" in str(caught.value)
    assert emulator.stats.requests == 0


async def test_rejected_cookie_says_how_to_set_it(emulator: Emulator) -> None:
    async with registry_for(emulator.url, cookie="session=stale") as registry:
        with pytest.raises(AuthenticationError) as caught:
            await registry.complete("gpt-4", CHAT)
    assert caught.value.status == 403
    assert "JACKFIELD_AICHATS_COOKIE" in str(caught.value)
    assert emulator.stats.requests == 1  # refused credentials are not retried


async def test_cookie_from_the_environment(emulator: Emulator) -> None:
    environ = {"JACKFIELD_AICHATS_COOKIE": COOKIE, "JACKFIELD_AICHATS_BASE_URL": emulator.url}
    async with Registry(plugins=[jackfield_aichats], environ=environ) as registry:
        completion = await registry.complete("gpt-4", "hi")
    assert completion.text.endswith("You said: hi")
    assert emulator.stats.last_headers["Cookie"] == COOKIE


async def test_registry_offers_the_emulator() -> None:
    registry = Registry(plugins=[jackfield_aichats], environ={})
    factory = registry.emulators()["aichats"]
    assert factory is create_app
    async with serve_app(factory()) as url, registry_for(url, cookie="any=1") as other:
        assert (await other.complete("gpt-4", "hi")).text.endswith("You said: hi")


async def test_entry_point_discovery(emulator: Emulator) -> None:
    environ = {"JACKFIELD_LOAD_PLUGINS": "jackfield-aichats"}
    config = {"aichats": {"base_url": emulator.url, "cookie": COOKIE}}
    async with Registry.discover(environ=environ, config=config) as registry:
        assert [p.name for p in registry.providers()] == ["aichats"]
        assert (await registry.complete("gpt-4", "hi")).provider == "aichats"


def test_importing_the_plugin_does_not_import_aiohttp() -> None:
    code = ("import sys, jackfield_aichats as p; p.jackfield_provider(); "
            "assert 'aiohttp' not in sys.modules, sorted(m for m in sys.modules if 'aiohttp' in m)")
    subprocess.run([sys.executable, "-c", code], check=True)
