"""Output etiquette: a closed pipe is a normal end, and shell completion scripts."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from cli_helpers import CLI, clean_environ


@pytest.mark.parametrize("command", [["models"], ["models", "--json"], ["plugins"],
                                     ["--help"], ["models", "--help"], ["--version"]])
def test_a_reader_that_stops_early_is_not_a_failure(command: list[str]) -> None:
    """`jackfield models | head -1`: stdout closed before the first write; exit 0, quietly."""
    environ = clean_environ()
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
