"""Output etiquette: a closed pipe is a normal end, and shell completion scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import CLI, clean_environ

from jackfield._cli import completion
from jackfield._cli.main import build_parser


@pytest.mark.parametrize("command", [["models"], ["models", "--json"], ["plugins"],
                                     ["logs", "path"], ["--help"], ["models", "--help"],
                                     ["--version"]])
def test_a_reader_that_stops_early_is_not_a_failure(command: list[str], tmp_path: Path) -> None:
    """`jackfield models | head -1`: stdout closed before the first write; exit 0, quietly."""
    environ = clean_environ({"JACKFIELD_LOGS": str(tmp_path / "logs.db")})
    del environ["PYTHONUNBUFFERED"]  # as in a shell: what is printed waits in the buffer
    process = subprocess.Popen([*CLI, *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environ)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the interpreter has even started: the first write fails
    with process.stderr:
        stderr = process.stderr.read()
    assert process.wait(timeout=60) == 0, stderr
    assert stderr == b""


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("head") is None,
                    reason="needs bash and head")
def test_models_piped_into_head_exits_0() -> None:
    result = subprocess.run(["bash", "-c", 'set -o pipefail; "$@" models | head -1', "-", *CLI],
                            capture_output=True, text=True, env=clean_environ(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "ID"


def _script(shell: str) -> str:
    result = subprocess.run([*CLI, "completion", shell], capture_output=True, text=True,
                            env=clean_environ(), timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _shell_environ() -> dict[str, str]:
    """The completion scripts run `jackfield models`: this environment's jackfield first."""
    environ = clean_environ()
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return environ


def test_every_command_and_option_is_in_every_script() -> None:
    _, commands = completion.commands(build_parser())
    assert {command.name for command in commands} >= {"models", "chat", "install",
                                                       "completion"}
    for shell in completion.SHELLS:
        text = _script(shell)
        for command in commands:
            assert command.name in text, (shell, command.name)
            for option in command.options:
                for string in option.strings:
                    assert string.lstrip("-") in text, (shell, command.name, string)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(("line", "expected", "unexpected"), [
    ("jackfield mo", {"models"}, {"chat"}),
    ("jackfield --debug ch", {"chat"}, set()),
    ("jackfield models --k", {"--kind"}, {"--json"}),
    ("jackfield models --kind ", {"chat", "image"}, set()),
    ("jackfield chat -m gpt-4o-m", {"gpt-4o-mini"}, {"gpt-4"}),
    ("jackfield models --provider ", {"aichats", "amigochat"}, set()),
    ("jackfield completion ", {"bash", "zsh", "fish"}, set()),
    ("jackfield install --r", {"--restore"}, set()),
])
def test_bash_completes(tmp_path: Path, line: str, expected: set[str],
                        unexpected: set[str]) -> None:
    script = tmp_path / "jackfield.bash"
    script.write_text(_script("bash"), encoding="utf-8")
    words = line.split(" ")  # a trailing space: the word being completed is empty
    quoted = " ".join(f"'{word}'" for word in words)
    program = (f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
               "_jackfield; printf '%s\\n' \"${COMPREPLY[@]}\"")
    result = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True,
                            env=_shell_environ(), timeout=60)
    assert result.returncode == 0, result.stderr
    offered = set(result.stdout.split())
    assert expected <= offered and not unexpected & offered, offered


@pytest.mark.skipif(shutil.which("fish") is None, reason="needs fish")
def test_fish_completes(tmp_path: Path) -> None:
    script = tmp_path / "jackfield.fish"
    script.write_text(_script("fish"), encoding="utf-8")
    program = (f"source {script}; complete -C 'jackfield mo'; echo ---; "
               "complete -C 'jackfield models --kind '; echo ---; "
               "complete -C 'jackfield chat -m gpt-4o-m'")
    result = subprocess.run(["fish", "--no-config", "-c", program], capture_output=True,
                            text=True, env=_shell_environ(), timeout=60)
    assert result.returncode == 0, result.stderr
    first, kinds, models = (part.split() for part in result.stdout.split("---"))
    assert "models" in first and "chat" not in first
    assert {"chat", "image"} <= set(kinds)
    assert "gpt-4o-mini" in models


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh")
def test_zsh_script_loads_and_registers(tmp_path: Path) -> None:
    script = tmp_path / "_jackfield"
    script.write_text(_script("zsh"), encoding="utf-8")
    assert subprocess.run(["zsh", "-n", str(script)], capture_output=True,
                          timeout=60).returncode == 0
    program = (f"autoload -U compinit; compinit -u -D; source {script}; "
               "print -r -- $_comps[jackfield]")
    result = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True,
                            env=_shell_environ() | {"HOME": str(tmp_path)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "_jackfield"
