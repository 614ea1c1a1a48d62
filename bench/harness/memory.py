"""Measure 5: resident memory of a fresh client process holding 1,000 open streams."""

from __future__ import annotations

from typing import Any

from harness.common import MEMORY_PACE, MEMORY_STREAMS, PYTHON, WORKERS, say
from harness.procs import emulator, start_worker


def memory(results: dict[str, Any]) -> None:
    """RSS of a fresh client process holding 1,000 open streams, jackfield and the limit."""
    pieces = 1000  # at MEMORY_PACE each stream would last 100 s; they are closed long before
    table = {}
    # A paced emulator of its own, so that the streams stay open while RSS is sampled.
    with emulator(MEMORY_PACE) as (url, _):
        for name, extra in (("raw", ()), ("jackfield", (str(MEMORY_STREAMS + 100),))):
            proc = start_worker(f"memory-{name}", PYTHON, WORKERS / f"{name}_worker.py", url,
                                *extra)
            try:
                proc.ask({"op": "stream", "pieces": 3, "repeat": 1})  # warm: imports, pool
                table[name] = proc.ask({"op": "memory", "streams": MEMORY_STREAMS,
                                        "pieces": pieces}, timeout=300)
            finally:
                proc.stop()
    results["memory"] = table
    say("  memory: " + ", ".join(
        f"{k} {(v['open_kib'] - v['base_kib']) / 1024:.1f} MiB for {v['started']} streams"
        for k, v in table.items()))
