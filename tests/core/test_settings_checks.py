"""Every setting is checked when it is read: a typed error names it and what it accepts."""

from __future__ import annotations

from typing import Any

import pytest

import jackfield
from jackfield import (
    ConfigurationError,
    CooldownPolicy,
    InvalidRequestError,
    Limits,
    Registry,
    RetryPolicy,
    Timeouts,
    UnknownModelError,
)
from jackfield._engine.discovery import KNOWN_PLUGINS
from mockprovider import MockProvider


def test_configuration_error_is_public_and_an_invalid_request() -> None:
    assert jackfield.ConfigurationError is ConfigurationError
    assert issubclass(ConfigurationError, InvalidRequestError)


@pytest.mark.parametrize(("make", "fragment"), [
    # `max_connections = "many"` used to end in "unexpected TypeError" inside aiohttp.
    (lambda: Limits(max_connections="many"),
     r"Limits.max_connections must be a whole number of at least 1, got 'many'"),
    (lambda: Limits(max_reply_bytes=0), "at least 1, got 0"),
    (lambda: Limits(max_event_bytes=1.5), "whole number"),
    (lambda: Timeouts(connect=-1), r"Timeouts.connect must be a number of seconds above 0"),
    (lambda: Timeouts(read_idle="60"), "read_idle"),
    (lambda: Timeouts(total=0), r"Timeouts.total must be a number of seconds above 0, or None"),
    (lambda: Timeouts(connect=True), "connect"),
    (lambda: RetryPolicy(attempts=0), r"RetryPolicy.attempts must be a whole number of at least 1"),
    (lambda: RetryPolicy(backoff=-0.1), "of at least 0"),
    (lambda: RetryPolicy(jitter="yes"), "true or false"),
    (lambda: CooldownPolicy(failures=0), "CooldownPolicy.failures"),
    (lambda: CooldownPolicy(seconds=-1), "CooldownPolicy.seconds"),
])
def test_policies_refuse_wrong_values(make: Any, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        make()


def test_policies_keep_accepting_what_they_did() -> None:
    assert Timeouts(connect=1, read_idle=2.5, total=None).total is None
    assert RetryPolicy(attempts=1, backoff=0, jitter=False).attempts == 1
    assert CooldownPolicy(seconds=0).seconds == 0


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"environ": {"JACKFIELD_MOCK_BASE_URL": "127.0.0.1:8001"}},
     r"JACKFIELD_MOCK_BASE_URL must be an http:// or https:// URL such as .*got '127.0.0.1"),
    ({"config": {"mock": {"base_url": "ftp://x"}}},
     r"config=\{'mock': \{'base_url': \.\.\.\}\} must be an http:// or https:// URL"),
    ({"config": {"mock": {"token": 12}}}, r"'token': \.\.\.\}\} must be text, got int"),
    ({"config": {"mock": {"tokn": "x"}}}, r"unknown setting\(s\) tokn .* accepts: base_url, token"),
    ({"config": {"nobody": {}}},
     r"config= names unknown provider\(s\) nobody; loaded providers: mock"),
    ({"config": ["mock"]}, "config= must map a provider name to its settings"),
    ({"provider_order": ["mock", "nobody"]}, r"provider_order= names unknown provider\(s\) nobody"),
    ({"provider_order": "mock"}, "provider_order= must be a list of provider names"),
    ({"proxy": "127.0.0.1:3128"}, "proxy= must be an http:// or https:// proxy URL"),
    ({"timeouts": 30}, r"timeouts= must be a jackfield.Timeouts, e.g. Timeouts\(...\), got 30"),
    ({"retry": Timeouts()}, "retry= must be a jackfield.RetryPolicy"),
    ({"routes": {"r": "echo"}}, "routes=: routes must map a name to a non-empty list"),
])
def test_registry_settings_are_checked_when_read(kwargs: dict[str, Any], fragment: str) -> None:
    kwargs.setdefault("environ", {})
    with pytest.raises(ConfigurationError, match=fragment):
        Registry([MockProvider()], **kwargs)


@pytest.mark.parametrize("plugins", [jackfield, "jackfield_aichats", 3])
def test_plugins_must_be_a_list(plugins: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"plugins= must be a list .*plugins=\[jackf"):
        Registry(plugins, environ={})


def test_a_secret_of_the_wrong_type_is_not_printed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Registry([MockProvider()], environ={}, config={"mock": {"token": 424242}})
    assert "424242" not in str(caught.value)


async def test_a_call_proxy_is_checked_before_anything_is_sent() -> None:
    registry = Registry([MockProvider()], environ={})
    with pytest.raises(ConfigurationError, match="proxy= must be an http"):
        await registry.complete("echo", "hi", proxy="socks5://127.0.0.1:1")


@pytest.mark.parametrize(("model", "dist"), [
    ("gpt-4", "jackfield-aichats"), ("dalle", "jackfield-aichats"),
    ("aichats", "jackfield-aichats"), ("aichats/anything", "jackfield-aichats"),
    ("claude-3.5-sonnet", "jackfield-amigochat"), ("amigochat/flux/dev", "jackfield-amigochat"),
])
def test_a_model_only_an_uninstalled_plugin_serves_says_what_to_install(model: str,
                                                                         dist: str) -> None:
    registry = Registry([MockProvider()], environ={})
    with pytest.raises(UnknownModelError, match=rf"`pip install {dist}`"):
        registry.resolve(model)


def test_a_name_both_would_serve_names_both() -> None:
    with pytest.raises(UnknownModelError) as caught:
        Registry([MockProvider()], environ={}).resolve("gpt-4o")
    assert "jackfield-amigochat" in str(caught.value)


def test_an_unknown_name_with_plugins_loaded_keeps_its_suggestions() -> None:
    with pytest.raises(UnknownModelError, match="Did you mean: 'echo'") as caught:
        Registry([MockProvider()], environ={}).resolve("ech")
    assert "pip install" not in str(caught.value)


def test_a_core_with_no_plugins_says_how_to_get_some() -> None:
    with pytest.raises(UnknownModelError, match=r"no provider plugin is loaded; install a "
                                                r"provider plugin, e.g. `pip install"):
        Registry([], environ={}).resolve("some-model")
    with pytest.raises(ConfigurationError, match=r"loaded providers: none \(install a provider"):
        Registry([], environ={}, config={"aichats": {}})


def test_the_install_hints_match_the_first_party_plugins() -> None:
    """The static table must stay true to what the installed plugins really serve."""
    registry = Registry(environ={"JACKFIELD_LOAD_PLUGINS": ",".join(KNOWN_PLUGINS)})
    by_provider = {record.provider: record.distribution for record in registry.plugins()}
    specs = {spec.name: spec for spec in registry.providers()}
    for dist, (provider, models) in KNOWN_PLUGINS.items():
        assert by_provider[provider] == dist
        served = {*specs[provider].aliases, *(model.id for model in specs[provider].models)}
        assert set(models) <= served
