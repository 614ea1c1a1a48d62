"""Route groups, the TOML config file and JACKFIELD_ROUTES."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jackfield import (
    ConfigurationError,
    CooldownPolicy,
    InvalidRequestError,
    ModelUnavailableError,
    Registry,
    RetryPolicy,
    Timeouts,
)
from jackfield._settings.configfile import load_config_file
from mockprovider import MockProvider, MockServer

FAST = RetryPolicy(backoff=0.01, max_backoff=0.02)


async def test_route_group_falls_back_in_order(serve_app: Any, make_registry: Any) -> None:
    down, up = MockServer(), MockServer()
    down.fail += [(503, {}, "{}")] * 3
    registry = make_registry([MockProvider("alpha"), MockProvider("beta")], retry=FAST,
                             routes={"any-painter": ["alpha/painter", "beta/painter"]},
                             base_urls={"alpha": await serve_app(down.app),
                                        "beta": await serve_app(up.app)})
    completion = await registry.complete("any-painter", "a cat")
    assert completion.provider == "beta" and completion.images
    assert [r.provider.name for r in registry.resolve("any-painter")] == ["alpha", "beta"]
    assert registry.routes() == {"any-painter": ("alpha/painter", "beta/painter")}


def test_route_members_are_checked_when_the_registry_is_built() -> None:
    with pytest.raises(InvalidRequestError, match=r"route 'r'.*nope"):
        Registry([MockProvider()], routes={"r": ["mock/nope"]}, environ={})
    with pytest.raises(InvalidRequestError, match="itself a route"):
        Registry([MockProvider()], routes={"r": ["echo"], "s": ["r"]}, environ={})


def test_route_member_only_an_uninstalled_plugin_serves_says_what_to_install() -> None:
    with pytest.raises(InvalidRequestError,
                       match=r"route 'art'.*jackfield-aichats.*pip install jackfield-aichats"):
        Registry([MockProvider()], environ={}, routes={"art": ["aichats/dalle"]})


def test_route_of_only_unavailable_models_says_so() -> None:
    registry = Registry([MockProvider()], routes={"r": ["broken"]}, environ={})
    with pytest.raises(ModelUnavailableError, match="route 'r'"):
        registry.resolve("r")


def test_config_file_sets_everything(tmp_path: Path) -> None:
    path = tmp_path / "jackfield.toml"
    path.write_text("""
