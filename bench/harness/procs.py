"""The child processes of a run: contenders (workers) and the emulator, over JSON lines.

Every contender is a worker process of its own (bench/workers/, bench/peers/) that the driver
commands over a pipe, one measurement at a time, so no two contenders ever share the CPU.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from harness.common import BENCH, OUT, PEER_ENV, PYTHON, ROOT, WORKERS


class Proc:
    """A child process speaking JSON lines: we write commands, it answers one line each."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.label = label
        self.versions: dict[str, str] = {}  # what a worker reports when it is ready
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
    """Run the AmigoChat emulator in its own process; yield its base URL and process id.

    A server sharing the client's event loop would be charged to the client.
    """
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
    env["PYTHONPATH"] = str(WORKERS)
    # The peers must not reach the internet, and neither must we: no proxies from outside.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    return env


def start_worker(label: str, python: Path, script: Path, url: str, *args: str,
                 env: dict[str, str] | None = None) -> Proc:
    proc = Proc(label, [str(python), str(script), url, *args], worker_env() | (env or {}))
    ready = proc.read(120)
    assert ready.get("ready"), ready
    proc.versions = ready["versions"]
    return proc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) process pid has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def listening(argv: Sequence[str | Path], health: str, log_name: str, env: dict[str, str],
              stop: signal.Signals = signal.SIGINT, wait: float = 60) -> Iterator[int]:
    """Run a server process until it answers GET health; yield its process id; stop it."""
    log = (OUT / log_name).open("w")
    proc = subprocess.Popen([str(arg) for arg in argv], stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                urllib.request.urlopen(health, timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{Path(argv[0]).name} did not start: "
                                     f"see bench/out/{log_name}") from None
                time.sleep(0.2)
        yield proc.pid
    finally:
        proc.send_signal(stop)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def tree(pid: int) -> list[int]:
    """Return pid and every live process descended from it (a server's workers)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, todo = [pid], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        todo += children
    return found


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU time pid and its live descendants have used so far."""
    total = 0.0
    for member in tree(pid):
        with suppress(OSError):
            total += cpu_seconds(member)
    return total


def tree_memory_kib(pid: int, field: str = "VmRSS") -> int:
    """Return the sum of a /proc/PID/status field (VmRSS now, VmHWM the peak) over the tree."""
    total = 0
    for member in tree(pid):
        with suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
    return total
