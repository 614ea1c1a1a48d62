"""Measure 3b: `jackfield serve --workers 2` against one worker, with Redis on and off.

Each of the four servers (1 or 2 workers; no Redis, or a redis-server of the run's own) is
started alone, with one named key whose rpm limit is too high to refuse anything: with
Redis every request costs the limit's round trip to it (a transaction), without Redis the
count stays in the process. wrk (one thread) drives each at concurrency 64 and 256 through
the server's chat route against the AmigoChat emulator; the figures are the median over the
rounds of requests per second and of wrk's p99 latency. The machine's core count is written
next to each figure: on 2 cores, 2 workers compete with the emulator, wrk and Redis for
them, so this shows what a second process buys (or costs) there, not on a larger machine.
Access logs are off in all four, so only the scale-out differs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.common import BIN, median, rotated, say
from harness.environment import ensure_wrk
from harness.procs import free_port, listening
from harness.server import openai_call, wrk_load

CONCURRENCIES = (64, 256)
SETUPS = ("workers=1 redis=off", "workers=2 redis=off", "workers=1 redis=on",
          "workers=2 redis=on")


@contextmanager
def redis_server() -> Iterator[str | None]:
    """A redis-server on a free loopback port, no persistence; None when it is missing."""
    found = shutil.which("redis-server")
    if found is None:
        yield None
        return
    port = free_port()
    proc = subprocess.Popen([found, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def serve(url: str, workers: int, redis: str | None, keys: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ.copy() | {"JACKFIELD_AMIGOCHAT_BASE_URL": url}
    argv = [str(BIN / "jackfield"), "serve", "--port", str(port), "--workers", str(workers),
            "--keys", str(keys), "--no-access-log"] + (["--redis", redis] if redis else [])
    serve_url = f"http://127.0.0.1:{port}"
    with listening(argv, serve_url + "/health", f"serve-scaleout-{workers}.log", env,
                   stop=signal.SIGTERM):
        yield serve_url


def new_key(folder: Path) -> tuple[Path, str]:
    keys = folder / "server_keys.json"
    made = subprocess.run([str(BIN / "jackfield"), "serve-keys", "--file", str(keys), "add",
                           "bench", "--rpm", "1000000000"], capture_output=True, text=True,
                          check=True)
    return keys, made.stdout.strip()


def scaleout(url: str, rounds: int, seconds: float, results: dict[str, Any]) -> None:
    """Fill results["scaleout"]: setup -> concurrency -> runs (rps, p99)."""
    wrk = ensure_wrk()
    if wrk is None:
        results["scaleout"] = {"skipped": "wrk could not be installed"}
        return
    table: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory() as folder, redis_server() as redis:
        keys, key = new_key(Path(folder))
        body, headers = openai_call(key)  # the question measure 3 sends, with this key
        setups = [s for s in SETUPS if redis or s.endswith("off")]
        for setup in setups:
            workers = int(setup.split()[0].split("=")[1])
            with serve(url, workers, redis if setup.endswith("on") else None, keys) as base:
                endpoint = base + "/v1/chat/completions"
                for _ in range(3):  # warm-up: a loaded machine may answer nothing in 1 s
                    warm = wrk_load(wrk, endpoint, body, headers, 64, 3)
                    if warm["count"]:
                        break
                if warm["errors"] or warm["wrong"] or not warm["count"]:
                    raise SystemExit(f"load through {setup} fails: {warm}")
                for round_number in range(rounds):
                    for concurrency in rotated(list(CONCURRENCIES), round_number):
                        run = wrk_load(wrk, endpoint, body, headers, concurrency, seconds)
                        table.setdefault(setup, {}).setdefault(str(concurrency), []).append(run)
            say(f"  {setup}: " + ", ".join(
                f"c{c} {median([r['rps'] for r in runs]):.0f}/s p99 "
                f"{median([r['p99'] for r in runs]) * 1e3:.0f} ms"
                for c, runs in table[setup].items()))
    results["scaleout"] = {"nproc": os.cpu_count(), "table": table,
                           "redis": "redis-server " + (_version() if redis else "missing")}


def _version() -> str:
    done = subprocess.run(["redis-server", "--version"], capture_output=True, text=True,
                          check=False)
    return done.stdout.split()[2].removeprefix("v=") if done.stdout else "?"


def lines(data: dict[str, Any]) -> list[str]:
    """The report's section for measure 3b."""
    if "table" not in data:
        return []
    cores = data["nproc"]
    out = ["## 3b. Server: workers and Redis", "",
           f"`jackfield serve --workers N`, with a named key's rpm counted in Redis "
           f"({data['redis']}) or in the process; wrk, one thread, the median of the rounds. "
           f"Every figure was measured on a machine with {cores} cores.", "",
           "| setup | concurrency | req/s | p99 | cores |", "|---|---|---|---|---|"]
    for setup, runs_by in data["table"].items():
        for concurrency, runs in runs_by.items():
            out.append(f"| {setup} | {concurrency} | {median([r['rps'] for r in runs]):,.0f} | "
                       f"{median([r['p99'] for r in runs]) * 1e3:.1f} ms | {cores} |")
    return [*out, ""]
