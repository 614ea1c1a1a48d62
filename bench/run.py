"""jackfield's benchmarks, in one run on loopback; writes BENCHMARKS.md. Run `bash bench/run.sh`.

Every contender is a worker process of its own (bench/workers/, bench/peers/) that this driver
commands over a pipe, one measurement at a time, so no two contenders ever share the CPU.
The AmigoChat emulator runs in a process of its own too (a server sharing the client's event
loop would be charged to the client). Contenders are interleaved round by round, in an order
that rotates each round, so that machine noise hits all of them alike; the report gives the
median over the rounds, and each ratio is the median of the per-round ratios (each round's
contenders ran seconds apart).

Measured: 1. per-request overhead against a hand-written aiohttp client (the limit) at
concurrency 1 and 64; 2. streaming pieces per second; 3. `jackfield serve` against calling
the emulator directly; 4. start-up wall time; 5. resident memory with 1,000 open streams;
6. the peers (g4f 6.5.0's AmigoChat provider and LiteLLM, each in bench/.venvs/) against the
same emulator. Targets are recorded, never asserted; a missed target gets a pyinstrument
profile (pyinstrument is installed into the project venv for the run, not as a dependency).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
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

TARGETS = {
    "latency": 1.10,  # jackfield / raw time per call at concurrency 1, at most
    "throughput": 0.90,  # jackfield / raw req/s at concurrency 64, at least
    "streaming": 0.80,  # jackfield / raw pieces/s, at least
    "models_ms": 150.0,  # `jackfield models` wall time, at most
    "peers": 5.0,  # jackfield / peer req/s at concurrency 64, at least
}


DASH, TIMES = "\u2013", "\u00d7"  # for the report's tables


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- processes -------------------------------------------------------------------------------

class Proc:
    """A child process speaking JSON lines: we write commands, it answers one line each."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.label = label
        OUT.mkdir(exist_ok=True)
        self.log = (OUT / f"{label.replace(' ', '-')}.log").open("w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, cwd=ROOT,
                                     env=env or os.environ.copy())

    def read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"{self.label} gave no answer (see {self.log.name})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, command: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer = self.read(timeout)
        if "failed" in answer:
            raise RuntimeError(f"{self.label}: {answer['failed']} (see {self.log.name})")
        return answer

    def stop(self) -> None:
        if self.proc.poll() is None:
            with suppress(BrokenPipeError, OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@contextmanager
def emulator(pace: float = 0.0) -> Iterator[tuple[str, int]]:
    """Run the AmigoChat emulator in its own process; yield its base URL and process id."""
    argv = [str(PYTHON), str(BENCH / "emulator_server.py")]
    argv += ["--pace", str(pace)] if pace else []
    proc = Proc("emulator-paced" if pace else "emulator", argv)
    try:
        yield proc.read(30)["url"], proc.proc.pid
    finally:
        proc.stop()


def emulator_statuses(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/_bench/stats", timeout=10) as reply:
        counts: dict[str, int] = json.load(reply)
    return counts


def worker_env() -> dict[str, str]:
    env = os.environ.copy() | PEER_ENV
    env["PYTHONPATH"] = str(BENCH / "workers")
    # The peers must not reach the internet, and neither must we: no proxies from outside.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    return env


def start_worker(label: str, python: Path, script: Path, url: str, *args: str) -> Proc:
    proc = Proc(label, [str(python), str(script), url, *args], worker_env())
    ready = proc.read(120)
    assert ready.get("ready"), ready
    proc.versions = ready["versions"]  # type: ignore[attr-defined]
    return proc


# -- set-up ----------------------------------------------------------------------------------

def peer_python(peer: str) -> Path:
    return VENVS / peer / "bin" / "python"


def ensure_peer(peer: str) -> bool:
    """Create bench/.venvs/<peer> with the pinned package unless it is there; False if we cannot."""
    requirement = PEERS[peer]
    name, _, wanted = requirement.partition("==")
    python = peer_python(peer)
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
            capture_output=True, text=True, check=False)
        if probe.stdout.strip() == wanted:
            return True
    say(f"installing {requirement} into {python.parent.parent.relative_to(ROOT)} ...")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(VENVS / peer)], check=True)
    with (OUT / f"pip-{peer}.log").open("w") as log:
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", requirement],
                              stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        say(f"could not install {requirement} (see {log.name}): {peer} is left out")
        return False
    return True


def ensure_pyinstrument() -> bool:
    """Install pyinstrument into the project venv for this run (never a dependency)."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        say("installing pyinstrument into the project venv (profiling only) ...")
        done = subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "pyinstrument"],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            say(f"could not install pyinstrument: {done.stderr[-500:]}")
            return False
    return True


def have_serve() -> bool:
    """Return whether this checkout's CLI has a `serve` command."""
    if not (BIN / "jackfield").exists():
        return False
    probe = subprocess.run([str(BIN / "jackfield"), "serve", "--help"], capture_output=True,
                           text=True, check=False, timeout=60)
    return probe.returncode == 0


