"""Measure 2: one long streamed reply read to its end, pieces per second and CPU per piece."""

from __future__ import annotations

from typing import Any

from harness.common import SHORT_PIECES, median, rotated, say
from harness.procs import Proc

# The limit and jackfield run 3 times a round (their ratio is the target); the peers once.
REPEATS = {"raw": 3, "jackfield": 3, "speedups": 1, "g4f": 1, "litellm": 1}


def streaming(workers: dict[str, Proc], rounds: int, results: dict[str, Any]) -> None:
    """One 10,000-piece reply read to its end; the limit and jackfield 3 times a round."""
    names = [name for name in REPEATS if name in workers]
    table: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for name in names:  # warm-up
        workers[name].ask({"op": "stream", "pieces": 1000, "repeat": 1})
    for round_number in range(rounds):
        for name in rotated(names, round_number):
            run = workers[name].ask({"op": "stream", "pieces": SHORT_PIECES,
                                     "repeat": REPEATS[name]})
            if not run["complete"]:
                raise SystemExit(f"{name} lost pieces of the stream: {run['counts']}")
            table.setdefault(name, []).append(median(run["pieces_per_s"]))
            cpu.setdefault(name, []).append(median(run["cpus"]) / SHORT_PIECES)
    say("  streaming: " + ", ".join(f"{k} {median(v):,.0f} pieces/s" for k, v in table.items()))
    results["streaming"] = table
    results["streaming_cpu"] = cpu
