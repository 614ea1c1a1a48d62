"""`jackfield check PLUGIN...` as a user runs it: the plugins of this repository pass against
their emulators; a plugin that breaks a rule fails naming the case and what is wrong; a
plugin without an emulator, and an unknown name, get their own exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import clean_environ

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"
REPOSITORY = ("aichats", "amigochat", "openai", "echoapi", "ollama")


def check(*args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jackfield", "check", *args],
                          capture_output=True, text=True, timeout=400,
                          env=environ or clean_environ({"JACKFIELD_LOAD_PLUGINS": ""}))


def install(folder: Path, name: str, breaks: str | None, *, emulator: bool = True) -> None:
    """Write a distribution whose entry point `name` is tests/conformance's KitProvider."""
    info = folder / f"jackfield_{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: jackfield-{name}\n"
                                   "Version: 1.0\n\n")
    (info / "entry_points.txt").write_text(f"[jackfield]\n{name} = cli_kit_{name}:PLUGIN\n")
    (folder / f"cli_kit_{name}.py").write_text(
        f"from kitprovider import KitProvider\n\nPLUGIN = KitProvider({breaks!r}, "
        f"emulator={emulator!r})\n")


@pytest.fixture
def kit_environ(tmp_path: Path) -> dict[str, str]:
    install(tmp_path, "kitgood", None)
    install(tmp_path, "kitleaky", "leaky")
    install(tmp_path, "kitplain", None, emulator=False)
    path = os.pathsep.join([str(tmp_path), str(CONFORMANCE)])
    return clean_environ({"PYTHONPATH": path, "JACKFIELD_LOAD_PLUGINS": ""})


def test_the_plugins_of_this_repository_pass() -> None:
    done = check(*REPOSITORY)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("FAIL")]
    for name in REPOSITORY:
        assert f"PASS {name} stream/agree: " in done.stdout
    assert lines[-1].endswith("skipped") and " 0 failed" in lines[-1]


def test_a_plugin_that_breaks_a_rule_fails_naming_the_case(kit_environ: dict[str, str]) -> None:
    done = check("kitleaky", "kitgood", "--case", "stream/", environ=kit_environ)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("FAIL kit stream/early_exit: 1 emulator handler(s) still running 1 s after the "
            "caller left the stream: the upstream connection was left open") in done.stdout
    assert "case(s) failed: kit stream/early_exit" in done.stderr
    good = [line for line in done.stdout.splitlines()[-7:-1]]
    assert all(line.startswith("PASS kit stream/") for line in good), good


def test_json_and_a_plugin_without_an_emulator(kit_environ: dict[str, str]) -> None:
    done = check("kitgood", "kitplain", "--case", "fault/rate_limit/", "--json",
                 environ=kit_environ)
    assert done.returncode == 3, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["summary"] == {"pass": 2, "fail": 0, "skip": 0}
    assert [r["case"] for r in report["results"]] == ["fault/rate_limit/whole",
                                                      "fault/rate_limit/streamed"]
    assert "ships no emulator" in report["unchecked"]["kitplain"]
    assert "plugin 'kitplain' ships no emulator" in done.stderr


def test_an_unknown_plugin_is_a_usage_error() -> None:
    done = check("no-such-plugin")
    assert done.returncode == 2
    assert "no installed plugin is named 'no-such-plugin'; installed: aichats" in done.stderr
    assert not done.stdout