# -- 1 and 6: per-request overhead, and the peers ----------------------------------------------

def rotated(items: Sequence[Any], by: int) -> list[Any]:
    by %= len(items)
    return list(items[by:]) + list(items[:by])


def per_request(workers: dict[str, Proc], url: str, rounds: int, seconds: float,
                results: dict[str, Any]) -> None:
    """Short non-streamed (json) and streamed (sse) calls, every contender in every round."""
    contenders = [("raw", "json"), ("jackfield", "json"), ("raw", "sse"), ("jackfield", "sse"),
                  ("g4f", "sse"), ("litellm", "json")]
    contenders = [(w, m) for w, m in contenders if w in workers]
    say("warming up ...")
    for worker, mode in list(contenders):
        for concurrency in (64, 1):
            warm = workers[worker].ask({"op": "rate", "mode": mode, "concurrency": concurrency,
                                        "seconds": 0.3})
            if warm["errors"] or warm["wrong"] or not warm["count"]:
                if worker in ("raw", "jackfield"):
                    raise SystemExit(f"{worker} ({mode}) fails against the emulator: {warm}")
                say(f"  {worker} fails against the emulator and is left out: {warm}")
                results.setdefault("left_out", []).append(
                    f"{worker} ({warm['first_error'] or 'wrong replies'})")
                contenders.remove((worker, mode))
                workers.pop(worker).stop()
                break
    table: dict[str, list[dict[str, Any]]] = {}
    for round_number in range(rounds):
        for concurrency in (1, 64):
            for worker, mode in rotated(contenders, round_number):
                before = emulator_statuses(url)
                result = workers[worker].ask({"op": "rate", "mode": mode,
                                              "concurrency": concurrency, "seconds": seconds})
                after = emulator_statuses(url)
                result["server_non_2xx"] = sum(
                    after.get(k, 0) - before.get(k, 0) for k in after if not k.startswith("2"))
                result["server_requests"] = sum(after.values()) - sum(before.values())
                table.setdefault(f"{worker}/{mode}/{concurrency}", []).append(result)
        say(f"  per-request round {round_number + 1}/{rounds}: " + ", ".join(
            f"{key} {runs[-1]['rps']:.0f}/s" for key, runs in table.items()))
    results["per_request"] = table


# -- 2: streaming ----------------------------------------------------------------------------

def streaming(workers: dict[str, Proc], rounds: int, results: dict[str, Any]) -> None:
    """One 10,000-piece reply read to its end; the limit and jackfield 3 times a round."""
    repeats = {"raw": 3, "jackfield": 3, "g4f": 1, "litellm": 1}
    names = [name for name in repeats if name in workers]
    table: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for name in names:  # warm-up
        workers[name].ask({"op": "stream", "pieces": 1000, "repeat": 1})
    for round_number in range(rounds):
        for name in rotated(names, round_number):
            run = workers[name].ask({"op": "stream", "pieces": SHORT_PIECES,
                                     "repeat": repeats[name]})
            if not run["complete"]:
                raise SystemExit(f"{name} lost pieces of the stream: {run['counts']}")
            table.setdefault(name, []).append(median(run["pieces_per_s"]))
            cpu.setdefault(name, []).append(median(run["cpus"]) / SHORT_PIECES)
    say("  streaming: " + ", ".join(f"{k} {median(v):,.0f} pieces/s" for k, v in table.items()))
    results["streaming"] = table
    results["streaming_cpu"] = cpu


