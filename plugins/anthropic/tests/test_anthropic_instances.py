"""Named instances of the plugin (`[providers.NAME] plugin = "anthropic"`): each its own
endpoint, key, headers and allow-list; ANTHROPIC_API_KEY is the default provider's alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from anthropic_helpers import KEY, OTHER_KEY, SONNET, reply_to

import jackfield_anthropic
from jackfield import AuthenticationError, Registry
from jackfield.testing import STATS_KEY, RegistryFactory, ServeApp
from jackfield_anthropic.emulator import create_app


async def test_the_default_reads_its_key_from_either_variable(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    app = create_app(api_key=KEY)
    url = await serve_app(app)
    for environ in ({"ANTHROPIC_API_KEY": KEY, "JACKFIELD_ANTHROPIC_BASE_URL": url},
                    {"ANTHROPIC_API_KEY": "sk-ant-loses", "JACKFIELD_ANTHROPIC_API_KEY": KEY,
                     "JACKFIELD_ANTHROPIC_BASE_URL": url}):
        registry = make_registry([jackfield_anthropic], environ=environ)
        assert (await registry.complete(f"anthropic/{SONNET}", "hi")).text == reply_to("hi")
        assert app[STATS_KEY].last_headers["x-api-key"] == KEY


async def test_two_instances_with_their_own_keys_headers_and_models(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    gateway_app = create_app(api_key=OTHER_KEY, models=["claude-sonnet-4-5", "glm-4.6",
                                                        "kimi-k2"])
    gateway = await serve_app(gateway_app)
    registry = make_registry([jackfield_anthropic], environ={"ANTHROPIC_API_KEY": KEY},
                             config={"gateway": {
                                 "plugin": "anthropic", "base_url": gateway,
                                 "api_key": OTHER_KEY, "headers": {"X-Team": "research"},
                                 "models": ["claude-sonnet-4-5", "glm-4.6"]}})
    await registry.refresh_models(provider="gateway")
    assert {m.qualified_id for m in registry.models(provider="gateway")} == {
        "gateway/claude-sonnet-4-5", "gateway/glm-4.6"}
    reply = await registry.complete("gateway/glm-4.6", "hi")
    assert (reply.provider, reply.text) == ("gateway", reply_to("hi", "glm-4.6"))
    headers = gateway_app[STATS_KEY].last_headers
    assert (headers["x-api-key"], headers["X-Team"]) == (OTHER_KEY, "research")
    assert registry.config("anthropic").get("api_key") == KEY
    assert registry.config("gateway").get("api_key") == OTHER_KEY


async def test_an_instance_never_reads_the_default_fallback(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    app = create_app(api_key=OTHER_KEY, models=["m"])
    url = await serve_app(app)
    registry = make_registry([jackfield_anthropic], environ={"ANTHROPIC_API_KEY": KEY},
                             config={"local": {"plugin": "anthropic", "base_url": url}})
    assert registry.config("local").get("api_key") is None
    # No key for a server that is not Anthropic's: nothing refused before sending, and
    # the emulator (with a key of its own) answers the API's 401.
    with pytest.raises(AuthenticationError, match="x-api-key header is required") as raised:
        await registry.complete("local/m", "hi")
    assert "JACKFIELD_LOCAL_API_KEY" in str(raised.value) and KEY not in str(raised.value)
    registry = make_registry([jackfield_anthropic], environ={
        "ANTHROPIC_API_KEY": KEY, "JACKFIELD_LOCAL_API_KEY": OTHER_KEY},
        config={"local": {"plugin": "anthropic", "base_url": url}})
    assert (await registry.complete("local/m", "hi")).provider == "local"
    assert app[STATS_KEY].last_headers["x-api-key"] == OTHER_KEY


async def test_a_compatible_server_without_keys(serve_app: ServeApp,
                                                make_registry: RegistryFactory) -> None:
    app = create_app(models=["qwen3-coder"])
    url = await serve_app(app)
    registry = make_registry([jackfield_anthropic], config={
        "local": {"plugin": "anthropic", "base_url": url}})
    assert (await registry.complete("local/qwen3-coder", "hi")).text == reply_to(
        "hi", "qwen3-coder")
    assert "x-api-key" not in app[STATS_KEY].last_headers


async def test_an_instance_at_anthropic_without_a_key_is_refused_before_sending(
        make_registry: RegistryFactory) -> None:
    registry = make_registry([jackfield_anthropic], environ={"ANTHROPIC_API_KEY": KEY},
                             config={"work": {"plugin": "anthropic",
                                              "base_url": "https://api.anthropic.com"}})
    with pytest.raises(AuthenticationError) as raised:
        await registry.complete(f"work/{SONNET}", "hi")
    assert "JACKFIELD_WORK_API_KEY" in str(raised.value) and KEY not in str(raised.value)


async def test_instances_from_the_config_file(serve_app: ServeApp, tmp_path: Path) -> None:
    app = create_app(api_key=KEY, models=["claude-sonnet-4-5"])
    url = await serve_app(app)
    path = tmp_path / "config.toml"
    path.write_text(f'[providers.proxy]\nplugin = "anthropic"\nbase_url = "{url}"\n'
                    f'api_key = "{KEY}"\nbeta = "prompt-caching-2024-07-31"\n\n'
                    '[providers.proxy.headers]\nX-Trace = "t1"\n')
    async with Registry.from_config_file(path, plugins=[jackfield_anthropic], environ={}
                                         ) as registry:
        completion = await registry.complete("proxy/claude-sonnet-4-5", "hi")
        assert completion.provider == "proxy"
        headers = app[STATS_KEY].last_headers
        assert headers["X-Trace"] == "t1"
        assert headers["anthropic-beta"] == "prompt-caching-2024-07-31"
