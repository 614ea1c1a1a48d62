"""Named instances of one plugin on the command line: `plugins` and `config` show them
(headers that carry a credential as ***, allow-lists), `keys set INSTANCE SETTING` stores the
instance's own key, and its calls send it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from disco_helpers import Disco, disco_environ, install_disco

from nativeprovider import NativeServer

HEADER_SECRET = "header-secret-4711"
KEY = "local-key-0815"


@pytest.fixture
async def disco(tmp_path: Path, serve_app: Any) -> Disco:
    server = NativeServer()
    url = await serve_app(server.app)
    config = tmp_path / "jackfield.toml"
    config.write_text(f"""\
[providers.local]
plugin = "disco"
base_url = "{url}"
models = ["omni", "embedder"]
headers = {{ "X-Title" = "my app", "X-Api-Key" = "{HEADER_SECRET}" }}
""")
    environ = disco_environ(url, install_disco(tmp_path / "site"), config)
    environ["JACKFIELD_CONFIG_DIR"] = str(tmp_path / "user-config")  # its own keys file
    return Disco(server, environ, config)


async def test_plugins_shows_the_instances(disco: Disco) -> None:
    result = await disco.run("plugins")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()[:2]
    assert header.split()[:5] == ["PLUGIN", "VERSION", "PROVIDER", "INSTANCES", "MODELS"]
    assert row.split()[2:4] == ["disco", "local"]
    listed = json.loads((await disco.run("plugins", "--json")).stdout)
    assert [(r["provider"], r["instances"]) for r in listed] == [("disco", ["local"])]


async def test_config_shows_the_instance_its_headers_masked_and_its_allow_list(
        disco: Disco) -> None:
    result = await disco.run("config")
    assert result.returncode == 0, result.stderr
    assert "instances:   local (plugin disco)" in result.stdout
    rows = {tuple(line.split()[:2]): line for line in result.stdout.splitlines()}
    assert rows["local", "plugin"].split()[2] == "disco"
    assert rows["local", "headers.X-Title"].split()[2:4] == ["my", "app"]
    assert rows["local", "headers.X-Api-Key"].split()[2] == "***"
    assert rows["local", "models"].split()[2:4] == ["omni,", "embedder"]
    assert ("disco", "plugin") not in rows  # the plugin's own provider is no instance
    data = json.loads((await disco.run("config", "--json")).stdout)
    assert data["instances"] == {"local": "disco"}
    local = data["providers"]["local"]
    assert local["headers.X-Api-Key"]["value"] == "***"
    assert local["models"]["value"] == ["omni", "embedder"]
    for text in (result.stdout, result.stderr, json.dumps(data)):
        assert HEADER_SECRET not in text


async def test_models_lists_the_instance_through_its_allow_list(disco: Disco) -> None:
    result = await disco.run("models", "--provider", "local", "--json")
    assert result.returncode == 0, result.stderr
    assert [(m["id"], m["kind"]) for m in json.loads(result.stdout)] == [
        ("omni", "chat"), ("embedder", "embedding")]


async def test_keys_set_takes_an_instance_and_its_calls_send_the_key(disco: Disco) -> None:
    stored = await disco.run("keys", "set", "local", "api_key", stdin=f"{KEY}\n")
    assert stored.returncode == 0, stored.stderr
    assert "stored local api_key" in stored.stderr
    assert (await disco.run("keys", "list")).stdout == "local api_key\n"
    config = await disco.run("config")
    [row] = [line for line in config.stdout.splitlines() if line.startswith("local ")
             and line.split()[1] == "api_key"]
    assert row.split()[2] == "***" and "keys file" in row
    assert KEY not in config.stdout
    chat = await disco.run("chat", "--no-log", "-m", "local/omni", "hi")
    assert chat.returncode == 0, chat.stderr
    sent = disco.server.headers[-1]
    assert sent["Authorization"] == f"Bearer {KEY}"
    assert sent["X-Title"] == "my app" and sent["X-Api-Key"] == HEADER_SECRET
    await disco.run("chat", "--no-log", "-m", "disco/omni", "hi")
    assert "Authorization" not in disco.server.headers[-1]  # the plugin's own has no key


async def test_keys_set_for_no_such_instance_names_the_known_ones(disco: Disco) -> None:
    result = await disco.run("keys", "set", "elsewhere", "api_key", stdin="x\n")
    assert result.returncode == 2
    assert "nor an instance in the config file" in result.stderr
    assert "installed: disco, local" in result.stderr


async def test_keys_set_still_works_for_the_plugins_with_a_broken_config_file(
        disco: Disco) -> None:
    disco.write_config("[providers.local\n")
    result = await disco.run("keys", "set", "disco", "api_key", stdin="x\n")
    assert result.returncode == 0, result.stderr
    missing = await disco.run("keys", "set", "local", "api_key", stdin="x\n")
    assert missing.returncode == 2
    assert "instances could not be read" in missing.stderr


async def test_an_allow_listed_embedding_model_embeds_before_any_listing(disco: Disco) -> None:
    # Until its service is asked, an allow-listed id of a pass-through provider is taken
    # for a chat model: the command asks before judging its kind.
    result = await disco.run("embed", "-m", "local/embedder", "x")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["provider"] == "local"
