"""Named instances of one plugin (`[providers.NAME] plugin = "..."`): each a provider of its
own for settings, headers, allow-lists, pinning, health and cooldown."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from discovering import (
    KEY_FALLBACK,
    DiscoveringProvider,
    ModelService,
    PassingProvider,
    StaticProvider,
    started,
)
from jackfield import (
    ConfigurationError,
    CooldownPolicy,
    ProviderUnavailableError,
    Registry,
    RetryPolicy,
    UnknownModelError,
)
from jackfield.provider import ModelSpec, Setting
from jackfield.testing import RegistryFactory, ServeApp


@pytest.fixture
async def service(serve_app: ServeApp) -> ModelService:
    return await started(serve_app, ["m1", "m2"])


def auth_seen(service: ModelService) -> list[str | None]:
    return [headers.get("Authorization") for headers in service.headers]


async def test_an_instance_from_config(make_registry: RegistryFactory,
                                       service: ModelService) -> None:
    plugin = PassingProvider(static=[ModelSpec("m1")])
    url = service.url
    registry = make_registry([plugin], config={
        "disc": {"base_url": url, "api_key": "key-of-the-plugin"},
        "local": {"plugin": "disc", "base_url": url, "api_key": "key-of-the-instance"}})
    assert [p.name for p in registry.providers()] == ["disc", "local"]
    assert [m.qualified_id for m in registry.models()] == ["disc/m1", "local/m1"]
    await registry.complete("local/m1", "hi")
    await registry.complete("disc/m1", "hi")
    assert auth_seen(service) == ["Bearer key-of-the-instance", "Bearer key-of-the-plugin"]
    assert registry.config("local").plugin == "disc" and registry.config("disc").plugin == "disc"
    [record] = registry.plugins()
    assert record.instances == ("local",)
    assert [request.provider for request in plugin.built] == ["local", "disc"]  # once each


async def test_an_instance_from_the_config_file(make_registry: RegistryFactory,
                                                service: ModelService, tmp_path: Path) -> None:
    path = tmp_path / "jackfield.toml"
    url = service.url
    path.write_text(f'[providers.local-vllm]\nplugin = "disc"\nbase_url = "{url}"\n'
                    f'api_key = "file-key"\n')
    registry = make_registry([DiscoveringProvider()], config_file=path)
    await registry.refresh_models()
    assert [m.qualified_id for m in registry.models(provider="local-vllm")] == [
        "local-vllm/m1", "local-vllm/m2"]
    assert (await registry.complete("local-vllm/m2", "hi")).text == "m2 says hi"
    assert "Bearer file-key" in auth_seen(service)
    assert registry.config("local-vllm").sources["api_key"].endswith(
        "[providers.local-vllm] api_key")


@pytest.mark.parametrize(("name", "plugin", "says"), [
    ("bad name!", "disc", "provider name must be alphanumeric"),
    ("other", "disc", "already the name of an installed provider"),
    ("local", "nowhere", "names no loaded provider"),
    ("local", "", 'plugin = "openai"'),
    ("local", 7, 'plugin = "openai"'),
])
def test_bad_instances_are_refused(name: str, plugin: Any, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says) as caught:
        Registry([StaticProvider(), StaticProvider("other")], environ={},
                 config={name: {"plugin": plugin}})
    assert repr(name) in str(caught.value)


def test_an_instance_may_take_the_name_of_a_provider_not_loaded() -> None:
    registry = Registry([StaticProvider()], environ={}, config={"aichats": {"plugin": "disc"}})
    assert [p.name for p in registry.providers()] == ["aichats", "disc"]


def test_an_instance_of_an_installed_plugin_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "jackfield.toml"
    path.write_text('[providers.my-aichats]\nplugin = "aichats"\n')
    # The file is shared with programs that load aichats: skipped here.
    registry = Registry([StaticProvider()], environ={}, config_file=path)
    assert [p.name for p in registry.providers()] == ["disc"]
    with pytest.raises(ConfigurationError, match="names no loaded provider"):
        Registry([StaticProvider()], environ={}, config={"my-aichats": {"plugin": "aichats"}})
    path.write_text('[providers.mine]\nplugin = "not-installed-anywhere"\n')
    with pytest.raises(ConfigurationError, match="not-installed-anywhere"):
        Registry([StaticProvider()], environ={}, config_file=path)


def test_settings_from_the_environment_and_the_keys_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"kf": {"api_key": "from-keys-file"}}))
    os.chmod(keys, 0o600)
    environ = {"JACKFIELD_CONFIG_DIR": str(tmp_path), KEY_FALLBACK: "fallback-key",
               "JACKFIELD_LOCAL_VLLM_API_KEY": "env-key"}
    registry = Registry([StaticProvider()], environ=environ, config={
        "local-vllm": {"plugin": "disc"}, "kf": {"plugin": "disc"}, "bare": {"plugin": "disc"}})
    assert registry.config("local-vllm").get("api_key") == "env-key"
    assert registry.config("kf").get("api_key") == "from-keys-file"
    # The fallback variable (OPENAI_API_KEY, say) is the plugin's own provider's only.
    assert registry.config("disc").get("api_key") == "fallback-key"
    assert registry.config("disc").sources["api_key"] == KEY_FALLBACK
    assert registry.config("bare").get("api_key") is None


async def test_health_and_cooldown_are_each_instances_own(make_registry: RegistryFactory,
                                                          service: ModelService,
                                                          unused_tcp_port: int) -> None:
    plugin = PassingProvider(static=[ModelSpec("m1")])
    registry = make_registry([plugin], config={
        "disc": {"base_url": f"http://127.0.0.1:{unused_tcp_port}/v1"},
        "good": {"plugin": "disc", "base_url": service.url}},
        retry=RetryPolicy(attempts=1), cooldown=CooldownPolicy(failures=1, seconds=60))
    with pytest.raises(ProviderUnavailableError):
        await registry.complete("disc/m1", "hi")
    health = registry.health()
    assert health["disc"].cooling_down and not health["good"].cooling_down
    assert (await registry.complete("m1", "hi")).text == "m1 says hi"  # good first: disc cools
    assert registry.health()["good"].successes == 1


async def test_configured_headers_go_with_every_request(make_registry: RegistryFactory,
                                                        service: ModelService) -> None:
    url = service.url
    registry = make_registry([DiscoveringProvider()], config={
        "disc": {"base_url": url},
        "routed": {"plugin": "disc", "base_url": url,
                   "headers": {"x-plugin": "configured", "X-Title": "my app",
                               "Authorization": "Bearer header-secret-123456"}}})
    await registry.refresh_models(provider="routed")
    await registry.complete("routed/m1", "hi")
    await registry.refresh_models(provider="disc")
    await registry.complete("disc/m1", "hi")
    assert service.paths == ["/v1/models", "/v1/chat", "/v1/models", "/v1/chat"]
    listing, call, _, plain = service.headers
    for seen in (listing, call):
        assert seen["X-Title"] == "my app" and seen["Authorization"].endswith("123456")
    # The configured header wins over the plugin's, whatever its case: sent once.
    assert call.getall("X-Plugin") == ["configured"]
    assert "X-Title" not in plain and plain["X-Plugin"] == "discovering"
    assert "header-secret" not in repr(registry.config("routed"))
    service.refuse = (500, {"error": {"message": "got Bearer header-secret-123456"}})
    with pytest.raises(ProviderUnavailableError) as caught:
        await registry.complete("routed/m1", "hi", timeout=5)
    assert "header-secret" not in str(caught.value)


@pytest.mark.parametrize("name", ["X-Goog-Api-Key", "api-key", "X-Auth-Token",
                                  "Ocp-Apim-Subscription-Key"])
async def test_a_configured_credential_header_is_masked(make_registry: RegistryFactory,
                                                        service: ModelService,
                                                        name: str) -> None:
    secret = "gateway-credential-0123456789"
    registry = make_registry([PassingProvider(static=[ModelSpec("m1")])], config={
        "disc": {"base_url": service.url, "headers": {name: secret}}})
    service.refuse = (500, {"error": {"message": f"we got {secret} and rejected it"}})
    with pytest.raises(ProviderUnavailableError) as caught:
        await registry.complete("m1", "hi")
    assert service.headers[-1][name] == secret  # sent as it is
    assert secret not in str(caught.value) and secret not in repr(registry.config("disc"))


@pytest.mark.parametrize(("headers", "says"), [
    (["X-Title"], "headers must map header names to text"),
    ({"X-Title": 3}, "headers must map header names to text"),
    ({"X-Title": "a\r\nInjected: 1"}, "line break"),
    ({"X Title": "a"}, "'X Title' is not a header name"),
    ({"X-Title:": "a"}, "is not a header name"),
    ({"X-Tïtle": "a"}, "is not a header name"),
    ({"X-Title": "a\x00b"}, "control character"),
    ({"Content-Length": "5"}, "set by the HTTP client"),
])
def test_bad_headers_are_refused(headers: Any, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        Registry([StaticProvider()], environ={}, config={"disc": {"headers": headers}})


async def test_the_allow_list_filters_static_and_discovered(make_registry: RegistryFactory,
                                                            service: ModelService) -> None:
    url = service.url
    static = StaticProvider("static", static=[ModelSpec("m1"), ModelSpec("m2")])
    registry = make_registry([static, DiscoveringProvider("passing"),
                              DiscoveringProvider("strict", pass_through=False)], config={
        "static": {"base_url": url, "models": ["m2", "m9"]},
        "passing": {"base_url": url, "models": ["m2", "m-later"]},
        "strict": {"base_url": url, "models": ["m2", "m-later"]}})
    assert [m.qualified_id for m in registry.models(provider="static")] == ["static/m2"]
    assert "m9" in registry.discovery_warnings()["static"]
    await registry.refresh_models()
    assert [m.id for m in registry.models(provider="passing")] == ["m2", "m-later"]
    assert [m.id for m in registry.models(provider="strict")] == ["m2"]
    warnings = registry.discovery_warnings()
    assert "passing" not in warnings  # a pass-through provider serves what it was told to
    assert "m-later" in warnings["strict"]
    with pytest.raises(UnknownModelError):
        await registry.complete("passing/m1", "hi")  # not allowed: no pass-through either


@pytest.mark.parametrize("models", ["m1", [], ["m1", 3], {"m1": True}])
def test_a_bad_allow_list_is_refused(models: Any) -> None:
    with pytest.raises(ConfigurationError, match="models must be a non-empty list"):
        Registry([StaticProvider()], environ={}, config={"disc": {"models": models}})


def test_one_fallback_variable_given_bare_is_one_name() -> None:
    assert Setting(fallback_env="OPENAI_API_KEY").fallback_env == ("OPENAI_API_KEY",)
    assert Setting(fallback_env=["A_KEY", "B_KEY"]).fallback_env == ("A_KEY", "B_KEY")
    with pytest.raises(ValueError, match="environment variable names"):
        Setting(fallback_env=["", "B_KEY"])


def test_a_missing_key_of_an_instance_names_the_instance_s_own_settings() -> None:
    # The plugin's auth_hint names its own provider's variables: for an instance it would
    # send the user to the wrong one, so the core says which it reads.
    from jackfield import AuthenticationError
    from jackfield.provider import ProviderSpec, hookimpl

    class Keyed:
        __name__ = "keyed"

        @staticmethod
        @hookimpl
        def jackfield_provider() -> ProviderSpec:
            return ProviderSpec("keyed", "http://127.0.0.1:9", [],
                                settings={"api_key": Setting()},
                                auth_hint="Set JACKFIELD_KEYED_API_KEY.")

    registry = Registry([Keyed()], environ={},
                        config={"eu-keyed": {"plugin": "keyed", "base_url": "http://127.0.0.1:9"}})
    with pytest.raises(AuthenticationError) as own:
        registry.config("keyed").require("api_key")
    assert "JACKFIELD_KEYED_API_KEY" in str(own.value)
    with pytest.raises(AuthenticationError) as instance:
        registry.config("eu-keyed").require("api_key")
    text = str(instance.value)
    assert "JACKFIELD_EU_KEYED_API_KEY" in text and "[providers.eu-keyed]" in text
    assert "JACKFIELD_KEYED_API_KEY" not in text


def test_a_refused_key_s_advice_names_the_instance_s_own_settings() -> None:
    # The hint that ends a 401/403's advice (ProviderConfig.reply_hint, which the dispatcher
    # hands the transport): the plugin's own for its provider, the instance's variables for
    # an instance, whose requests a plugin-wide variable does not reach.
    from jackfield.provider import ProviderSpec, hookimpl

    class Keyed:
        __name__ = "keyed"

        @staticmethod
        @hookimpl
        def jackfield_provider() -> ProviderSpec:
            return ProviderSpec("keyed", "http://127.0.0.1:9", [],
                                settings={"api_key": Setting(secret=True)},
                                auth_hint="Check JACKFIELD_KEYED_API_KEY.")

    registry = Registry([Keyed()], environ={},
                        config={"eu-keyed": {"plugin": "keyed", "base_url": "http://127.0.0.1:9"}})
    assert registry.config("keyed").reply_hint == "Check JACKFIELD_KEYED_API_KEY."
    hint = registry.config("eu-keyed").reply_hint
    assert "JACKFIELD_EU_KEYED_API_KEY" in hint and "[providers.eu-keyed]" in hint
    assert "JACKFIELD_KEYED_API_KEY" not in hint
