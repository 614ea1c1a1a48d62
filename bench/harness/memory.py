"""Measure 5: resident memory of a fresh client process holding 1,000 open streams, and (for
the profile of a missed target) what fewer such streams hold by tracemalloc."""

from __future__ import annotations

from typing import Any

from harness.common import MEMORY_PACE, MEMORY_STREAMS, PYTHON, WORKERS, say
from harness.procs import emulator, start_worker

CENSUS_STREAMS = 300  # tracemalloc slows every allocation: fewer streams, same shape


def open_streams(streams: int, census: bool = False) -> dict[str, dict[str, Any]]:
    """Return what a fresh raw and jackfield worker measure while holding `streams` open."""
    pieces = 1000  # at MEMORY_PACE each stream would last 100 s; they are closed long before
    table = {}
    # A paced emulator of its own, so that the streams stay open while RSS is sampled.
    with emulator(MEMORY_PACE) as (url, _):
        for name, extra in (("raw", ()), ("jackfield", (str(streams + 100),))):
            proc = start_worker(f"memory-{name}", PYTHON, WORKERS / f"{name}_worker.py", url,
                                *extra)
            try:
                proc.ask({"op": "stream", "pieces": 3, "repeat": 1})  # warm: imports, pool
                table[name] = proc.ask({"op": "memory", "streams": streams,
                                        "pieces": pieces, "census": census}, timeout=300)
            finally:
                proc.stop()
    return table


def census() -> dict[str, Any]:
    """What CENSUS_STREAMS open streams hold by tracemalloc, per stream: raw and jackfield."""
    table = open_streams(CENSUS_STREAMS, census=True)
    return {"streams": CENSUS_STREAMS, "what": "memory per open stream"} | {
        name: found["census"] for name, found in table.items()}


def memory(results: dict[str, Any]) -> None:
    """RSS of a fresh client process holding 1,000 open streams, jackfield and the limit."""
    table = open_streams(MEMORY_STREAMS)
    results["memory"] = table
    say("  memory: " + ", ".join(
        f"{k} {(v['open_kib'] - v['base_kib']) / 1024:.1f} MiB for {v['started']} streams"
        for k, v in table.items()))
