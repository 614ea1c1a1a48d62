"""Model discovery through a Registry: GET {base}/models, refresh, failures as warnings,
pass-through pins, and an unconfigured install that sends nothing."""

from __future__ import annotations

import socket

import pytest
from aiohttp import web
from openai_helpers import KEY, openai_registry

import jackfield_openai
from jackfield import (
    AuthenticationError,
    Capabilities,
    DiscoveryPolicy,
    Registry,
    UnknownModelError,
)
from jackfield.testing import FAULTS_KEY, Emulator, RegistryFactory, ServeApp
from jackfield_openai import guess_kind
from jackfield_openai.emulator import MODELS_KEY, EmulatedModel


async def test_the_models_are_the_servers(registry: Registry, emulator: Emulator) -> None:
    await registry.refresh_models()
    assert registry.discovery_warnings() == {}
    models = {m.id: m for m in registry.models(provider="openai")}
    assert set(models) == set(emulator.app[MODELS_KEY].ids())
    assert (models["gpt-4o-mini"].kind, models["text-embedding-3-small"].kind,
            models["dall-e-3"].kind, models["flux-schnell"].kind) == (
        "chat", "embedding", "image", "image")
    # OpenAI says nothing about what a model can do: the server decides.
    assert models["gpt-4o-mini"].capabilities == Capabilities.unknown()
    assert emulator.stats.last_headers["Authorization"] == f"Bearer {KEY}"


async def test_a_model_pulled_after_start_appears_on_refresh(registry: Registry,
                                                             emulator: Emulator) -> None:
    await registry.refresh_models()
    assert "llama3.2:1b" not in {m.id for m in registry.models()}
    emulator.app[MODELS_KEY].add("llama3.2:1b")
    await registry.refresh_models(provider="openai")
    assert "llama3.2:1b" in {m.id for m in registry.models()}
    completion = await registry.complete("llama3.2:1b", "hi")
    assert completion.provider == "openai" and completion.model == "llama3.2:1b"


async def test_a_call_naming_an_unlisted_model_asks_the_service_again(
        emulator: Emulator, make_registry: RegistryFactory) -> None:
    registry = openai_registry(make_registry, emulator.url, discovery=DiscoveryPolicy(retry=0))
    await registry.refresh_models()
    listings = emulator.stats.by_path["/v1/models"]
    emulator.app[MODELS_KEY].add("qwen2.5:7b")
    completion = await registry.complete("qwen2.5:7b", "hi")  # unpinned: found by asking
    assert completion.text.endswith("You said: hi")
    assert emulator.stats.by_path["/v1/models"] == listings + 1


async def test_a_pinned_unlisted_id_is_passed_through(registry: Registry,
                                                      emulator: Emulator) -> None:
    await registry.refresh_models()
    with pytest.raises(UnknownModelError) as raised:
        await registry.complete("openai/unlisted", "hi")
    error = raised.value
    assert error.provider == "openai"
    assert "openai has no model 'unlisted'" in str(error)
    assert "`unlisted` does not exist" in str(error)  # the service's own words
    assert emulator.stats.last_json["model"] == "unlisted"  # it was sent as it is


async def test_a_dead_server_is_a_warning_not_a_crash(make_registry: RegistryFactory) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    registry = openai_registry(make_registry, f"http://127.0.0.1:{port}")
    await registry.refresh_models()
    assert registry.models(provider="openai") == []  # the static list: empty
    assert "openai" in registry.discovery_warnings()


@pytest.mark.parametrize(("reply", "says"), [
    (web.Response(text="<!DOCTYPE html><html><head><title>Sign in</title></head></html>",
                  content_type="text/html"), "HTML page"),
    (web.Response(text="not json at all", content_type="application/json"), "JSON"),
    (web.json_response({"object": "list", "data": [{"object": "model"}]}), "no string 'id'"),
    (web.json_response({"models": []}), "no 'data' list"),
])
async def test_html_or_garbage_from_the_listing_is_a_warning(
        serve_app: ServeApp, make_registry: RegistryFactory, reply: web.Response,
        says: str) -> None:
    app = web.Application()
    async def models(_request: web.Request) -> web.Response:
        return reply

    app.router.add_get("/v1/models", models)
    registry = openai_registry(make_registry, await serve_app(app), key=None)
    await registry.refresh_models()
    warning = registry.discovery_warnings()["openai"]
    assert says in warning, warning


async def test_a_faulted_listing_keeps_the_last_list(registry: Registry,
                                                     emulator: Emulator) -> None:
    await registry.refresh_models()
    before = {m.id for m in registry.models()}
    faults = emulator.app[FAULTS_KEY]
    faults.endpoints = (*faults.endpoints, "/v1/models")
    faults.set("html_200")
    await registry.refresh_models()
    assert {m.id for m in registry.models()} == before
    assert "HTML page" in registry.discovery_warnings()["openai"]