# -- 3: the server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_wrk() -> str | None:
    """Return wrk's path, installing Debian's package first if we can; None if we cannot."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    say("installing wrk with apt-get (the server benchmark's load generator) ...")
    env = os.environ.copy() | {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    for steps in ([install], [["apt-get", "update", "-q"], install]):
        with (OUT / "apt-wrk.log").open("a") as log:
            if all(subprocess.run(step, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  check=False).returncode == 0 for step in steps):
                break
    return shutil.which("wrk")


def wrk_load(wrk: str, url: str, body: dict[str, Any], headers: dict[str, str],
             concurrency: int, seconds: float) -> dict[str, Any]:
    """Run wrk (one thread) against url; return what the Python workers return."""
    env = os.environ.copy() | {
        "BENCH_BODY": json.dumps(body),
        "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in headers.items()),
    }
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
            "errors": data["errors"], "wrong": data["wrong"]}


@contextmanager
def serving(url: str) -> Iterator[tuple[str, int]]:
    """Run `jackfield serve` on loopback, its AmigoChat pointed at the emulator."""
    port = free_port()
    env = os.environ.copy() | {"JACKFIELD_AMIGOCHAT_BASE_URL": url,
                               "JACKFIELD_API_KEY": SERVE_KEY}
    log = (OUT / "serve.log").open("w")
    serve = subprocess.Popen([str(BIN / "jackfield"), "serve", "--host", "127.0.0.1",
                              "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                             env=env, cwd=ROOT)
    serve_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(serve_url + "/health", timeout=2).close()
                break
            except OSError:
                if serve.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        "jackfield serve did not start: see bench/out/serve.log") from None
                time.sleep(0.2)
        yield serve_url, serve.pid
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(10)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        log.close()


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) process pid has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server(url: str, emulator_pid: int, rounds: int, seconds: float,
           results: dict[str, Any]) -> None:
    """Load through `jackfield serve` against load on the emulator directly."""
    if not have_serve():
        results["server"] = {"skipped": "`jackfield serve` is not in this checkout yet"}
        say("  server: skipped (no `jackfield serve`)")
        return
    wrk = ensure_wrk()
    sys.path.insert(0, str(BENCH / "workers"))
    from benchloop import SHORT_PROMPT
    from raw_worker import HEADERS as RAW_HEADERS

    with serving(url) as (serve_url, serve_pid), ExitStack() as stack:
        if wrk:
            results["loadgen"] = ("wrk (Debian's package, one thread; bench/wrk/post.lua), "
                                  "a fixed request body")
            direct_headers = RAW_HEADERS | {
                "x-device-uuid": "6f9619ff-8b86-4d11-b42d-00c04fc964ff"}
            direct_body = {
                "chatId": "0b5b2d5e-4c1f-4f44-9d0e-6a4c7f1c2b3a", "frequency_penalty": 0,
                "max_tokens": 4000, "messages": [{"role": "user", "content": SHORT_PROMPT}],
                "model": "gpt-4o-mini", "personaId": "amigo", "presence_penalty": 0,
                "stream": False, "temperature": 0.5, "top_p": 0.95}
            calls = {
                "direct": (url + "/v1/chat/completions", direct_body, direct_headers),
                "serve": (serve_url + "/v1/chat/completions",
                          {"model": "gpt-4o-mini",
                           "messages": [{"role": "user", "content": SHORT_PROMPT}]},
                          {"content-type": "application/json",
                           "authorization": f"Bearer {SERVE_KEY}"}),
            }

            def load(target: str, concurrency: int, seconds: float) -> dict[str, Any]:
                endpoint, body, headers = calls[target]
                return wrk_load(wrk, endpoint, body, headers, concurrency, seconds)
        else:
            results["loadgen"] = ("the Python aiohttp load generator "
                                  "(bench/workers/loadgen_worker.py; wrk could not be installed)")
            gen = start_worker("loadgen", PYTHON, BENCH / "workers" / "loadgen_worker.py", url,
                               serve_url, SERVE_KEY)
            stack.callback(gen.stop)

            def load(target: str, concurrency: int, seconds: float) -> dict[str, Any]:
                return gen.ask({"op": "rate", "mode": target, "concurrency": concurrency,
                                "seconds": seconds})

        table: dict[str, list[dict[str, Any]]] = {}
        targets = ["direct", "serve"]
        for target in targets:  # warm-up, and proof that both paths answer correctly
            warm = load(target, 64, 1)
            if warm["errors"] or warm["wrong"] or not warm["count"]:
                raise SystemExit(f"load through {target} fails: {warm}")
        for round_number in range(rounds):
            for concurrency in (1, 64):
                for target in rotated(targets, round_number):
                    before = cpu_seconds(serve_pid), cpu_seconds(emulator_pid)
                    result = load(target, concurrency, seconds)
                    count = max(result["count"], 1)
                    result["serve_cpu_per_req"] = (cpu_seconds(serve_pid) - before[0]) / count
                    result["emulator_cpu_per_req"] = (
                        cpu_seconds(emulator_pid) - before[1]) / count
                    table.setdefault(f"{target}/{concurrency}", []).append(result)
        results["server"] = table
        say("  server: " + ", ".join(f"{k} {median([r['rps'] for r in v]):.0f}/s"
                                     for k, v in table.items()))


# -- 4: start-up -----------------------------------------------------------------------------

def startup(peers: Sequence[str], runs: int, results: dict[str, Any]) -> None:
    """Wall time of fresh interpreters: warm-up once each, then interleaved runs."""
    env = os.environ.copy() | PEER_ENV
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code caches are written and then used
    commands: dict[str, list[str]] = {
        "python -c pass": [str(PYTHON), "-c", "pass"],
        "python -c 'import jackfield'": [str(PYTHON), "-c", "import jackfield"],
    }
    if (BIN / "jackfield").exists():
        commands["jackfield models"] = [str(BIN / "jackfield"), "models"]
    for peer, module in (("g4f", "g4f"), ("litellm", "litellm")):
        if peer in peers:
            commands[f"python -c 'import {module}' ({peer} venv)"] = [
                str(peer_python(peer)), "-c", f"import {module}"]
    failed = {}
    for label, argv in commands.items():  # warm-up: caches, byte-code, page cache
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if done.returncode:
            failed[label] = done.stderr.strip().splitlines()[-1:] or ["exit status"]
    for label in failed:
        del commands[label]
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_number in range(runs):
        for label in rotated(list(commands), round_number):
            began = time.perf_counter()
            subprocess.run(commands[label], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env, check=False)
            times[label].append(time.perf_counter() - began)
    results["startup"] = {"ms": {k: [t * 1000 for t in v] for k, v in times.items()},
                          "failed": {k: " ".join(v) for k, v in failed.items()}}
    say("  start-up: " + ", ".join(f"{k} {median(v) * 1000:.0f} ms" for k, v in times.items()))


# -- 5: memory -------------------------------------------------------------------------------

def memory(results: dict[str, Any]) -> None:
    """RSS of a fresh client process holding 1,000 open streams, jackfield and the limit."""
    pieces = 1000  # at MEMORY_PACE each stream would last 100 s; they are closed long before
    table = {}
    with emulator(MEMORY_PACE) as (url, _):
        for name, python, script, extra in (
            ("raw", PYTHON, BENCH / "workers" / "raw_worker.py", ()),
            ("jackfield", PYTHON, BENCH / "workers" / "jackfield_worker.py",
             (str(MEMORY_STREAMS + 100),)),
        ):
            proc = start_worker(f"memory-{name}", python, script, url, *extra)
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


# -- profiles of misses ----------------------------------------------------------------------

PROFILES = {  # name: (what is profiled, the worker command)
    "latency": ("non-streamed short calls at c=1",
                {"op": "rate", "mode": "json", "concurrency": 1, "seconds": 3}),
    "throughput": ("non-streamed short calls at c=64",
                   {"op": "rate", "mode": "json", "concurrency": 64, "seconds": 3}),
    "sse-64": ("streamed short calls at c=64",
               {"op": "rate", "mode": "sse", "concurrency": 64, "seconds": 3}),
    "streaming": (f"streamed replies of {SHORT_PIECES:,} pieces",
                  {"op": "stream", "pieces": SHORT_PIECES, "repeat": 10}),
}


def profiles(url: str, misses: Sequence[str], results: dict[str, Any]) -> None:
    """Profile jackfield's side of every missed target; keep the summaries for the report."""
    wanted = [m for m in dict.fromkeys(misses) if m in PROFILES]
    found: dict[str, Any] = {}
    if wanted and ensure_pyinstrument():
        proc = start_worker("profile-jackfield", PYTHON, BENCH / "workers" / "jackfield_worker.py",
                            url)
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
    results["profiles"] = found


