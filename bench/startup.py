"""Start-up time of the command line: `jackfield models` against `python -c "import jackfield"`.

Each command runs once to warm the bytecode caches and the OS page cache, then --runs times;
the table shows the median, fastest and slowest wall time. PYTHONDONTWRITEBYTECODE is unset
so the caches a real installation has are used. Usage: python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_MS = 150.0  # issue 4: `jackfield models` should answer within this


def commands() -> dict[str, list[str]]:
    """Return the commands to time, by label."""
    script = Path(sys.executable).with_name("jackfield")
    jackfield = [str(script)] if script.exists() else [shutil.which("jackfield") or "jackfield"]
    return {
        "python -c 'pass' (interpreter alone)": [sys.executable, "-c", "pass"],
        "python -c 'import jackfield'": [sys.executable, "-c", "import jackfield"],
        "jackfield models": [*jackfield, "models"],
        "jackfield models --json": [*jackfield, "models", "--json"],
        "jackfield plugins": [*jackfield, "plugins"],
    }


def time_once(command: list[str], environ: dict[str, str]) -> float:
    """Return the wall time of one run in milliseconds (the run must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, env=environ, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def main() -> int:
    """Time every command and print the table; exit 1 if `jackfield models` is over target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    args = parser.parse_args()
    environ = dict(os.environ)
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"date {datetime.date.today()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}), "
          f"JACKFIELD_LOAD_PLUGINS={environ.get('JACKFIELD_LOAD_PLUGINS', '(unset: all)')}, "
          f"median of {args.runs} runs after one warm-up")
    width = max(map(len, commands()))
    print(f"{'command':<{width}}  {'median':>8}  {'min':>8}  {'max':>8}")
    medians = {}
    for label, command in commands().items():
        time_once(command, environ)  # warm-up: writes .pyc files, fills the page cache
        samples = [time_once(command, environ) for _ in range(args.runs)]
        medians[label] = statistics.median(samples)
        print(f"{label:<{width}}  {medians[label]:>6.1f}ms  {min(samples):>6.1f}ms  "
              f"{max(samples):>6.1f}ms")
    models = medians["jackfield models"]
    verdict = "within" if models <= TARGET_MS else "OVER"
    print(f"jackfield models: {models:.1f} ms, {verdict} the {TARGET_MS:.0f} ms target")
    return 0 if models <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
