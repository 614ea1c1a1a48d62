"""Start-up time of the command line: `jackfield --help` and `jackfield models` against
`python -c "import jackfield"`.

Each command runs once to warm the bytecode caches and the OS page cache, then --runs times;
the table shows the median, fastest and slowest wall time and the median CPU time.
PYTHONDONTWRITEBYTECODE is unset so the caches a real installation has are used.
Usage: python bench/startup.py [--runs 15]
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

TARGET_MS = 150.0  # issue 4: `jackfield models` answers within this; issue 14: --help too
TARGETED = ("jackfield --help", "jackfield models")


def commands() -> dict[str, list[str]]:
    """Return the commands to time, by label."""
    script = Path(sys.executable).with_name("jackfield")
    jackfield = [str(script)] if script.exists() else [shutil.which("jackfield") or "jackfield"]
    return {
        "python -c 'pass' (interpreter alone)": [sys.executable, "-c", "pass"],
        "python -c 'import jackfield'": [sys.executable, "-c", "import jackfield"],
        "jackfield --help": [*jackfield, "--help"],
        "jackfield models": [*jackfield, "models"],
        "jackfield models --json": [*jackfield, "models", "--json"],
        "jackfield plugins": [*jackfield, "plugins"],
    }


def time_once(command: list[str], environ: dict[str, str]) -> tuple[float, float]:
    """Return the wall and CPU (user + system) time of one run in milliseconds.

    The CPU time is what the command itself costs; on a busy machine the wall time also holds
    the time spent waiting for a CPU.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return (time.perf_counter() - started) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main() -> int:
    """Time every command and print the table; exit 1 if --help or models is over target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    args = parser.parse_args()
    environ = dict(os.environ)
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"date {datetime.date.today()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}), "
          f"JACKFIELD_LOAD_PLUGINS={environ.get('JACKFIELD_LOAD_PLUGINS', '(unset: all)')}, "
          f"median of {args.runs} runs after one warm-up, load average "
          f"{os.getloadavg()[0]:.2f}")
    width = max(map(len, commands()))
    print(f"{'command':<{width}}  {'median':>8}  {'min':>8}  {'max':>8}  {'cpu':>8}")
    medians = {}
    for label, command in commands().items():
        time_once(command, environ)  # warm-up: writes .pyc files, fills the page cache
        runs = [time_once(command, environ) for _ in range(args.runs)]
        samples = [wall for wall, _ in runs]
        medians[label] = statistics.median(samples)
        print(f"{label:<{width}}  {medians[label]:>6.1f}ms  {min(samples):>6.1f}ms  "
              f"{max(samples):>6.1f}ms  {statistics.median(cpu for _, cpu in runs):>6.1f}ms")
    for label in TARGETED:
        verdict = "within" if medians[label] <= TARGET_MS else "OVER"
        print(f"{label}: {medians[label]:.1f} ms, {verdict} the {TARGET_MS:.0f} ms target")
    return 0 if all(medians[label] <= TARGET_MS for label in TARGETED) else 1


if __name__ == "__main__":
    sys.exit(main())
