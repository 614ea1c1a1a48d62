"""Discovery: the models live on the server, are asked for through the core, and change."""

from __future__ import annotations

import jackfield_ollama_example
import pytest
from jackfield_ollama_example import NATIVE
from jackfield_ollama_example.emulator import create_app
from jackfield_ollama_example.listing import model_spec
from jackfield_ollama_example.shelf import PulledModel
from ollama_helpers import SPEC, start

from jackfield import DiscoveryPolicy, Registry, UnknownModelError
from jackfield.provider import ModelSpec, ResponseFormatError
from jackfield.testing import (
    FAULTS_KEY,
    STATS_KEY,
    ProviderHarness,
    RegistryFactory,
    ServeApp,
    make_config,
)

PULLED = ["llama3.2:3b", "llava:7b", "nomic-embed-text:latest", "qwen3:8b"]


def ids(registry: Registry) -> list[str]:
    return sorted(model.id for model in registry.models(provider="ollama"))


async def test_the_static_list_is_empty_and_the_server_lists_the_models(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    assert ollama.registry.models(provider="ollama") == []  # nothing asked yet: no I/O
    assert ollama.stats.requests == 0
    models = {m.id: m for m in await ollama.registry.refresh_models(provider="ollama")}
    assert sorted(models) == PULLED
    assert ollama.stats.by_path == {"/api/tags": 1, "/api/show": 4}
    assert models["nomic-embed-text:latest"].kind == "embedding"
    llava, qwen = models["llava:7b"].capabilities, models["qwen3:8b"].capabilities
    assert (llava.image_input, llava.tools, llava.reasoning) == (True, False, False)
    assert (qwen.image_input, qwen.tools, qwen.reasoning) == (False, True, True)
    assert qwen.json_schema and qwen.stop and qwen.seed and qwen.logprobs is False
    assert ollama.registry.discovery_warnings() == {}


async def test_a_call_asks_the_server_first(serve_app: ServeApp,
                                            make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    reply = await ollama.registry.complete("llava:7b", "hi")  # unpinned: found by discovery
    assert reply.text == "You said: hi"
    assert ollama.stats.by_path["/api/tags"] == 1
    await ollama.registry.complete("llava:7b", "again")  # within the ttl: not asked again
    assert ollama.stats.by_path["/api/tags"] == 1


async def test_a_model_pulled_after_the_registry_started_is_usable(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry, discovery=DiscoveryPolicy(retry=0))
    await ollama.registry.refresh_models()
    assert "mistral:7b" not in ids(ollama.registry)
    ollama.shelf.pull("mistral:7b", "completion", "tools")
    # Unpinned: a name nobody lists makes the registry ask the server again.
    reply = await ollama.registry.complete("mistral:7b", "fresh")
    assert reply.text == "You said: fresh"
    assert "mistral:7b" in ids(ollama.registry)
    mistral = next(m for m in ollama.registry.models() if m.id == "mistral:7b")
    assert mistral.capabilities.tools is True
    ollama.shelf.remove("mistral:7b")
    await ollama.registry.refresh_models(provider="ollama")
    assert "mistral:7b" not in ids(ollama.registry)


async def test_a_pinned_unlisted_id_passes_through(serve_app: ServeApp,
                                                   make_registry: RegistryFactory) -> None:
    # retry stays at its default: the first call asks the server, the pull comes after.
    ollama = await start(serve_app, make_registry)
    await ollama.registry.refresh_models()
    ollama.shelf.pull("phi4:14b")
    reply = await ollama.registry.complete("ollama/phi4:14b", "through")
    assert reply.text == "You said: through"
    assert ollama.stats.last_json["model"] == "phi4:14b"
    with pytest.raises(UnknownModelError):
        await ollama.registry.complete("phi4:14b", "unpinned")  # not listed, not pinned


async def test_a_failing_server_leaves_a_warning_and_no_crash(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    app = create_app()
    ollama = await start(serve_app, make_registry, app=app)
    app[FAULTS_KEY].endpoints = ("/api/tags",)
    app[FAULTS_KEY].set("unavailable")
    assert await ollama.registry.refresh_models(provider="ollama") == []
    warning = ollama.registry.discovery_warnings()["ollama"]
    assert "could not be listed" in warning and "503" in warning
    app[FAULTS_KEY].clear()
    assert sorted(m.id for m in await ollama.registry.refresh_models()) == PULLED
    assert ollama.registry.discovery_warnings() == {}


async def test_a_reply_that_is_not_a_model_list_is_a_warning(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    from aiohttp import web

    async def tags(request: web.Request) -> web.Response:
        return web.json_response({"models": "all of them"})

    app = web.Application()
    app.router.add_get("/api/tags", tags)
    ollama = await start(serve_app, make_registry, app=app)
    await ollama.registry.refresh_models()
    assert "did not answer" in ollama.registry.discovery_warnings()["ollama"]


async def test_the_discovery_hook_alone(provider_harness: ProviderHarness,
                                        serve_app: ServeApp) -> None:
    url = await serve_app(create_app([PulledModel("gemma3:4b", ("completion", "vision"))]))
    models = await jackfield_ollama_example.jackfield_discover_models(
        provider=SPEC, config=make_config(SPEC, base_url=url),
        transport=provider_harness.for_provider("ollama", url))
    assert [(m.id, m.capabilities.image_input) for m in models] == [("gemma3:4b", True)]


def test_an_older_server_without_capabilities_leaves_them_unknown() -> None:
    assert model_spec("old:1b", {"details": {}}) == ModelSpec("old:1b", capabilities=NATIVE)
    assert NATIVE.tools is None and NATIVE.image_input is None and NATIVE.reasoning is None


def test_a_bad_tags_reply_is_a_response_format_error() -> None:
    from jackfield_ollama_example.listing import _model_names

    with pytest.raises(ResponseFormatError, match="without a name"):
        _model_names("ollama", {"models": [{"model": "x"}]})


async def test_named_instances_each_ask_their_own_server(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    local = await start(serve_app, make_registry)
    box_app = create_app([PulledModel("llama3.1:70b"), PulledModel("qwen3:32b")])
    box_url = await serve_app(box_app)
    registry = make_registry([jackfield_ollama_example], base_urls={"ollama": local.url},
                             config={"gpu-box": {"plugin": "ollama", "base_url": box_url,
                                                 "models": ["llama3.1:70b"]}})
    await registry.refresh_models()
    assert sorted(m.id for m in registry.models(provider="gpu-box")) == ["llama3.1:70b"]
    assert sorted(m.id for m in registry.models(provider="ollama")) == PULLED
    reply = await registry.complete("gpu-box/llama3.1:70b", "big")
    assert reply.provider == "gpu-box" and reply.text == "You said: big"


async def test_the_key_falls_back_to_ollama_api_key_for_the_default_provider_only(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    app = create_app()
    url = await serve_app(app)
    registry = make_registry([jackfield_ollama_example], base_urls={"ollama": url},
                             environ={"OLLAMA_API_KEY": "k-123"},
                             config={"other": {"plugin": "ollama", "base_url": url}})
    await registry.complete("ollama/llama3.2:3b", "hi")
    assert app[STATS_KEY].last_headers["Authorization"] == "Bearer k-123"
    await registry.complete("other/llama3.2:3b", "hi")
    assert "Authorization" not in app[STATS_KEY].last_headers


async def test_one_failing_show_keeps_the_last_list(serve_app: ServeApp,
                                                    make_registry: RegistryFactory) -> None:
    app = create_app()
    ollama = await start(serve_app, make_registry, app=app)
    await ollama.registry.refresh_models()
    ollama.shelf.pull("mistral:7b")
    app[FAULTS_KEY].endpoints = ("/api/show",)
    app[FAULTS_KEY].set("unavailable", times=1)
    await ollama.registry.refresh_models()
    assert "503" in ollama.registry.discovery_warnings()["ollama"]
    assert ids(ollama.registry) == PULLED  # the last list, without mistral
    assert ollama.stats.in_flight == 0  # every /api/show had ended
    await ollama.registry.refresh_models()
    assert "mistral:7b" in ids(ollama.registry)
