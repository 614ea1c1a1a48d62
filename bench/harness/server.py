"""Measure 3: load through `jackfield serve` against load on the emulator directly.

The server, the emulator and the load generator (wrk, or the Python one when wrk cannot be
installed) each run in a process of their own; CPU per request comes from /proc. Beside serve
runs the floor proxy (bench/peers/floor_proxy.py, its own process too): a featureless aiohttp
proxy of the same OpenAI call, what any Python aiohttp proxy pays on this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from harness.common import (
    BENCH,
    BIN,
    PYTHON,
    SERVE_KEY,
    WORKERS,
    median,
    rotated,
    say,
)
from harness.environment import ensure_speedups, ensure_wrk, have_serve
from harness.procs import cpu_seconds, free_port, listening, start_worker, worker_env

TTFT_CALLS = 200  # sequential streamed calls per round and target for the time to first token
Load = Callable[[str, int, float], dict[str, Any]]  # (target, concurrency, seconds) -> result


def wrk_load(wrk: str, url: str, body: dict[str, Any], headers: dict[str, str],
             concurrency: int, seconds: float, expect: Sequence[str] = ()) -> dict[str, Any]:
    """Run wrk (one thread) against url; return what the Python workers return. A reply is
    wrong unless it is a 200 holding every text in expect (default: the emulator's reply)."""
    env = os.environ.copy() | {
        "BENCH_BODY": json.dumps(body),
        "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in headers.items()),
    }
    if expect:
        env["BENCH_EXPECT"] = "\n".join(expect)
    done = subprocess.run([wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
                           "--timeout", "10s", "-s", str(BENCH / "wrk" / "post.lua"), url],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise SystemExit(f"wrk failed: {done.stdout[-800:]} {done.stderr[-800:]}")
    data = json.loads(lines[-1])
    elapsed = data["duration_us"] / 1e6
    return {"count": data["requests"], "elapsed": elapsed, "rps": data["requests"] / elapsed,
            "p50": data["p50_us"] / 1e6, "p90": data["p90_us"] / 1e6,
            "p99": data.get("p99_us", 0) / 1e6,
            "errors": data["errors"], "wrong": data["wrong"]}


@contextmanager
def serving(url: str, binary: Path = BIN / "jackfield", args: Sequence[str] = (),
            log_name: str = "serve.log") -> Iterator[tuple[str, int]]:
    """Run `jackfield serve` on loopback, its AmigoChat pointed at the emulator."""
    port = free_port()
    env = os.environ.copy() | {"JACKFIELD_AMIGOCHAT_BASE_URL": url,
                               "JACKFIELD_API_KEY": SERVE_KEY}
    serve_url = f"http://127.0.0.1:{port}"
    with listening([binary, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                   serve_url + "/health", log_name, env, wait=30) as pid:
        yield serve_url, pid


@contextmanager
def floor_serving(url: str) -> Iterator[tuple[str, int]]:
    """Run the floor proxy (bench/peers/floor_proxy.py) on loopback, pointed at the emulator."""
    port = free_port()
    floor_url = f"http://127.0.0.1:{port}"
    with listening([PYTHON, BENCH / "peers" / "floor_proxy.py", url, str(port)],
                   floor_url + "/health", "floor-proxy.log", worker_env(), wait=30) as pid:
        yield floor_url, pid


def direct_call(stream: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the body and headers of the raw worker's call to the emulator, for wrk."""
    # The workers' own prompt and headers, so that wrk sends what the Python clients send.
    sys.path.insert(0, str(WORKERS))
    from benchloop import SHORT_PROMPT
    from raw_worker import HEADERS as RAW_HEADERS

    headers = RAW_HEADERS | {"x-device-uuid": "6f9619ff-8b86-4d11-b42d-00c04fc964ff"}
    body = {
        "chatId": "0b5b2d5e-4c1f-4f44-9d0e-6a4c7f1c2b3a", "frequency_penalty": 0,
        "max_tokens": 4000, "messages": [{"role": "user", "content": SHORT_PROMPT}],
        "model": "gpt-4o-mini", "personaId": "amigo", "presence_penalty": 0,
        "stream": stream, "temperature": 0.5, "top_p": 0.95}
    return body, headers


def openai_call(key: str, stream: bool = False,
                model: str = "gpt-4o-mini") -> tuple[dict[str, Any], dict[str, str]]:
    """Return the body and headers of the same question, OpenAI-shaped, to a server."""
    sys.path.insert(0, str(WORKERS))
    from benchloop import SHORT_PROMPT

    body: dict[str, Any] = {"model": model,
                            "messages": [{"role": "user", "content": SHORT_PROMPT}]}
    if stream:
        body["stream"] = True
    return body, {"content-type": "application/json", "authorization": f"Bearer {key}"}


def wrk_loader(wrk: str, url: str, serve_url: str, floor_url: str,
               fast_url: str | None = None) -> Load:
    """Return a load function driving wrk with a fixed body, direct or through a server."""
    calls: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
        "direct": (url + "/v1/chat/completions", *direct_call()),
        "serve": (serve_url + "/v1/chat/completions", *openai_call(SERVE_KEY)),
    }
    # The floor proxy gets serve's very request (it ignores the key).
    calls["floor"] = (floor_url + "/v1/chat/completions", *calls["serve"][1:])

    if fast_url is not None:  # the same call to the jackfield[speedups] server
        calls["speedups"] = (fast_url + "/v1/chat/completions", *calls["serve"][1:])

    def load(target: str, concurrency: int, seconds: float) -> dict[str, Any]:
        endpoint, body, headers = calls[target]
        return wrk_load(wrk, endpoint, body, headers, concurrency, seconds)

    return load


def serve_loop_args(binary: Path) -> list[str]:
    """Return `--loop uvloop` if this serve has the flag (the speedups venv's does)."""
    done = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True,
                          check=False, timeout=60)
    return ["--loop", "uvloop"] if "--loop" in done.stdout else []


def server(url: str, emulator_pid: int, rounds: int, seconds: float,
           results: dict[str, Any]) -> None:
    """Load through `jackfield serve` against load on the emulator directly."""
    if not have_serve():
        results["server"] = {"skipped": "`jackfield serve` is not in this checkout yet"}
        say("  server: skipped (no `jackfield serve`)")
        return
    wrk = ensure_wrk()
    with (serving(url) as (serve_url, serve_pid), floor_serving(url) as (floor_url, floor_pid),
          ExitStack() as stack):
        # Always started: the time to first token is measured by it, wrk cannot tell.
        gen = start_worker("loadgen", PYTHON, WORKERS / "loadgen_worker.py", url,
                           serve_url, SERVE_KEY, floor_url)
        stack.callback(gen.stop)
        load: Load
        targets = ["direct", "serve", "floor"]
        pids = {"direct": serve_pid, "serve": serve_pid, "floor": floor_pid}
        if wrk:
            results["loadgen"] = ("wrk (Debian's package, one thread; bench/wrk/post.lua), "
                                  "a fixed request body")
            fast, fast_url = ensure_speedups(), None
            if fast is not None:  # the optional extra, on the same load (uvloop, orjson)
                fast_url, pids["speedups"] = stack.enter_context(serving(
                    url, fast.parent / "jackfield", serve_loop_args(fast.parent / "jackfield"),
                    "serve-speedups.log"))
                targets.append("speedups")
            load = wrk_loader(wrk, url, serve_url, floor_url, fast_url)
        else:
            results["loadgen"] = ("the Python aiohttp load generator "
                                  "(bench/workers/loadgen_worker.py; wrk could not be installed)")
            def ask_loadgen(target: str, concurrency: int, seconds: float) -> dict[str, Any]:
                return gen.ask({"op": "rate", "mode": target, "concurrency": concurrency,
                                "seconds": seconds})

            load = ask_loadgen

        table: dict[str, list[dict[str, Any]]] = {}
        for target in targets:  # warm-up, and proof that every path answers correctly
            warm = load(target, 64, 1)
            if warm["errors"] or warm["wrong"] or not warm["count"]:
                raise SystemExit(f"load through {target} fails: {warm}")
        for round_number in range(rounds):
            for concurrency in (1, 64):
                for target in rotated(targets, round_number):
                    pid = pids[target]
                    before = cpu_seconds(pid), cpu_seconds(emulator_pid)
                    result = load(target, concurrency, seconds)
                    count = max(result["count"], 1)
                    result["serve_cpu_per_req"] = (cpu_seconds(pid) - before[0]) / count
                    result["emulator_cpu_per_req"] = (
                        cpu_seconds(emulator_pid) - before[1]) / count
                    table.setdefault(f"{target}/{concurrency}", []).append(result)
            for target in rotated(["direct", "serve", "floor"], round_number):  # streamed, c=1
                table.setdefault(f"{target}/ttft", []).append(
                    gen.ask({"op": "ttft", "mode": target, "count": TTFT_CALLS}))
        results["server"] = table
        say("  server: " + ", ".join(f"{k} {median([r['rps'] for r in v]):.0f}/s"
                                     for k, v in table.items() if not k.endswith("/ttft")))
