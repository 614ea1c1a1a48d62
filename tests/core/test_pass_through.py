"""Pass-through pins: an id no listing knows goes to a provider that accepts it, and the
service's own "no such model" or "refused" answer moves the call on without retry or cooldown."""

from __future__ import annotations

from typing import Any

import pytest

from discovering import ModelService, PassingProvider, StaticProvider, started
from jackfield import (
    AllProvidersFailedError,
    InvalidRequestError,
    ProviderError,
    Registry,
    RetryPolicy,
    UnknownModelError,
)
from jackfield.provider import Capabilities, EmbeddingRequest, ModelSpec
from jackfield.testing import RegistryFactory, ServeApp


@pytest.fixture
async def service(serve_app: ServeApp) -> ModelService:
    return await started(serve_app, ["m1", "m-new", "emb-new"])


def build(make_registry: RegistryFactory, service: ModelService, *plugins: Any,
          config: dict[str, Any] | None = None, **kwargs: Any) -> Registry:
    config = config or {}
    for plugin in plugins:
        config.setdefault(plugin.name, {}).setdefault("base_url", service.url)
    kwargs.setdefault("retry", RetryPolicy(backoff=0.01, max_backoff=0.02))
    return make_registry(list(plugins), config=config, **kwargs)


async def test_a_pinned_unlisted_id_is_sent_as_it_is(make_registry: RegistryFactory,
                                                     service: ModelService) -> None:
    caps = Capabilities(tools=False, stop=True)
    plugin = PassingProvider(static=[ModelSpec("m1")], pass_through_capabilities=caps)
    registry = build(make_registry, service, plugin)
    assert (await registry.complete("disc/m-new", "hi")).text == "m-new says hi"
    sent = plugin.built[-1]
    assert (sent.model.id, sent.model.kind, sent.model.capabilities) == ("m-new", "chat", caps)
    assert [m.id for m in registry.models()] == ["m1"]  # a pass-through is not listed
    candidates = registry.resolve("disc/whatever", "embedding")
    assert [(c.provider.name, c.model.id, c.model.kind) for c in candidates] == [
        ("disc", "whatever", "embedding")]
    with pytest.raises(InvalidRequestError, match="kind must be one of chat, image, embedding"):
        registry.resolve("disc/whatever", "embeddings")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="kind must be one of"):
        registry.models(kind="embeddings")  # type: ignore[arg-type]


async def test_the_kind_follows_the_call(make_registry: RegistryFactory,
                                         service: ModelService) -> None:
    plugin = PassingProvider()
    registry = build(make_registry, service, plugin)
    embedded = await registry.embed("disc/emb-new", ["a", "bcd"])
    assert isinstance(plugin.built[-1], EmbeddingRequest)
    assert plugin.built[-1].model.kind == "embedding"
    assert [vector[0] for vector in embedded] == [1.0, 3.0]
    await registry.complete("disc/m-new", "hi")
    assert plugin.built[-1].model.kind == "chat"


@pytest.mark.parametrize("allow_list", [False, True])
async def test_refused_without_pass_through_or_with_an_allow_list(
        make_registry: RegistryFactory, service: ModelService, allow_list: bool) -> None:
    if allow_list:
        plugin: StaticProvider = PassingProvider(static=[ModelSpec("m1")])
        registry = build(make_registry, service, plugin, config={"disc": {"models": ["m1"]}})
    else:
        plugin = StaticProvider(static=[ModelSpec("m1")])
        registry = build(make_registry, service, plugin)
    with pytest.raises(UnknownModelError, match="'disc/m-new'") as caught:
        await registry.complete("disc/m-new", "hi")
    assert caught.value.provider is None  # our verdict, not the service's
    assert service.calls == [] and plugin.built == []  # nothing was sent


async def test_the_services_404_is_an_unknown_model_of_that_provider(
        make_registry: RegistryFactory, service: ModelService) -> None:
    plugin = PassingProvider()
    registry = build(make_registry, service, plugin)
    with pytest.raises(UnknownModelError) as caught:
        await registry.complete("disc/not-pulled", "hi")
    error = caught.value
    assert error.provider == "disc" and error.name == "disc/not-pulled"
    assert str(error).startswith("disc has no model 'not-pulled' (the service said: model "
                                 "'not-pulled' not found, try pulling it first).")
    assert "jackfield models --refresh" in str(error)
    assert len(service.calls) == 1  # no retry
    assert registry.health()["disc"].failures == 0  # the provider is fine: no cooldown
    assert not registry.health()["disc"].cooling_down


async def test_a_hook_without_a_message_is_not_quoted_twice(make_registry: RegistryFactory,
                                                            service: ModelService) -> None:
    plugin = PassingProvider()
    plugin.on_error = lambda reply: UnknownModelError(reply.model or "?")
    registry = build(make_registry, service, plugin)
    with pytest.raises(UnknownModelError) as caught:
        await registry.complete("disc/not-pulled", "hi")
    assert str(caught.value).startswith("disc has no model 'not-pulled'.")


async def test_the_next_candidate_is_tried(make_registry: RegistryFactory,
                                          service: ModelService) -> None:
    stale, fresh = PassingProvider("stale", static=[ModelSpec("gone")]), PassingProvider("fresh")
    service.models.append("gone-elsewhere")
    registry = build(make_registry, service, stale, fresh,
                     routes={"any": ["stale/gone", "fresh/m1"]})
    assert (await registry.complete("any", "hi")).text == "m1 says hi"
    assert [call["model"] for call in service.calls] == ["gone", "m1"]
    assert registry.health()["stale"].failures == 0


async def test_every_candidate_unknown(make_registry: RegistryFactory,
                                       service: ModelService) -> None:
    one, two = PassingProvider("one"), PassingProvider("two")
    registry = build(make_registry, service, one, two, routes={"any": ["one/x", "two/y"]})
    with pytest.raises(AllProvidersFailedError) as caught:
        await registry.complete("any", "hi")
    assert [type(e) for e in caught.value.errors] == [UnknownModelError, UnknownModelError]
    assert [e.provider for e in caught.value.errors] == ["one", "two"]


async def test_an_invalid_request_from_the_service(make_registry: RegistryFactory,
                                                   service: ModelService) -> None:
    service.refuse = (400, {"error": {"message": "context too long", "param": "messages"}})
    plugin = PassingProvider(static=[ModelSpec("m1")])
    registry = build(make_registry, service, plugin)
    with pytest.raises(InvalidRequestError, match="context too long") as caught:
        await registry.complete("m1", "hi")
    assert caught.value.param == "messages"
    assert len(service.calls) == 1 and registry.health()["disc"].failures == 0


async def test_without_an_error_hook_the_status_decides(make_registry: RegistryFactory,
                                                        service: ModelService) -> None:
    plugin = StaticProvider(pass_through=True)
    registry = build(make_registry, service, plugin)
    with pytest.raises(ProviderError) as caught:
        await registry.complete("disc/not-pulled", "hi")
    assert caught.value.status == 404 and "try pulling it first" in str(caught.value)
