"""`jackfield models` and `jackfield plugins`: tables, JSON, and no HTTP stack loaded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_helpers import CLI, clean_environ, one_error_line


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=clean_environ(),
                          timeout=60)


def test_models_json() -> None:
    result = run("models", "--json")
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)
    by_id = {(m["provider"], m["id"]): m for m in models}
    assert by_id["aichats", "gpt-4"] == {
        "id": "gpt-4", "provider": "aichats", "kind": "chat", "aliases": [], "available": True,
        "default": True, "capabilities": {
            "tools": False, "image_input": False, "json_object": False, "json_schema": False,
            "stop": False, "seed": False, "reasoning": False, "logprobs": False,
            "sampling": []}}
    assert by_id["amigochat", "gpt-4o-mini"]["capabilities"]["sampling"] == [
        "frequency_penalty", "max_tokens", "presence_penalty", "temperature", "top_p"]
    assert by_id["amigochat", "gpt-4o-2024-11-20"]["aliases"] == ["gpt-4o"]
    assert {m["provider"] for m in models} == {"aichats", "amigochat"}


def test_models_filters_and_table() -> None:
    result = run("models", "--provider", "aichats", "--kind", "image")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "PROVIDER", "KIND", "ALIASES", "AVAILABLE", "DEFAULT",
                              "CAPABILITIES"]
    assert [row.split() for row in rows] == [["dalle", "aichats", "image", "-", "yes", "-",
                                              "-"]]
    result = run("models", "--kind", "chat")
    rows = {tuple(row.split()[:2]): row.split()[-1] for row in result.stdout.splitlines()[1:]}
    assert rows["gpt-4", "aichats"] == "text"  # text only, no sampling parameter honoured
    assert rows["gpt-4o-mini", "amigochat"] == "sampling"
    assert "CAPABILITIES lists what a chat model can do" in run("models", "--help").stdout


def test_models_of_an_unknown_provider() -> None:
    result = run("models", "--provider", "nope")
    assert result.returncode == 2
    assert "installed: aichats, amigochat" in one_error_line(result)


def test_plugins_table_and_json() -> None:
    table = run("plugins")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["PLUGIN", "VERSION", "PROVIDER", "INSTANCES", "MODELS", "HOOKS",
                              "STATE"]
    cells = {row.split()[0]: row.split() for row in rows}
    assert cells["aichats"][1:5] == ["0.4.0", "aichats", "-", "2"]
    assert "emulator" in cells["amigochat"][5] and cells["amigochat"][6] == "ok"
    records = json.loads(run("plugins", "--json").stdout)
    amigochat = next(r for r in records if r["name"] == "amigochat")
    assert amigochat["distribution"] == "jackfield-amigochat" and amigochat["error"] is None
    assert "jackfield_parse_response" in amigochat["hooks"]
    assert amigochat["health"]["failures"] == 0 and amigochat["health"]["cooling_down"] is False


@pytest.mark.parametrize("command", ["models", "plugins"])
def test_listing_imports_no_http_stack(command: str) -> None:
    code = ("import sys; from jackfield._cli.main import main; status = main(sys.argv[1:]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'aiohttp', 'yarl', "
            "'multidict'}), file=sys.stderr); sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", code, command], capture_output=True,
                            text=True, env=clean_environ(), timeout=60)
    assert result.returncode == 0
    assert result.stderr.strip() == "[]"


def test_help_on_every_command() -> None:
    for command in ("models", "plugins", "chat", "image", "emulate", "serve"):
        result = run(command, "--help")
        assert result.returncode == 0 and f"usage: jackfield {command}" in result.stdout


def test_python_dash_m_jackfield() -> None:
    result = subprocess.run([sys.executable, "-m", "jackfield", "--version"],
                            capture_output=True, text=True, env=clean_environ(), timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("jackfield ")


def test_usage_errors_are_one_line() -> None:
    result = run("chat", "-o", "novalue", "-m", "gpt-4", "hi")
    assert result.returncode == 2
    assert "expected key=value" in one_error_line(result)
    result = run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in one_error_line(result)
