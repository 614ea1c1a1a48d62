"""CPU per request of `jackfield serve` with and without --metrics, rounds alternated.

Both servers run at once over the AmigoChat emulator (each process of its own); each round
sends 800 non-streamed chat requests at c=16 to one, then the other, and reads the server
process's CPU time from /proc. bench/run.py's measure 3 runs serve without flags; this is
the same load with metrics on and off. Usage: python bench/observers_serve.py [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
from typing import Any

import aiohttp
from harness.common import BIN
from harness.procs import cpu_seconds, emulator

REQUESTS, CONCURRENCY = 800, 16


def start(url: str, metrics: bool) -> tuple[subprocess.Popen[str], str]:
    env = os.environ | {"JACKFIELD_AMIGOCHAT_BASE_URL": url,
                        "JACKFIELD_LOAD_PLUGINS": "jackfield-amigochat"}
    argv = [str(BIN / "jackfield"), "serve", "--port", "0", "--no-access-log"]
    proc = subprocess.Popen(argv + (["--metrics"] if metrics else []), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdout is not None
    found = re.search(r"(http://127\.0\.0\.1:\d+)/v1", proc.stdout.readline())
    assert found, "jackfield serve did not start"
    return proc, found.group(1)


async def load(url: str, requests: int) -> None:
    body: dict[str, Any] = {"model": "gpt-4o-mini",
                            "messages": [{"role": "user", "content": "hello there"}]}
    gate = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession() as http:
        async def one() -> None:
            async with gate, http.post(url + "/v1/chat/completions", json=body) as reply:
                assert reply.status == 200, await reply.text()
                await reply.read()

        await asyncio.gather(*(one() for _ in range(requests)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with emulator() as (upstream, _pid):
        servers = {metrics: start(upstream, metrics) for metrics in (False, True)}
        try:
            for _proc, url in servers.values():
                asyncio.run(load(url, 200))  # warm up
            cpu: dict[bool, list[float]] = {False: [], True: []}
            for round_number in range(args.rounds):
                for metrics in (False, True) if round_number % 2 == 0 else (True, False):
                    proc, url = servers[metrics]
                    before = cpu_seconds(proc.pid)
                    asyncio.run(load(url, REQUESTS))
                    cpu[metrics].append((cpu_seconds(proc.pid) - before) / REQUESTS * 1e6)
        finally:
            for proc, _url in servers.values():
                proc.send_signal(signal.SIGINT)
                proc.wait(10)
    for metrics, values in cpu.items():
        shown = ", ".join(f"{value:.0f}" for value in values)
        print(f"serve{' --metrics' if metrics else ''}: {statistics.median(values):.0f} us "
              f"CPU per request ({shown})")


if __name__ == "__main__":
    main()
