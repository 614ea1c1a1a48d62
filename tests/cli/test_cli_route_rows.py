"""Route groups as rows of `jackfield models`: "(route)" in the PROVIDER column, their
members shown; shell completion offers them as models, never "(route)" as a provider."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import CLI, clean_environ

from jackfield._cli import completion

ROUTES = json.dumps({"smart": ["amigochat/gpt-4o-mini", "aichats/gpt-4"]})


def _environ() -> dict[str, str]:
    environ = clean_environ({"JACKFIELD_ROUTES": ROUTES})
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ


def test_a_route_group_is_a_row_and_a_json_entry() -> None:
    result = subprocess.run([*CLI, "models"], capture_output=True, text=True, env=_environ(),
                            timeout=60)
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("smart ")]
    assert row.split()[1:3] == ["(route)", "chat"]
    assert "members: amigochat/gpt-4o-mini, aichats/gpt-4" in row
    listed = json.loads(subprocess.run([*CLI, "models", "--json"], capture_output=True,
                                       text=True, env=_environ(), timeout=60).stdout)
    [smart] = [m for m in listed if m["id"] == "smart"]
    assert (smart["provider"], smart["members"]) == ("", ["amigochat/gpt-4o-mini",
                                                          "aichats/gpt-4"])
    only = json.loads(subprocess.run([*CLI, "models", "--json", "--provider", "aichats"],
                                     capture_output=True, text=True, env=_environ(),
                                     timeout=60).stdout)
    assert "smart" not in {m["id"] for m in only}  # a route is no provider's


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_completion_offers_routes_as_models_only() -> None:
    def words(command: str) -> list[str]:
        result = subprocess.run(["bash", "--norc", "-c", command], capture_output=True,
                                text=True, env=_environ(), timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    # What the completion scripts run for a provider and for a model name.
    assert words(completion._PROVIDERS) == ["aichats", "amigochat"]
    assert "smart" in words(completion._MODELS)
