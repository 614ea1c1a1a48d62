"""Measure 4: wall time of fresh interpreters and of `jackfield models`."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from harness.common import BIN, PEER_ENV, PYTHON, median, rotated, say
from harness.environment import peer_python


def startup(peers: Sequence[str], runs: int, results: dict[str, Any]) -> None:
    """Wall time of fresh interpreters: warm-up once each, then interleaved runs."""
    env = os.environ.copy() | PEER_ENV
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code caches are written and then used
    commands: dict[str, list[str]] = {
        "python -c pass": [str(PYTHON), "-c", "pass"],
        "python -c 'import jackfield'": [str(PYTHON), "-c", "import jackfield"],
    }
    if (BIN / "jackfield").exists():
        commands["jackfield models"] = [str(BIN / "jackfield"), "models"]
    for peer, module in (("g4f", "g4f"), ("litellm", "litellm")):
        if peer in peers:
            commands[f"python -c 'import {module}' ({peer} venv)"] = [
                str(peer_python(peer)), "-c", f"import {module}"]
    failed = {}
    for label, argv in commands.items():  # warm-up: caches, byte-code, page cache
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if done.returncode:
            failed[label] = done.stderr.strip().splitlines()[-1:] or ["exit status"]
    for label in failed:
        del commands[label]
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_number in range(runs):
        for label in rotated(list(commands), round_number):
            began = time.perf_counter()
            subprocess.run(commands[label], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env, check=False)
            times[label].append(time.perf_counter() - began)
    results["startup"] = {"ms": {k: [t * 1000 for t in v] for k, v in times.items()},
                          "failed": {k: " ".join(v) for k, v in failed.items()}}
    say("  start-up: " + ", ".join(f"{k} {median(v) * 1000:.0f} ms" for k, v in times.items()))
