"""Instructions counted by valgrind's callgrind: a run of N calls minus a run of none.

Wall and CPU times on a shared 2-core machine move by ±15% between runs; instruction counts
do not (the same binary, input and environment give the same count whatever else runs), so
the diagnostics that split a call's cost (bench/instructions.py, bench/layers.py,
bench/ablation.py) count instructions. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["collected", "count", "per_call", "per_call_of"]


def collected(stderr: str, what: str) -> int:
    """Return the instruction total callgrind printed on stderr (an error if it did not)."""
    found = re.search(r"Collected : (\d+)", stderr)
    if not found:
        raise SystemExit(f"callgrind run failed ({what}): {stderr[-800:]}")
    return int(found.group(1))


def count(argv: Sequence[str], what: str, workdir: str) -> int:
    """Run argv under callgrind (hash seed fixed) and return the instructions it executed."""
    out = Path(workdir) / f"callgrind.{abs(hash(tuple(argv)))}.out"
    done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                           *argv], capture_output=True, text=True, check=False,
                          env=os.environ | {"PYTHONHASHSEED": "0"})
    if done.returncode:
        raise SystemExit(f"callgrind run failed ({what}): {done.stderr[-800:]}")
    return collected(done.stderr, what)


def per_call(command: Callable[[str, int], Sequence[str]], labels: Sequence[str],
             calls: int) -> dict[str, float]:
    """Return label -> instructions per call: command(label, n) makes n calls, counted for
    n = calls and n = 0 (start-up and imports cancel out), two runs at a time."""
    return per_call_of(lambda label, n, workdir: count(command(label, n),
                                                       f"{label}, {n} calls", workdir),
                       labels, calls)


def per_call_of(counted: Callable[[str, int, str], int], labels: Sequence[str],
                calls: int) -> dict[str, float]:
    """per_call for runs that need more than one command (a server under load, say):
    counted(label, n, workdir) returns the instructions of a run of n calls."""
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(2) as pool:
        jobs = {(label, n): pool.submit(counted, label, n, workdir)
                for label in labels for n in (0, calls)}
        totals = {key: job.result() for key, job in jobs.items()}
    return {label: (totals[(label, calls)] - totals[(label, 0)]) / calls for label in labels}