async def test_a_default_install_without_a_key_sends_nothing(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Neither listing nor a call reaches api.openai.com when no key is configured."""
    opened: list[object] = []

    async def refuse(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise OSError("the test refuses every name lookup and connection")

    import asyncio

    import aiohttp.connector
    # A name lookup is the first step (the core's address policy), a connection the next.
    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", refuse)
    monkeypatch.setattr(aiohttp.connector.BaseConnector, "connect", refuse)
    async with Registry([jackfield_openai], environ={}) as registry:
        assert registry.config("openai").base_url == "https://api.openai.com/v1"
        await registry.refresh_models()
        warning = registry.discovery_warnings()["openai"]
        assert "'api_key' is not configured" in warning and "JACKFIELD_OPENAI_API_KEY" in warning
        with pytest.raises(AuthenticationError) as raised:
            await registry.complete("openai/gpt-4o-mini", "hi")
        assert "jackfield keys set openai api_key" in str(raised.value)
    assert opened == []
    # The check above can fail: with a key, the listing does try to connect (and is stopped).
    async with Registry([jackfield_openai], environ={"OPENAI_API_KEY": "sk-made-up"}
                        ) as registry:
        await registry.refresh_models()
        assert "openai" in registry.discovery_warnings()
    assert opened


async def test_a_server_without_a_key_gets_no_authorization(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    from jackfield.testing import STATS_KEY
    from jackfield_openai.emulator import create_app

    app = create_app()  # like a local vLLM or Ollama: no key needed
    registry = openai_registry(make_registry, await serve_app(app), key=None)
    await registry.refresh_models()
    assert "authorization" not in {h.lower() for h in app[STATS_KEY].last_headers}
    completion = await registry.complete("openai/gpt-4o-mini", "hi")
    assert completion.text.endswith("You said: hi")
    assert "authorization" not in {h.lower() for h in app[STATS_KEY].last_headers}


def test_the_kind_rule() -> None:
    assert [guess_kind(i) for i in (
        "text-embedding-3-small", "nomic-embed-text", "dall-e-3", "gpt-image-1",
        "openai/dall-e-2", "black-forest-labs/flux-1.1-pro", "stable-diffusion-xl", "gpt-4o",
        "llama3.2", "deepseek-reasoner")] == [
        "embedding", "embedding", "image", "image", "image", "image", "image", "chat", "chat",
        "chat"]


async def test_models_chat_completions_refuse_are_listed_unavailable(
        registry: Registry, emulator: Emulator) -> None:
    for model_id in ("tts-1", "whisper-1", "omni-moderation-latest", "gpt-4o-realtime-preview",
                     "davinci-002"):
        emulator.app[MODELS_KEY].add(model_id)
    await registry.refresh_models()
    listed = {m.id: m.available for m in registry.models(provider="openai")}
    assert not any(listed[m] for m in ("tts-1", "whisper-1", "omni-moderation-latest",
                                       "gpt-4o-realtime-preview", "davinci-002"))
    assert listed["gpt-4o-mini"] and listed["text-embedding-3-small"]
    with pytest.raises(UnknownModelError, match="unavailable"):
        await registry.complete("whisper-1", "hi")  # unpinned: not routed
    pinned = await registry.complete("openai/whisper-1", "hi")  # pinned: tried anyway
    assert pinned.model == "whisper-1"


async def test_jackfield_capabilities_and_kind_in_a_listing_are_used(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    listed = {"id": "painter", "object": "model", "kind": "image", "available": False,
              "capabilities": {"tools": True, "image_input": False, "json_object": None,
                               "json_schema": False, "stop": True, "seed": False,
                               "reasoning": False, "logprobs": False,
                               "sampling": ["temperature"]}}

    async def models(_request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            listed, {**listed, "kind": "chat"}, {"id": "odd", "capabilities": {"tools": "yes"}},
            {"id": "new-embedder"}]})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    registry = openai_registry(make_registry, await serve_app(app), key=None)
    await registry.refresh_models()
    found = {m.id: m for m in registry.models(provider="openai")}
    assert set(found) == {"painter", "odd", "new-embedder"}  # an id listed twice: the first
    painter = found["painter"]
    assert (painter.kind, painter.available) == ("image", False)
    assert painter.capabilities == Capabilities(tools=True, json_object=None, stop=True,
                                                sampling=("temperature",))
    assert found["odd"].capabilities == Capabilities.unknown()  # a malformed object: unknown
    assert found["new-embedder"].kind == "embedding"


async def test_an_added_model_can_be_an_embedding_model(registry: Registry,
                                                        emulator: Emulator) -> None:
    emulator.app[MODELS_KEY].add(EmulatedModel("mxbai-embed-large", "embedding", 16))
    await registry.refresh_models()
    embeddings = await registry.embed("mxbai-embed-large", "hello")
    assert len(embeddings[0]) == 16