provider_order = ["beta"]
[providers.alpha]
base_url = "http://127.0.0.1:1"
token = "from-file"
[routes]
any = ["alpha/echo", "beta/echo"]
[timeouts]
read_idle = 5
[retry]
attempts = 5
[cooldown]
seconds = 1
""")
    kwargs = load_config_file(path)
    assert kwargs["timeouts"] == Timeouts(read_idle=5)
    assert kwargs["retry"] == RetryPolicy(attempts=5)
    assert kwargs["cooldown"] == CooldownPolicy(seconds=1)
    registry = Registry([MockProvider("alpha"), MockProvider("beta")], environ={}, **kwargs)
    assert registry.config("alpha").get("token") == "from-file"
    assert [p.name for p in registry.providers()] == ["beta", "alpha"]
    assert [r.provider.name for r in registry.resolve("any")] == ["alpha", "beta"]


@pytest.mark.parametrize(("text", "fragment"), [
    ("[nonsense]\n", "unknown section"),
    ("[retry]\nattemps = 2\n", r"\[retry\]: unknown key\(s\) attemps; accepted: attempts"),
    ("[limits]\nmax_connections = 'many'\n",
     r"\[limits\]: Limits.max_connections must be a whole number of at least 1, got 'many'"),
    ("[timeouts]\nread_idle = -1\n", r"read_idle must be a number of seconds above 0, got -1"),
    ("[retry]\nattempts = 0\n", "at least 1"),
    ("timeouts = 3\n", r"\[timeouts\] must be a table with keys connect, read_idle, total"),
    ("provider_order = 'alpha'\n", "provider_order must be a list of provider names"),
    ("proxy = 'socks5://x:1'\n", "proxy must be an http:// or https:// proxy URL"),
    ("[providers]\nalpha = 1\n", r"one table per provider"),
    ("[routes]\nx = 'not a list'\n", "non-empty list"),
    ("not toml at all [", "cannot read"),
])
def test_bad_config_files_are_explained(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=fragment):
        load_config_file(path)


@pytest.mark.parametrize(("text", "fragment"), [
    ("[providers.alpha]\ntokn = 'x'\n",
     r"\[providers.alpha\]: unknown setting\(s\) tokn for provider 'alpha'; it accepts: "
     "base_url, token"),
    ("[providers.nobody]\ntoken = 'x'\n", r"unknown provider\(s\) nobody; loaded providers: alpha"),
    ("provider_order = ['nobody']\n", r"provider_order names unknown provider\(s\) nobody"),
    ("[providers.alpha]\nbase_url = '127.0.0.1:1'\n",
     r"\[providers.alpha\] base_url must be an http:// or https:// URL"),
    ("[providers.alpha]\ntoken = 12\n", r"\[providers.alpha\] token must be text, got int"),
])
def test_config_file_entries_are_checked_against_the_plugins(tmp_path: Path, text: str,
                                                              fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=fragment):
        Registry([MockProvider("alpha")], environ={"JACKFIELD_CONFIG": str(path)})


def test_routes_and_config_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[routes]\nfirst = ['echo']\nsecond = ['echo']\n")
    environ = {"JACKFIELD_CONFIG": str(path),
               "JACKFIELD_ROUTES": json.dumps({"second": ["mock/echo"]})}
    registry = Registry([MockProvider()], environ=environ)
    assert registry.routes() == {"first": ("echo",), "second": ("mock/echo",)}
    registry = Registry([MockProvider()], environ=environ, routes={"first": ["mock/parrot"]})
    assert registry.routes() == {"first": ("mock/parrot",), "second": ("mock/echo",)}
    with pytest.raises(ConfigurationError, match="JACKFIELD_ROUTES is not valid JSON"):
        Registry([MockProvider()], environ={"JACKFIELD_ROUTES": "{"})


def test_precedence_keyword_over_environment_over_file_over_default(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("proxy = 'http://127.0.0.1:1'\n[providers.mock]\n"
                    "base_url = 'http://127.0.0.1:3'\ntoken = 'file'\n"
                    "[timeouts]\nread_idle = 5\n")
    environ = {"JACKFIELD_CONFIG": str(path), "JACKFIELD_MOCK_BASE_URL": "http://127.0.0.1:2"}
    # The environment beats the file (it used to be the other way round) ...
    registry = Registry([MockProvider()], environ=environ)
    assert registry.config("mock").base_url == "http://127.0.0.1:2"
    assert registry.config("mock").get("token") == "file"
    assert registry.timeouts == Timeouts(read_idle=5)
    assert registry.proxy == "http://127.0.0.1:1"
    # ... keyword arguments beat both ...
    registry = Registry([MockProvider()], environ=environ, timeouts=Timeouts(connect=1),
                        config={"mock": {"base_url": "http://127.0.0.1:1", "token": "kw"}},
                        proxy="http://127.0.0.1:9")
    assert registry.config("mock").base_url == "http://127.0.0.1:1"
    assert registry.config("mock").get("token") == "kw"
    assert registry.timeouts == Timeouts(connect=1)
    assert registry.proxy == "http://127.0.0.1:9"
    # ... and config_file= beats JACKFIELD_CONFIG; with no setting anywhere, the default.
    other = tmp_path / "other.toml"
    other.write_text("[timeouts]\nconnect = 2\n")
    assert Registry.from_config_file(other, plugins=[MockProvider()], environ=environ).timeouts \
        == Timeouts(connect=2)
    registry = Registry([MockProvider()], environ={})
    assert registry.config("mock").base_url == MockProvider().jackfield_provider().base_url
    assert registry.timeouts == Timeouts() and registry.proxy is None


def test_a_shared_config_file_may_name_installed_providers_not_loaded_here(
        tmp_path: Path) -> None:
    path = tmp_path / "shared.toml"
    path.write_text("provider_order = ['amigochat', 'alpha']\n"
                    "[providers.aichats]\ncookie = 'x'\n")
    registry = Registry([MockProvider("alpha")], environ={"JACKFIELD_CONFIG": str(path)})
    assert [p.name for p in registry.providers()] == ["alpha"]
    # A keyword argument is this program's own choice: there it is a mistake.
    with pytest.raises(ConfigurationError, match=r"config= names unknown provider\(s\) aichats"):
        Registry([MockProvider("alpha")], environ={}, config={"aichats": {"cookie": "x"}})
