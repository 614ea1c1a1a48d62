"""Profiles of the missed targets: pyinstrument on jackfield's worker, importtime for the CLI,
and what each feature costs, in instructions: of a library call for the library's targets
(bench/ablation.py), of a proxied call for serve's (bench/serve_ablation.py).

pyinstrument is installed into the project venv for the run, never as a dependency; the
feature costs need valgrind (Debian's package) and are left out without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

from harness.common import BIN, OUT, PYTHON, ROOT, SHORT_PIECES, WORKERS, say
from harness.environment import ensure_pyinstrument
from harness.memory import census
from harness.procs import start_worker

PROFILES: dict[str, tuple[str, dict[str, Any]]] = {  # name: (what is profiled, the command)
    "latency": ("non-streamed short calls at c=1",
                {"op": "rate", "mode": "json", "concurrency": 1, "seconds": 3}),
    "throughput": ("non-streamed short calls at c=64",
                   {"op": "rate", "mode": "json", "concurrency": 64, "seconds": 3}),
    "sse-64": ("streamed short calls at c=64",
               {"op": "rate", "mode": "sse", "concurrency": 64, "seconds": 3}),
    "streaming": (f"streamed replies of {SHORT_PIECES:,} pieces",
                  {"op": "stream", "pieces": SHORT_PIECES, "repeat": 10}),
}


ABLATION_CALLS = 2000  # per counted run: 18 runs under callgrind, ~5 minutes on 2 cores; 1,000
# calls moved single features by up to 0.013 M between runs (when collections fall)
SERVE_ABLATION_CALLS = 1500  # per counted server: 18 runs, ~6 minutes on 2 cores; two runs
# of the same server and calls differ by up to ~25 M instructions (±0.02 M a proxied call)


def profiles(url: str, misses: Sequence[str], results: dict[str, Any]) -> None:
    """Profile jackfield's side of every missed target; keep the summaries for the report."""
    wanted = [m for m in dict.fromkeys(misses) if m in PROFILES]
    found: dict[str, Any] = {}
    if wanted and ensure_pyinstrument():
        proc = start_worker("profile-jackfield", PYTHON, WORKERS / "jackfield_worker.py", url)
        try:
            proc.ask(PROFILES[wanted[0]][1] | {"seconds": 0.5, "repeat": 1})  # warm-up
            for miss in wanted:
                out = OUT / f"profile-{miss}.txt"
                answer = proc.ask({"op": "profile", "command": PROFILES[miss][1],
                                   "out": str(out)})
                found[miss] = answer["summary"] | {"what": PROFILES[miss][0]}
                say(f"  profile of {miss}: {out.relative_to(ROOT)}")
        finally:
            proc.stop()
    if "models_ms" in misses and ensure_pyinstrument():
        out = OUT / "profile-models.txt"
        env = os.environ.copy()
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([str(PYTHON), "-m", "pyinstrument", "-i", "0.0002", "-r", "text",
                        "-o", str(out), str(BIN / "jackfield"), "models"],
                       capture_output=True, env=env, check=False)
        imports = subprocess.run([str(PYTHON), "-X", "importtime", str(BIN / "jackfield"),
                                  "models"], capture_output=True, text=True, env=env, check=False)
        found["models_ms"] = {"importtime": top_imports(imports.stderr),
                              "what": "`jackfield models`"}
        say(f"  profile of jackfield models: {out.relative_to(ROOT)}")
    if {"latency", "throughput"} & set(misses) and shutil.which("valgrind"):
        from ablation import ablation  # bench/, beside run.py

        say("  what each feature of a short call costs (callgrind) ...")
        found["ablation"] = ablation(ABLATION_CALLS) | {"what": "the features of a short call"}
    if "memory" in misses:
        say("  what an open stream holds (tracemalloc) ...")
        found["memory"] = census()
    if "serve_cpu" in misses and shutil.which("valgrind"):
        from serve_ablation import serve_ablation  # bench/, beside run.py

        say("  what each feature of a proxied call costs serve (callgrind) ...")
        found["serve_ablation"] = serve_ablation(SERVE_ABLATION_CALLS) | {
            "what": "the features of a proxied call"}
    results["profiles"] = found


def top_imports(importtime: str, count: int = 12) -> list[list[Any]]:
    """Return the slowest imports of a -X importtime log down to depth 1 (the top-level ones
    and what they import directly): [module, cumulative ms]."""
    rows: list[list[Any]] = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        # The nesting is the module name's indent, two spaces a level after "| ": it must be
        # measured before the name is stripped.
        name = parts[2].removeprefix(" ")
        depth = (len(name) - len(name.lstrip())) // 2
        if depth <= 1:
            rows.append([name.strip(), int(parts[1]) / 1000])
    return sorted(rows, key=lambda row: -row[1])[:count]