def top_imports(importtime: str, count: int = 12) -> list[list[Any]]:
    """Return the slowest top-level imports of a -X importtime log: [module, cumulative ms]."""
    rows = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        name = parts[2]
        depth = (len(name) - len(name.lstrip())) // 2
        if depth <= 1:
            rows.append([name.strip(), int(parts[1]) / 1000])
    return sorted(rows, key=lambda row: -row[1])[:count]


# -- the report ------------------------------------------------------------------------------

def cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def ratio_of(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios a[i] / b[i]."""
    return median([x / y for x, y in zip(a, b, strict=True) if y])


def judge(value: float, bound: float, at_most: bool) -> str:
    if value != value:  # nan: nothing measured
        return DASH
    return "met" if (value <= bound if at_most else value >= bound) else "**miss**"


def evaluate(results: dict[str, Any]) -> tuple[list[list[str]], dict[str, list[str]]]:
    """Return the summary table's rows, and the profiles wanted -> the misses they explain."""
    rows: list[list[str]] = []
    misses: dict[str, list[str]] = {}
    table = results.get("per_request", {})

    def runs(key: str, field: str) -> list[float]:
        return [r[field] for r in table.get(key, []) if r[field] is not None]

    def add(measure: str, ours: str, theirs: str, ratio: float | None, target: str,
            verdict: str, name: str = "") -> None:
        rows.append([measure, ours, theirs, DASH if ratio is None else f"{ratio:.2f}{TIMES}",
                     target, verdict])
        if verdict == "**miss**" and name:
            misses.setdefault(name, []).append(measure)

    if table:
        ours, raw = runs("jackfield/json/1", "p50"), runs("raw/json/1", "p50")
        r = ratio_of(ours, raw)
        add("1. latency, c=1, p50 (non-streamed)", f"{median(ours) * 1e3:.3f} ms",
            f"raw aiohttp {median(raw) * 1e3:.3f} ms", r, f"≤ {TARGETS['latency']:.2f}{TIMES}",
            judge(r, TARGETS["latency"], True), "latency")
        ours, raw = runs("jackfield/json/64", "rps"), runs("raw/json/64", "rps")
        r = ratio_of(ours, raw)
        add("1. throughput, c=64 (non-streamed)", f"{median(ours):,.0f} req/s",
            f"raw aiohttp {median(raw):,.0f} req/s", r, f"≥ {TARGETS['throughput']:.2f}{TIMES}",
            judge(r, TARGETS["throughput"], False), "throughput")
        ours, raw = runs("jackfield/sse/64", "rps"), runs("raw/sse/64", "rps")
        if ours and raw:
            r = ratio_of(ours, raw)
            add("1. throughput, c=64 (short reply, streamed)", f"{median(ours):,.0f} req/s",
                f"raw aiohttp {median(raw):,.0f} req/s", r, DASH, DASH)
    stream = results.get("streaming", {})
    if "jackfield" in stream and "raw" in stream:
        r = ratio_of(stream["jackfield"], stream["raw"])
        add(f"2. streaming, {SHORT_PIECES:,} pieces",
            f"{median(stream['jackfield']):,.0f} pieces/s",
            f"raw aiohttp {median(stream['raw']):,.0f} pieces/s", r,
            f"≥ {TARGETS['streaming']:.2f}{TIMES}", judge(r, TARGETS["streaming"], False),
            "streaming")
        cpu = results.get("streaming_cpu", {})
        if "jackfield" in cpu and "raw" in cpu:
            add("2. streaming, client CPU per piece", f"{median(cpu['jackfield']) * 1e6:.1f} µs",
                f"raw aiohttp {median(cpu['raw']) * 1e6:.1f} µs",
                ratio_of(cpu["jackfield"], cpu["raw"]), DASH, DASH)
    serve = results.get("server", {})
    if "serve/64" in serve:
        ours = [x["rps"] for x in serve["serve/64"]]
        direct = [x["rps"] for x in serve["direct/64"]]
        add("3. server throughput, c=64", f"{median(ours):,.0f} req/s via serve",
            f"emulator direct {median(direct):,.0f} req/s", ratio_of(ours, direct), DASH, DASH)
        ours = [x["p50"] for x in serve["serve/1"]]
        direct = [x["p50"] for x in serve["direct/1"]]
        added = median([a - b for a, b in zip(ours, direct, strict=True)]) * 1e3
        add("3. server latency, c=1, p50", f"{median(ours) * 1e3:.3f} ms via serve "
            f"(+{added:.3f} ms)", f"emulator direct {median(direct) * 1e3:.3f} ms",
            ratio_of(ours, direct), DASH, DASH)
    elif serve.get("skipped"):
        add("3. server", serve["skipped"], DASH, None, DASH, "not run")
    start = results.get("startup", {}).get("ms", {})
    if "jackfield models" in start:
        value = median(start["jackfield models"])
        add("4. `jackfield models`, wall", f"{value:.0f} ms", DASH, None,
            f"≤ {TARGETS['models_ms']:.0f} ms", judge(value, TARGETS["models_ms"], True),
            "models_ms")
    label = "python -c 'import jackfield'"
    if label in start:
        add("4. `import jackfield`, wall", f"{median(start[label]):.0f} ms",
            f"bare interpreter {median(start['python -c pass']):.0f} ms", None, DASH, DASH)
    mem = results.get("memory", {})
    if "jackfield" in mem:
        ours, raw = mem["jackfield"], mem["raw"]
        grown = (ours["open_kib"] - ours["base_kib"]) / 1024
        raw_grown = (raw["open_kib"] - raw["base_kib"]) / 1024
        add(f"5. memory, {MEMORY_STREAMS:,} open streams (RSS growth)",
            f"{grown:.1f} MiB ({ours['open_kib'] / 1024:.0f} MiB total)",
            f"raw aiohttp {raw_grown:.1f} MiB ({raw['open_kib'] / 1024:.0f} MiB total)",
            grown / raw_grown if raw_grown > 0 else None, DASH, DASH)
    # Each peer in the mode in which it returns a short reply, against jackfield non-streamed
    # (the call of measure 1); g4f works only streamed, so it is also set against jackfield
    # streamed, like for like. Every row is judged; none is left out.
    for peer, mode, ours_mode, label, profile in (
        ("g4f", "sse", "json", "g4f 6.5.0 AmigoChat (streamed; jackfield non-streamed)",
         "throughput"),
        ("g4f", "sse", "sse", "g4f 6.5.0 AmigoChat, both streamed", "sse-64"),
        ("litellm", "json", "json", "LiteLLM acompletion, both non-streamed", "throughput"),
    ):
        ours = [r["rps"] for r in table.get(f"jackfield/{ours_mode}/64", [])]
        theirs = [r["rps"] for r in table.get(f"{peer}/{mode}/64", [])]
        if ours and theirs:
            r = ratio_of(ours, theirs)
            add(f"6. vs {label}, c=64", f"{median(ours):,.0f} req/s",
                f"{median(theirs):,.0f} req/s", r, f"≥ {TARGETS['peers']:.0f}{TIMES}",
                judge(r, TARGETS["peers"], False), profile)
    return rows, misses


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def spread(values: list[float], fmt: Callable[[float], str]) -> str:
    if not values:
        return DASH
    return f"{fmt(median(values))} ({fmt(min(values))}{DASH}{fmt(max(values))})"


def write_report(results: dict[str, Any], argv: list[str]) -> None:
    rows, misses = evaluate(results)
    machine = results["machine"]
    out = [
        "# Benchmarks",
        "",
        "Generated by `bash bench/run.sh` (bench/run.py); regenerated on every run, never edited "
        "by hand. Every number is a median over the rounds; every ratio is the median of the "
        "per-round ratios (jackfield ÷ the other). Targets are recorded, not asserted.",
        "",
        f"- command: `bash bench/run.sh{(' ' + ' '.join(argv)) if argv else ''}`",
        f"- date: {results['date']}",
        f"- machine: {machine['nproc']} cores, {machine['cpu']}, Linux {platform.release()}, "
        f"load average {machine['load_before']} before the run and {machine['load_after']} "
        "after (other work on the machine shows up here)",
        f"- Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in machine["packages"].items()),
        *([f"- peers left out: {', '.join(results['left_out'])}"]
          if results.get("left_out") else []),
        f"- rounds: {results['rounds']} {TIMES} {results['seconds']:g} s per contender and "
        "concurrency, contenders interleaved in a rotating order",
        "",
        "## Summary",
        "",
        *markdown_table(["measure", "jackfield", "limit / peer", "ratio", "target", "result"],
                        rows),
        "",
    ]
    table = results.get("per_request", {})
    if table:
        names = {"raw": "raw aiohttp (the limit)", "jackfield": "jackfield Registry.complete()",
                 "g4f": "g4f 6.5.0 AmigoChat", "litellm": "LiteLLM acompletion"}
        detail = []
        seen = dict.fromkeys(k.rsplit("/", 1)[0] for k in table)
        for key in seen:
            worker, mode = key.split("/")
            one, many = table.get(f"{key}/1", []), table.get(f"{key}/64", [])

            def col(runs: list[dict[str, Any]], field: str, scale: float, unit: str,
                    places: int = 0) -> str:
                values = [r[field] * scale for r in runs if r[field] is not None]
                return spread(values, lambda v: f"{v:,.{places}f}{unit}")

            errors = sum(r["errors"] + r["wrong"] for r in one + many)
            refused = sum(r["server_non_2xx"] for r in one + many)
            detail.append([
                names.get(worker, worker), "streamed" if mode == "sse" else "non-streamed",
                col(one, "rps", 1, ""), col(one, "p50", 1e3, " ms", 3),
                col(many, "rps", 1, ""), col(many, "p50", 1e3, " ms", 1),
                col(many, "cpu_per_req", 1e6, " µs"), f"{errors} / {refused}",
            ])
        out += [
            "## 1 and 6. Short calls (`gpt-4o-mini`, a 13-word reply)",
            "",
            "Median (lowest to highest) over the rounds. CPU is the client process's CPU time "
            "per call at c=64. Errors: failed or wrong replies seen by the client / non-2xx "
            "answers counted by the emulator.",
            "",
            *markdown_table(["client", "mode", "req/s c=1", "p50 c=1", "req/s c=64", "p50 c=64",
                             "client CPU/call", "errors"], detail),
            "",
        ]
    stream = results.get("streaming", {})
    if stream:
        names = {"raw": "raw aiohttp line reading", "jackfield": "jackfield stream=True",
                 "g4f": "g4f 6.5.0 AmigoChat", "litellm": "LiteLLM acompletion(stream=True)"}
        cpu = results.get("streaming_cpu", {})
        out += [
            f"## 2. Streaming ({SHORT_PIECES:,} pieces, one SSE event each)", "",
            "The emulator writes every piece on its own; when the client is faster than that, "
            "pieces/s is the emulator's ceiling and the client's CPU per piece tells the "
            "clients apart.", "",
            *markdown_table(["client", "pieces/s", "client CPU per piece"], [
                [names[k], spread(v, lambda x: f"{x:,.0f}"),
                 spread([c * 1e6 for c in cpu.get(k, [])], lambda x: f"{x:.1f} µs")]
                for k, v in stream.items()]),
            "",
        ]
    serve = results.get("server", {})
    if "serve/1" in serve:
        rows3 = []
        for key, runs in serve.items():
            target, concurrency = key.split("/")
            via = target == "serve"
            rows3.append([
                "jackfield serve" if via else "emulator directly", concurrency,
                spread([r["rps"] for r in runs], lambda x: f"{x:,.0f}"),
                spread([r["p50"] * 1e3 for r in runs], lambda x: f"{x:.3f} ms"),
                spread([r["serve_cpu_per_req"] * 1e6 for r in runs], lambda x: f"{x:.0f} µs")
                if via else DASH,
                spread([r["emulator_cpu_per_req"] * 1e6 for r in runs],
                       lambda x: f"{x:.0f} µs")])
        out += ["## 3. Server", "",
                f"Load generator: {results.get('loadgen', '')}. CPU per request is read from "
                "/proc/PID/stat of the server processes (10 ms ticks).", "",
                *markdown_table(["through", "concurrency", "req/s", "p50",
                                 "jackfield serve CPU/req", "emulator CPU/req"], rows3), ""]
    start = results.get("startup", {})
    if start.get("ms"):
        out += ["## 4. Start-up (wall time of a fresh process, warm caches)", "",
                *markdown_table(["command", "wall"], [
                    [f"`{k}`", spread(v, lambda x: f"{x:.0f} ms")]
                    for k, v in start["ms"].items()]),
                ""]
        for label, why in start.get("failed", {}).items():
            out += [f"`{label}` failed: {why}", ""]
    mem = results.get("memory", {})
    if mem:
        rows5 = [[k, f"{v['base_kib'] / 1024:.1f} MiB", f"{v['open_kib'] / 1024:.1f} MiB",
                  f"{(v['open_kib'] - v['base_kib']) / v['streams']:.1f} KiB",
                  f"{v['started']} / {v['still_open']}", f"{v['open_seconds']:.1f} s",
                  str(v["errors"])] for k, v in mem.items()]
        out += [f"## 5. Memory ({MEMORY_STREAMS:,} concurrent open streams, one process)", "",
                *markdown_table(["client", "RSS before", "RSS with streams open", "per stream",
                                 "delivering / still open", "time to open all", "errors"],
                                rows5), ""]
    found = results.get("profiles", {})
    if found:
        out += ["## Profiles of the missed targets", "",
                "pyinstrument, sampling jackfield's worker process while it repeats the missed "
                "measurement (full trees in bench/out/). Self time by area of the code, then the "
                "functions with the most self time:", ""]
        for miss, summary in found.items():
            out += [f"### {summary['what']}", "",
                    "For: " + "; ".join(misses.get(miss, [])) + ".", ""]
            if "importtime" in summary:
                out += ["Slowest imports (`python -X importtime`, cumulative):", "",
                        *markdown_table(["module", "ms"], [[f"`{m}`", f"{ms:.1f}"]
                                                            for m, ms in summary["importtime"]]),
                        ""]
                continue
            out += [*markdown_table(["area", "share of samples"], [
                        [area, f"{share:.0%}"] for area, share in summary["areas"]]), "",
                    *markdown_table(["function", "share of samples"], [
                        [f"`{fn}`", f"{share:.1%}"] for fn, share in summary["functions"]]), ""]
    out += ["## How it is measured", "", *NOTES]
    REPORT.write_text("\n".join(out).rstrip() + "\n")
    say(f"wrote {REPORT.relative_to(ROOT)}")


NOTES = [
    "- **Processes.** The AmigoChat emulator (plugins/amigochat, `create_app()`) runs in a "
    "process of its own (bench/emulator_server.py): a server sharing the client's event loop "
    "would charge its CPU to the client. Each contender is a worker process "
    "(bench/workers/, bench/peers/) that bench/run.py commands over a pipe, one measurement at "
    "a time. On a 2-core machine the client and the emulator each get a core.",
    "- **Interleaving.** Every round runs every contender once per concurrency, in an order "
    "rotated each round; ratios are the median of per-round ratios.",
    "- **The limit.** bench/workers/raw_worker.py: one shared aiohttp session, the same "
    "headers and JSON body jackfield sends (fresh chatId and device uuid per call), "
    "`json.loads` of the body; streams read with aiohttp's line reader and each `data:` "
    "payload parsed.",
    "- **jackfield.** `Registry.discover(config={'amigochat': {'base_url': ...}})` (every "
    "plugin of the project venv: aichats, amigochat and the tests' example plugin), then "
    "`await registry.complete('gpt-4o-mini', messages)` (or `stream=True`), defaults otherwise.",
    "- **g4f 6.5.0.** `pip install g4f==6.5.0` into bench/.venvs/g4f (no extras: no "
    "curl_cffi, so its requests go through aiohttp). `g4f.Provider.not_working` cannot be "
    "imported (its `har` subpackage imports the missing `g4f.Provider.deprecated."
    "LegacyLMArena`), so bench/peers/g4f_worker.py loads `not_working/AmigoChat.py` by path "
    "and sets `chat_api_endpoint` and `image_api_endpoint` to the emulator. What it sends for "
    "gpt-4o-mini (personaId `amigo`, the device headers, the ten body fields) passes the "
    "emulator's checks unchanged; it also sends `priority`, `sec-ch-ua*`, a Linux user-agent "
    "and referer `https://amigochat.io/chat//`, which the emulator does not check. Run with "
    "`stream=True`; it opens a new session (and connection) for every call and retries any "
    "failure three times silently, hence the emulator-side error count.",
    "- **LiteLLM.** bench/.venvs/litellm, `litellm.acompletion(model='openai/gpt-4o-mini', "
    "api_base=<emulator>/v1, api_key='x', ...)` with `LITELLM_LOCAL_MODEL_COST_MAP=True`. The "
    "AmigoChat protocol needs fields OpenAI's request lacks, so they go in `extra_body` "
    "(chatId, personaId, stream) and `extra_headers` (the device headers), and the protocol's "
    "sampling defaults are passed as ordinary arguments.",
    "- **Server.** `jackfield serve` in its own process, the emulator in another, and the load "
    "generator in a third; direct load goes to the emulator with the AmigoChat body, load "
    "through the server goes to its OpenAI-shaped `/v1/chat/completions`.",
    "- **Start-up.** Wall time of fresh processes with PYTHONDONTWRITEBYTECODE unset, after a "
    "warm-up run of each command.",
    f"- **Memory.** A fresh worker process opens {MEMORY_STREAMS:,} streams at once through one "
    "Registry (`Limits(max_connections=1100)`; the default pool of 100 would queue them) or "
    "through one raw aiohttp session; VmRSS is read from /proc once every stream has "
    "delivered its first piece (the highest of ten samples over a second). The streams come "
    f"from a second emulator process whose SSE writes are paced by the harness ({MEMORY_PACE:g} s "
    "before each write, bench/emulator_server.py --pace) so they stay open; the emulator's "
    "checks are unchanged.",
]


# -- main ------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0, help="per contender and round")
    parser.add_argument("--no-peers", action="store_true", help="skip g4f and LiteLLM")
    parser.add_argument("--report", action="store_true",
                        help="rewrite BENCHMARKS.md from bench/out/results.json only")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.report:
        saved = json.loads((OUT / "results.json").read_text())
        write_report(saved, saved.get("argv", []))
        return
    argv = sys.argv[1:]
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    peers = [] if args.no_peers else [peer for peer in PEERS if ensure_peer(peer)]
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "rounds": args.rounds, "seconds": args.seconds, "argv": argv,
        "left_out": [] if args.no_peers else [f"{p} (could not be installed)"
                                              for p in PEERS if p not in peers],
    }
    began = time.monotonic()
    with emulator() as (url, emulator_pid):
        workers: dict[str, Proc] = {}
        try:
            workers["raw"] = start_worker("raw", PYTHON, BENCH / "workers" / "raw_worker.py", url)
            workers["jackfield"] = start_worker("jackfield", PYTHON,
                                                BENCH / "workers" / "jackfield_worker.py", url)
            for peer in peers:
                workers[peer] = start_worker(peer, peer_python(peer),
                                             BENCH / "peers" / f"{peer}_worker.py", url)
            versions = {}
            for peer in peers:  # the peers' own packages; ours come from this venv
                versions[peer] = workers[peer].versions[peer]  # type: ignore[attr-defined]
            say("1 and 6: short calls ...")
            per_request(workers, url, args.rounds, args.seconds, results)
            say("2: streaming ...")
            streaming(workers, args.rounds, results)
        finally:
            for proc in workers.values():
                proc.stop()
        say("3: server ...")
        server(url, emulator_pid, args.rounds, args.seconds, results)
        say("4: start-up ...")
        startup(peers, max(5, 2 * args.rounds), results)
        say("5: memory ...")
        memory(results)
        _, misses = evaluate(results)
        if misses:
            say(f"profiling the misses: {', '.join(misses)} ...")
        profiles(url, list(misses), results)
    results["machine"] = {
        "nproc": os.cpu_count(), "cpu": cpu_model(),
        "load_before": " ".join(load_before),
        "load_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "packages": {name: versions.get(name) or package_version(name)
                     for name in ("jackfield", "aiohttp", "pluggy", "attrs", "g4f", "litellm")},
    }
    results["elapsed_s"] = time.monotonic() - began
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    write_report(results, argv)
    say(f"done in {results['elapsed_s']:.0f} s")


if __name__ == "__main__":
    main()
