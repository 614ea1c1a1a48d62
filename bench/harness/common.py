"""What every part of the benchmark shares: where things are, the pins, the targets."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / "bench"
WORKERS = BENCH / "workers"
VENVS = BENCH / ".venvs"
OUT = BENCH / "out"  # logs and full profiles of the last run (gitignored)
REPORT = ROOT / "BENCHMARKS.md"
PYTHON = Path(sys.executable)  # the project venv's interpreter: run.sh starts us with it
BIN = PYTHON.parent

# The peers, each in its own virtual environment, never a dependency of jackfield.
# LiteLLM is pinned so that runs compare like with like; raise the pin deliberately.
PEERS = {"g4f": "g4f==6.5.0", "litellm": "litellm==1.106.2"}
PEER_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}

SHORT_PIECES = 10_000  # the long streamed reply
MEMORY_STREAMS = 1_000
MEMORY_PACE = 0.1  # seconds between two SSE writes of the paced emulator
SERVE_KEY = "bench-key"

TARGETS = {  # issue 16's
    "latency": 1.05,  # jackfield / raw time per call at concurrency 1, at most
    "throughput": 0.80,  # jackfield / raw req/s at concurrency 64, at least (stretch: 0.90)
    "streaming": 0.95,  # jackfield / raw pieces/s, at least
    "memory": 1.15,  # jackfield / raw resident memory per open stream, at most
    "serve_cpu_us": 270.0,  # serve's CPU per proxied short call at concurrency 64, at most
    "serve_added_ms": 0.25,  # serve's p50 minus the emulator's at concurrency 1, at most
    "serve_ttft_ms": 0.3,  # time to first token through serve minus direct, at most
    "models_ms": 150.0,  # `jackfield models` wall time, at most
    "peers": 5.0,  # jackfield / peer req/s at concurrency 64, at least
}

DASH, TIMES = "\u2013", "\u00d7"  # for the report's tables

T = TypeVar("T")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rotated(items: Sequence[T], by: int) -> list[T]:
    """Return items rotated left by `by`: each round starts with another contender."""
    by %= len(items)
    return list(items[by:]) + list(items[:by])
