"""End to end through jackfield.Registry against the emulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from amigochat_helpers import TOKEN

import jackfield_amigochat
from jackfield import ModelUnavailableError, Registry
from jackfield.provider import AuthenticationError, InvalidRequestError, ProviderError
from jackfield.testing import Emulator, png_bytes, serve_app
from jackfield_amigochat.emulator import create_app

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one two"}]


@pytest.fixture
async def registry(emulator: Emulator) -> AsyncIterator[Registry]:
    """Return a registry with only this plugin, pointed at the emulator."""
    async with Registry(plugins=[jackfield_amigochat], environ={},
                        config={"amigochat": {"base_url": emulator.url}}) as registry:
        yield registry


async def test_complete_through_an_alias(registry: Registry, emulator: Emulator) -> None:
    completion = await registry.complete("gpt-4o", MESSAGES, temperature=0.2)
    assert completion.text == (
        "Hello from the AmigoChat emulator (gpt-4o-2024-11-20). You said: one two")
    assert (completion.model, completion.provider) == ("gpt-4o-2024-11-20", "amigochat")
    assert completion.finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 10
    sent = emulator.stats.last_json
    assert (sent["personaId"], sent["temperature"], sent["top_p"], sent["stream"]) == (
        "gpt", 0.2, 0.95, False)
    assert sent["messages"] == MESSAGES


async def test_stream_yields_pieces_and_a_completion(registry: Registry) -> None:
    stream = await registry.complete("claude-3.5-sonnet", "pieces:5", stream=True)
    texts = [chunk.text async for chunk in stream]
    assert texts == [" w1", " w2", " w3", " w4", " w5"]
    completion = stream.completion
    assert completion.text == "w1 w2 w3 w4 w5"
    assert completion.model == "claude-3-5-sonnet-20241022"
    assert completion.finish_reason == "stop"


async def test_images(registry: Registry) -> None:
    completion = await registry.complete("dall-e-3", [{"role": "user", "content": "a cat"}])
    assert len(completion.images) == 2
    assert completion.images[0].data == png_bytes(seed="a cat")
    assert completion.images[0].mime_type == "image/png"
    assert completion.provider == "amigochat" and completion.text == ""


async def test_streamed_image_through_an_alias(registry: Registry) -> None:
    stream = await registry.complete("flux-dev", "a red fox", stream=True)
    chunks = [chunk async for chunk in stream]
    assert len(chunks) == 1 and chunks[0].image is not None
    assert stream.completion.model == "flux/dev"


async def test_unavailable_models_need_a_pin(registry: Registry, emulator: Emulator) -> None:
    with pytest.raises(ModelUnavailableError, match="amigochat/o1-mini-"):
        await registry.complete("o1-mini-", "hi")
    assert emulator.stats.requests == 0
    with pytest.raises(ProviderError, match="balance is not enough") as caught:
        await registry.complete("amigochat/o1-mini-", "hi")
    assert caught.value.status == 402
    assert emulator.stats.requests == 1  # a 402 is not retried


async def test_default_model_and_pins(registry: Registry, emulator: Emulator) -> None:
    completion = await registry.complete("amigochat", "hi")
    assert completion.model == "gpt-4o-mini"
    completion = await registry.complete("amigochat/gpt-4o-mini", "hi")
    assert emulator.stats.last_json["personaId"] == "amigo"
    completion = await registry.complete("amigochat/meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
                                         "hi")
    assert completion.model == "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo"


async def test_options_are_checked_before_any_request(registry: Registry,
                                                      emulator: Emulator) -> None:
    with pytest.raises(InvalidRequestError, match="Supported options: none"):
        await registry.complete("gpt-4o", "hi", creativity=1)
    with pytest.raises(InvalidRequestError, match="max_tokens"):
        await registry.complete("gpt-4o", "hi", max_tokens="many")
    with pytest.raises(InvalidRequestError, match="temperature"):
        await registry.complete("gpt-4o", "hi", temperature=3.0)
    with pytest.raises(InvalidRequestError, match="image model"):
        await registry.complete("dall-e-3", "a cat", temperature=0.3)
    assert emulator.stats.requests == 0


def test_models_listing(registry: Registry) -> None:
    models = registry.models(provider="amigochat")
    assert len(models) == 37
    assert len(registry.models(kind="image")) == 8
    by_id = {m.id: m for m in models}
    assert by_id["gpt-4o-2024-11-20"].aliases == ("gpt-4o",)
    assert by_id["gpt-4o-mini"].default and by_id["gpt-4o-mini"].aliases == ("gpt-4o-mini",)
    assert not by_id["o1-preview-"].available
    assert by_id["flux/dev"].qualified_id == "amigochat/flux/dev"


async def test_token_configured_and_missing(emulator: Emulator) -> None:
    async with serve_app(create_app(token=TOKEN)) as url:
        async with Registry(plugins=[jackfield_amigochat], environ={},
                            config={"amigochat": {"base_url": url, "token": TOKEN}}) as ok:
            assert (await ok.complete("gpt-4o-mini", "hi")).text.endswith("You said: hi")
            assert TOKEN not in repr(ok.config("amigochat"))
        async with Registry(plugins=[jackfield_amigochat], environ={},
                            config={"amigochat": {"base_url": url}}) as anonymous:
            with pytest.raises(AuthenticationError, match="JACKFIELD_AMIGOCHAT_TOKEN"):
                await anonymous.complete("gpt-4o-mini", "hi")


async def test_token_from_the_environment() -> None:
    async with serve_app(create_app(token=TOKEN)) as url:
        environ = {"JACKFIELD_AMIGOCHAT_TOKEN": TOKEN, "JACKFIELD_AMIGOCHAT_BASE_URL": url}
        async with Registry(plugins=[jackfield_amigochat], environ=environ) as registry:
            assert (await registry.complete("gpt-4o-mini", "hi")).provider == "amigochat"


def test_discovered_through_the_entry_point() -> None:
    registry = Registry.discover(environ={"JACKFIELD_LOAD_PLUGINS": "jackfield-amigochat"})
    assert [p.name for p in registry.providers()] == ["amigochat"]
    [record] = registry.plugins()
    assert (record.distribution, record.model_count, record.error) == (
        "jackfield-amigochat", 37, None)
    assert registry.emulators() == {"amigochat": create_app}
