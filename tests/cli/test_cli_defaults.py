"""`jackfield models default`, `models --options` and `jackfield config`, end to end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import COOKIE, Emulators, one_error_line


@pytest.fixture
def cli(emulators: Emulators, tmp_path: Path) -> Any:
    """Run the command line against both emulators, the config directory under tmp_path."""
    environ = {**emulators.environ, "JACKFIELD_CONFIG_DIR": str(tmp_path / "config")}

    async def run(*args: str, stdin: str | None = None,
                  **extra: str) -> subprocess.CompletedProcess[str]:
        return await emulators.run(*args, stdin=stdin, environ={**environ, **extra})

    return run


async def test_default_models_are_set_shown_cleared_and_used_without_m(
        cli: Any, tmp_path: Path) -> None:
    shown = await cli("models", "default")
    assert shown.returncode == 0 and shown.stdout == ""
    assert "jackfield models default MODEL" in shown.stderr
    assert (await cli("models", "default", "aichats/gpt-4")).returncode == 0
    assert (await cli("models", "default", "dalle")).returncode == 0  # its kind: image
    assert (await cli("models", "default")).stdout == "chat  aichats/gpt-4\nimage  dalle\n"
    assert (await cli("models", "default", "--kind", "image")).stdout == "dalle\n"
    assert json.loads((await cli("models", "default", "--json")).stdout) == {
        "chat": "aichats/gpt-4", "image": "dalle"}
    chat = await cli("chat", "hello")
    assert chat.returncode == 0 and chat.stdout.strip(), chat.stderr
    image = await cli("image", "--dir", str(tmp_path / "out"), "a cat")
    assert image.returncode == 0, image.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1
    assert (await cli("models", "default", "--clear", "--kind", "image")).returncode == 0
    assert (await cli("models", "default")).stdout == "chat  aichats/gpt-4\n"
    assert (await cli("models", "default", "--clear")).returncode == 0
    assert (await cli("models", "default")).stdout == ""


@pytest.mark.parametrize(("argv", "expected"), [
    (["chat", "hello"], "pass -m MODEL (or -c to continue the last conversation), or set a "
                        "default chat model with `jackfield models default MODEL`"),
    (["image", "a cat"], "`jackfield models default --kind image MODEL`"),
    (["models", "default", "no-such-model-here"], "Unknown model 'no-such-model-here'"),
    (["models", "default", "--kind", "chat", "dalle"],
     "'dalle' is an image model, not a chat one: `jackfield models default --kind image dalle`"),
    (["models", "default", "--clear", "gpt-4"], "--clear takes no MODEL"),
])
async def test_mistakes_are_one_line_with_the_fix(cli: Any, argv: list[str],
                                                  expected: str) -> None:
    result = await cli(*argv)
    assert result.returncode == 2
    assert expected in one_error_line(result)


async def test_a_default_no_longer_installed_says_it_is_the_default(cli: Any,
                                                                    tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps({"default_models": {"chat": "gone-9"}}))
    result = await cli("chat", "hello")
    assert result.returncode == 2
    line = one_error_line(result)
    assert "'gone-9'" in line and "the default chat model" in line
    assert (await cli("chat", "-m", "aichats/gpt-4", "hello")).returncode == 0  # -m still wins


async def test_options_lists_each_option_and_each_models_capabilities(cli: Any) -> None:
    text = (await cli("models", "--options", "--provider", "amigochat")).stdout
    assert text.startswith("amigochat\n")
    # Its sampling parameters are complete()'s own now, declared as capabilities.
    assert "options: none of its own (-o still takes complete()'s parameters" in text
    assert "token (secret: jackfield keys set amigochat)" in text
    mini = next(line for line in text.splitlines() if line.split()[:1] == ["gpt-4o-mini"])
    assert mini.split() == ["gpt-4o-mini", "chat", "yes", "gpt-4o-mini", "sampling"]
    assert "CAPABILITIES lists what a chat model can do" in text
    aichats = (await cli("models", "--options", "--provider", "aichats")).stdout
    assert next(line for line in aichats.splitlines() if "gpt-4" in line).split()[-1] == "text"
    data = json.loads((await cli("models", "--options", "--json", "--kind", "image")).stdout)
    by_name = {entry["provider"]: entry for entry in data}
    assert by_name["amigochat"]["options"] == {}
    assert {m["kind"] for m in by_name["amigochat"]["models"]} == {"image"}
    chat = json.loads((await cli("models", "--options", "--json", "--kind", "chat")).stdout)
    models = {m["id"]: m for e in chat for m in e["models"]}
    assert models["gpt-4o-mini"]["capabilities"]["sampling"] == [
        "frequency_penalty", "max_tokens", "presence_penalty", "temperature", "top_p"]
    assert models["gpt-4"]["capabilities"] == {
        "tools": False, "image_input": False, "json_object": False, "json_schema": False,
        "stop": False, "seed": False, "reasoning": False, "logprobs": False, "sampling": []}


async def test_config_names_each_source_and_masks_secrets(cli: Any, tmp_path: Path) -> None:
    stored = await cli("keys", "set", "amigochat", stdin="amigo-config-secret-1\n")
    assert stored.returncode == 0, stored.stderr
    toml = tmp_path / "jackfield.toml"
    toml.write_text('[retry]\nattempts = 2\n[routes]\nany-dalle = ["aichats/dalle"]\n')
    result = await cli("config", "--json", JACKFIELD_CONFIG=str(toml))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    aichats, amigochat = data["providers"]["aichats"], data["providers"]["amigochat"]
    assert aichats["base_url"]["source"] == "JACKFIELD_AICHATS_BASE_URL"
    assert aichats["cookie"] == {"value": "***", "source": "JACKFIELD_AICHATS_COOKIE"}
    assert amigochat["token"]["value"] == "***"
    assert amigochat["token"]["source"].startswith(f"the keys file {tmp_path / 'config'}")
    assert data["registry"]["retry"]["source"] == f"{toml}: [retry]"
    assert data["registry"]["retry"]["value"]["attempts"] == 2
    assert data["registry"]["timeouts"]["source"] == "default"
    assert data["registry"]["routes.any-dalle"]["source"] == f"{toml}: [routes] any-dalle"
    table = await cli("config", JACKFIELD_CONFIG=str(toml))
    assert table.returncode == 0
    assert f"config file: {toml}" in table.stdout
    for output in (result, table):
        assert "amigo-config-secret-1" not in output.stdout + output.stderr
        assert COOKIE not in output.stdout + output.stderr
    hidden = json.loads((await cli("config", "--json", JACKFIELD_AMIGOCHAT_BASE_URL=(
        "http://user:url-secret-77@127.0.0.1:9/v1?key=query-secret-88"))).stdout)
    assert hidden["providers"]["amigochat"]["base_url"]["value"] == (
        "http://user:***@127.0.0.1:9/v1?key=***")
    unset = json.loads((await cli("config", "--json", JACKFIELD_AICHATS_COOKIE="")).stdout)
    assert unset["providers"]["aichats"]["cookie"]["source"].startswith("not set")
    assert "jackfield keys set aichats cookie" in unset["providers"]["aichats"]["cookie"][
        "source"]


async def test_a_continued_conversation_keeps_its_model_over_the_default(cli: Any) -> None:
    assert (await cli("models", "default", "aichats/gpt-4")).returncode == 0
    first = await cli("chat", "-m", "amigochat/gpt-4o", "hello")
    assert first.returncode == 0, first.stderr
    again = await cli("chat", "-c", "--json", "and again")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["provider"] == "amigochat"
    fresh = await cli("chat", "--json", "a new one")
    assert json.loads(fresh.stdout)["provider"] == "aichats"
