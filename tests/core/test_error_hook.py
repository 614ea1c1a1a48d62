"""jackfield_error_reply: a plugin reads its service's error replies, for calls and for
discovery; what the hook returns or raises, and what never reaches the error text."""

from __future__ import annotations

from typing import Any

import pytest

from discovering import DiscoveringProvider, ModelService, PassingProvider, started
from jackfield import (
    AuthenticationError,
    JackfieldError,
    PluginError,
    ProviderUnavailableError,
    RateLimitError,
    Registry,
    RetryPolicy,
)
from jackfield.provider import ErrorReply, ModelSpec
from jackfield.testing import RegistryFactory, ServeApp

KEY = "sk-error-hook-secret-987654321"


@pytest.fixture
async def service(serve_app: ServeApp) -> ModelService:
    return await started(serve_app, ["m1"])


def build(make_registry: RegistryFactory, service: ModelService, *plugins: Any,
          config: dict[str, Any] | None = None) -> Registry:
    config = config or {}
    for plugin in plugins:
        table = config.setdefault(plugin.name, {})
        table.setdefault("base_url", service.url)
        table.setdefault("api_key", KEY)
    return make_registry(list(plugins), config=config,
                         retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.02))


async def test_none_leaves_the_cores_mapping(make_registry: RegistryFactory,
                                             service: ModelService) -> None:
    service.refuse = (429, {"error": {"message": "slow down"}})
    plugin = PassingProvider(static=[ModelSpec("m1")])
    plugin.on_error = lambda reply: None
    registry = build(make_registry, service, plugin)
    with pytest.raises(RateLimitError, match="slow down"):
        await registry.complete("m1", "hi")
    request, reply = plugin.replies[0]
    assert request is plugin.built[0]  # the call's own request
    assert (reply.status, reply.model, reply.provider) == (429, "m1", "disc")
    assert isinstance(reply.default, RateLimitError)
    assert reply.error_object() == {"message": "slow down"}
    assert len(plugin.replies) == 2  # retried once, as a 429 is: the hook asked each time


async def test_the_hooks_error_is_raised_and_retried_by_its_type(
        make_registry: RegistryFactory, service: ModelService) -> None:
    service.refuse = (400, {"error": {"message": "quota exceeded", "code": "quota"}})
    plugin = PassingProvider(static=[ModelSpec("m1")])
    plugin.on_error = lambda reply: RateLimitError(reply.provider, "quota exceeded")
    registry = build(make_registry, service, plugin)
    with pytest.raises(RateLimitError, match="quota exceeded"):
        await registry.complete("m1", "hi")
    assert len(service.calls) == 2


@pytest.mark.parametrize("answer", ["quota", 7, ValueError("x"), JackfieldError("bare"),
                                    PluginError("disc", "hook", "made up")])
async def test_a_non_error_answer_is_a_plugin_error(make_registry: RegistryFactory,
                                                    service: ModelService, answer: Any) -> None:
    service.refuse = (500, {"error": {"message": "broken"}})
    plugin = PassingProvider(static=[ModelSpec("m1")])
    plugin.on_error = lambda reply: answer
    registry = build(make_registry, service, plugin)
    with pytest.raises(PluginError, match="jackfield_error_reply") as caught:
        await registry.complete("m1", "hi")
    assert f"returned {type(answer).__name__}" in str(caught.value)
    assert len(service.calls) == 1  # a plugin bug is not retried


async def test_a_raising_hook_is_a_plugin_error(make_registry: RegistryFactory,
                                                service: ModelService) -> None:
    service.refuse = (500, {"error": {"message": "broken"}})
    plugin = PassingProvider(static=[ModelSpec("m1")])

    def broken(reply: ErrorReply) -> None:
        raise KeyError(f"no field in {reply.text[:10]} for {KEY}")

    plugin.on_error = broken
    registry = build(make_registry, service, plugin)
    with pytest.raises(PluginError, match="jackfield_error_reply: KeyError") as caught:
        await registry.complete("m1", "hi")
    assert caught.value.plugin == "disc"
    assert KEY not in str(caught.value)


async def test_discovery_replies_reach_the_hook_too(make_registry: RegistryFactory,
                                                    service: ModelService) -> None:
    service.listing = "500"
    plugin = DiscoveringProvider()
    plugin.on_error = lambda reply: AuthenticationError(
        reply.provider, f"the listing said {reply.error_object()['message']}")
    registry = build(make_registry, service, plugin)
    await registry.refresh_models()
    [(request, reply)] = plugin.replies
    assert request is None and reply.model is None and reply.status == 500
    assert "the listing said listing is broken today" in registry.discovery_warnings()["disc"]


async def test_secrets_in_the_services_body_are_masked(make_registry: RegistryFactory,
                                                       service: ModelService) -> None:
    # The service quotes what it got: our key, in the header's shape and bare.
    service.refuse = (401, {"error": {"message": f"bad Authorization: Bearer {KEY} ({KEY})"}})
    plugin = PassingProvider(static=[ModelSpec("m1")])
    plugin.on_error = lambda reply: AuthenticationError(reply.provider, reply.text)
    registry = build(make_registry, service, plugin)
    with pytest.raises(AuthenticationError) as caught:
        await registry.complete("m1", "hi")
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.__dict__)
    plugin.on_error = lambda reply: None  # the core's own error quotes the body too
    with pytest.raises(AuthenticationError) as caught:
        await registry.complete("m1", "hi")
    assert KEY not in str(caught.value) and KEY not in repr(caught.value.__dict__)
    service.listing = "500"
    service.refuse = None
    discovering = DiscoveringProvider("lister")
    discovering.on_error = lambda reply: ProviderUnavailableError(reply.provider,
                                                                  f"down; key {KEY}")
    lister = build(make_registry, service, discovering)
    await lister.refresh_models()
    assert KEY not in lister.discovery_warnings()["lister"]


async def test_the_hook_of_a_shared_plugin_is_asked_once(make_registry: RegistryFactory,
                                                         service: ModelService) -> None:
    service.refuse = (500, {"error": {"message": "broken"}})
    shared, other = PassingProvider("shared", static=[ModelSpec("m1")]), PassingProvider("other")
    registry = build(make_registry, service, shared, other,
                     config={"copy": {"plugin": "shared", "base_url": service.url}})
    shared.on_error = other.on_error = lambda reply: None
    with pytest.raises(ProviderUnavailableError):
        await registry.complete("copy/m1", "hi")
    assert [reply.provider for _, reply in shared.replies] == ["copy", "copy"]  # 1 retry
    assert other.replies == []
