"""The chain: jackfield-openai -> a second `jackfield serve` -> the seed plugins' emulators,
all on loopback. That server lists jackfield's own kind and capabilities, so this side knows
its models exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from openai_helpers import openai_registry

import jackfield
import jackfield_aichats
import jackfield_amigochat
from jackfield import AuthenticationError, CapabilityError, Registry, UnknownModelError
from jackfield.testing import RegistryFactory, png_bytes, serve_app
from jackfield_aichats.emulator import create_app as aichats_app
from jackfield_amigochat.emulator import create_app as amigochat_app

SERVE_KEY = "serve-key-not-a-secret"
COOKIE = "session=chain-test"
AMIGO_REPLY = "Hello from the AmigoChat emulator (gpt-4o-mini). You said: hi"


@pytest.fixture
async def seed_registry() -> AsyncIterator[Registry]:
    """A Registry of the seed plugins, each against its own emulator."""
    async with serve_app(aichats_app(cookie=COOKIE)) as aichats, \
            serve_app(amigochat_app()) as amigochat:
        registry = Registry([jackfield_aichats, jackfield_amigochat], environ={}, config={
            "aichats": {"base_url": aichats, "cookie": COOKIE},
            "amigochat": {"base_url": amigochat}})
        async with registry:
            yield registry


@pytest.fixture
async def chained(seed_registry: Registry, make_registry: RegistryFactory
                  ) -> AsyncIterator[Registry]:
    """A registry whose `openai` provider is a `jackfield serve` of the seed registry."""
    async with serve_app(jackfield.create_app(seed_registry, api_key=SERVE_KEY)) as url:
        yield openai_registry(make_registry, url, key=SERVE_KEY)


async def test_the_listing_carries_kinds_and_capabilities_exactly(
        chained: Registry, seed_registry: Registry) -> None:
    await chained.refresh_models()
    assert chained.discovery_warnings() == {}
    here = {m.id: m for m in chained.models(provider="openai")}
    there = {m.id: m for m in seed_registry.models()}
    assert set(here) == set(there)
    for model_id, model in there.items():
        assert (here[model_id].kind, here[model_id].capabilities) == (
            model.kind, model.capabilities), model_id


@pytest.mark.parametrize("stream", [False, True])
async def test_chat_end_to_end(chained: Registry, stream: bool) -> None:
    if stream:
        reply = await chained.complete("openai/gpt-4o-mini", "hi", stream=True)
        pieces = [chunk.text async for chunk in reply]
        assert len(pieces) > 3  # streamed piece by piece, through both servers
        assert "".join(pieces).strip() == AMIGO_REPLY
        completion = reply.completion
    else:
        completion = await chained.complete("openai/gpt-4", "hi")
        assert completion.text == "Hello from the AiChats emulator. You said: hi"
    assert completion.provider == "openai"


async def test_images_end_to_end(chained: Registry) -> None:
    completion = await chained.complete("openai/dall-e-3", "a cat")
    # The emulator draws two; the server answers OpenAI's n (default 1) of them.
    assert [image.data for image in completion.images] == [png_bytes(seed="a cat")]
    reply = await chained.complete("openai/flux-realism", "a fox", stream=True)
    images = [chunk.image async for chunk in reply if chunk.image is not None]
    assert [image.data for image in images] == [png_bytes(seed="a fox")]


async def test_exact_capabilities_refuse_before_sending(chained: Registry) -> None:
    await chained.refresh_models()
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(CapabilityError) as raised:
        await chained.complete("openai/gpt-4o-mini", "hi", tools=[tool])
    assert raised.value.capability == "tools"


async def test_an_unknown_id_and_a_wrong_key(chained: Registry, seed_registry: Registry,
                                             make_registry: RegistryFactory) -> None:
    with pytest.raises(UnknownModelError) as raised:
        await chained.complete("openai/no-such-model", "hi")
    assert raised.value.provider == "openai"
    async with serve_app(jackfield.create_app(seed_registry, api_key=SERVE_KEY)) as url:
        wrong = openai_registry(make_registry, url, key="not-the-serve-key")
        with pytest.raises(AuthenticationError) as refused:
            await wrong.complete("openai/gpt-4", "hi")
        assert SERVE_KEY not in str(refused.value)
        assert "not-the-serve-key" not in str(refused.value)
