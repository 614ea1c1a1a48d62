"""Discovery: `GET /v1/models` page by page (has_more / last_id → after_id) through the
core's transport, capabilities by model family, a model added while the registry runs,
pass-through of unlisted ids, and no key: nothing sent to api.anthropic.com."""

from __future__ import annotations

import pytest
from anthropic_helpers import KEY, SONNET, SPEC, anthropic_registry, reply_to

import jackfield_anthropic
from jackfield import AuthenticationError, DiscoveryPolicy, ResponseFormatError
from jackfield.provider import Capabilities
from jackfield.testing import STATS_KEY, ProviderHarness, RegistryFactory, ServeApp, make_config
from jackfield_anthropic.emulator import DEFAULT_MODELS, MODELS_KEY, create_app
from jackfield_anthropic.spec import COMPATIBLE, capabilities_for


async def test_every_page_is_followed(serve_app: ServeApp,
                                      provider_harness: ProviderHarness) -> None:
    app = create_app(api_key=KEY, page_size=2)
    url = await serve_app(app)
    specs = await provider_harness.discover(jackfield_anthropic, SPEC,
                                            make_config(SPEC, base_url=url, api_key=KEY))
    assert [spec.id for spec in specs] == [model.id for model in DEFAULT_MODELS]
    assert app[STATS_KEY].by_path["/v1/models"] == 3  # 2 + 2 + 1
    assert app[STATS_KEY].last_headers["x-api-key"] == KEY


async def test_a_listing_that_says_has_more_without_a_cursor_is_refused(
        serve_app: ServeApp, provider_harness: ProviderHarness) -> None:
    from aiohttp import web

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "m", "type": "model"}], "has_more": True,
                                  "last_id": None})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    url = await serve_app(app)
    with pytest.raises(ResponseFormatError, match="last_id"):
        await provider_harness.discover(jackfield_anthropic, SPEC,
                                        make_config(SPEC, base_url=url, api_key=KEY))


def test_capabilities_by_family() -> None:
    sonnet4, haiku35, claude2 = (capabilities_for(name) for name in (
        "claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022", "claude-2.1"))
    assert sonnet4.reasoning and sonnet4.tools and sonnet4.image_input and sonnet4.stop
    assert sonnet4.json_schema and not sonnet4.seed and not sonnet4.logprobs
    assert sonnet4.sampling == frozenset({"temperature", "top_p", "max_tokens"})
    assert capabilities_for("claude-3-7-sonnet-20250219").reasoning
    assert capabilities_for("claude-opus-4-1-20250805").reasoning
    assert haiku35.tools and not haiku35.reasoning
    assert claude2 == Capabilities(stop=True, sampling=sonnet4.sampling)
    assert capabilities_for("claude-instant-1.2") == claude2
    assert capabilities_for("glm-4.6") == COMPATIBLE and COMPATIBLE.tools is None


async def test_listing_through_a_registry_and_a_model_added_later(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    app = create_app(api_key=KEY)
    registry = anthropic_registry(make_registry, await serve_app(app),
                                  discovery=DiscoveryPolicy(retry=0))
    await registry.refresh_models()
    assert {m.id for m in registry.models(provider="anthropic")} == {
        m.id for m in DEFAULT_MODELS}
    app[MODELS_KEY].add("claude-haiku-4-5-20251001")
    # Unpinned: a name nobody lists makes the registry ask the service again.
    reply = await registry.complete("claude-haiku-4-5-20251001", "fresh")
    assert reply.text == reply_to("fresh", "claude-haiku-4-5-20251001")
    del app[MODELS_KEY][SONNET]
    await registry.refresh_models()
    assert SONNET not in {m.id for m in registry.models(provider="anthropic")}


async def test_an_unlisted_pinned_id_is_passed_through(serve_app: ServeApp,
                                                       make_registry: RegistryFactory) -> None:
    app = create_app(api_key=KEY, models=[])
    registry = anthropic_registry(make_registry, await serve_app(app))
    app[MODELS_KEY].add("vendor-model-x")  # served, but the registry's list is older
    await registry.refresh_models()
    del app[MODELS_KEY]["vendor-model-x"]
    app[MODELS_KEY].add("unlisted-by-the-service")
    reply = await registry.complete("anthropic/unlisted-by-the-service", "hi")
    assert reply.text == reply_to("hi", "unlisted-by-the-service")


async def test_without_a_key_anthropic_is_never_contacted(
        make_registry: RegistryFactory) -> None:
    # The real base URL: the guard fixture would fail the test if anything were sent.
    registry = make_registry([jackfield_anthropic], environ={})
    await registry.refresh_models()
    warning = registry.discovery_warnings()["anthropic"]
    assert "JACKFIELD_ANTHROPIC_API_KEY" in warning and "ANTHROPIC_API_KEY" in warning
    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY"):
        await registry.complete(f"anthropic/{SONNET}", "hi")
