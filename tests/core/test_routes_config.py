"""Route groups, the TOML config file and JACKFIELD_ROUTES."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jackfield import (
    CooldownPolicy,
    InvalidRequestError,
    ModelUnavailableError,
    Registry,
    RetryPolicy,
    Timeouts,
)
from jackfield._settings.configfile import load_config_file, settings_from_env
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
    ("[retry]\nattemps = 2\n", r"\[retry\]"),
    ("[routes]\nx = 'not a list'\n", "non-empty list"),
    ("not toml at all [", "cannot read"),
])
def test_bad_config_files_are_explained(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InvalidRequestError, match=fragment):
        load_config_file(path)


def test_routes_and_config_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[routes]\nfirst = ['echo']\n")
    environ = {"JACKFIELD_CONFIG": str(path),
               "JACKFIELD_ROUTES": json.dumps({"second": ["mock/echo"]})}
    assert settings_from_env(environ)["routes"] == {"first": ["echo"], "second": ["mock/echo"]}
    with pytest.raises(InvalidRequestError, match="not valid JSON"):
        settings_from_env({"JACKFIELD_ROUTES": "{"})
