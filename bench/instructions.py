"""Instructions per short call, counted by valgrind (callgrind): raw aiohttp and jackfield.

Wall and CPU times on a shared 2-core machine move by ±15% between runs; instruction counts
do not (the same binary, input and environment give the same count whatever else runs). Each
contender runs twice under callgrind, once with N calls at concurrency 64 and once with none,
so that start-up and imports cancel out; the AmigoChat emulator runs natively in its own
process. --also PYTHON counts the jackfield of another checkout's venv beside this one, for a
before/after of a change on the hot path. --serve counts `jackfield serve` instead: the server
runs under callgrind and a native aiohttp client posts N short chat calls to it at c=16 (and,
for the baseline, none), so the figure is the server's instructions per proxied call, its own
call to the emulator included; beside it serve without its access log and without an API key
(the features that can be switched off), and the floor proxy (bench/peers/floor_proxy.py).
Needs valgrind (Debian's package).
Usage: python bench/instructions.py [--calls 1000] [--serve [--stream]] [--also PYTHON]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import callgrind

BENCH = Path(__file__).resolve().parent
CLIENT = '''
import asyncio, sys
MESSAGES = [{"role": "user", "content": "hello there how are you"}]
async def main(kind, url, n):
    if kind == "raw":
        import aiohttp
        from jackfield import Registry
        registry = Registry.discover(config={"amigochat": {"base_url": url}}, environ={})
        caller = registry._get_caller()
        built = caller.build(registry._prepare("gpt-4o-mini", MESSAGES, False, {}).calls[0])
        session = aiohttp.ClientSession()
        async def call():
            async with session.post(built.url, headers=dict(built.headers),
                                    json=built.json) as response:
                await response.json()
    else:
        from jackfield import Registry
        registry = Registry.discover(config={"amigochat": {"base_url": url}}, environ={})
        async def call():
            await registry.complete("gpt-4o-mini", MESSAGES)
    async def loop(count):
        for _ in range(count):
            await call()
    # 64 loops, as the benchmark's workers run (bench/workers/benchloop.py): not n tasks at
    # once behind a semaphore, whose pending coroutines the garbage collector would walk.
    await asyncio.gather(*(loop(2) for _ in range(64)))  # warm: the pool, every code path
    await asyncio.gather(*(loop(n // 64 + (i < n % 64)) for i in range(64)))
    if kind == "raw":
        await session.close()
    await registry.aclose()
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
'''

LOADER = '''
import asyncio, sys, aiohttp
async def main(base, n, stream):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}],
            "stream": stream == "stream"}
    async with aiohttp.ClientSession(headers={"authorization": "Bearer bench-key"}) as session:
        async def loop(count):
            for _ in range(count):
                async with session.post(base + "/v1/chat/completions", json=body) as reply:
                    assert reply.status == 200, await reply.text()
                    await reply.read()
        # 16 loops, not 64: under callgrind, 64 calls at once would time out.
        await asyncio.gather(*(loop(7) for _ in range(16)))  # warm: the pool, every code path
        await asyncio.gather(*(loop(n // 16 + (i < n % 16)) for i in range(16)))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
'''
SERVE = "import sys; from jackfield._cli.main import main; sys.argv[0] = 'jackfield'; main()"


# What --serve counts besides `jackfield serve` as the benchmark runs it: serve without the
# features that can be switched off, and the floor proxy (bench/peers/floor_proxy.py), the
# least an aiohttp proxy of this call must do. (label, arguments after --port, environment.)
SERVE_VARIANTS: tuple[tuple[str, tuple[str, ...], dict[str, str]], ...] = (
    ("jackfield serve", (), {"JACKFIELD_API_KEY": "bench-key"}),
    ("  --no-access-log", ("--no-access-log",), {"JACKFIELD_API_KEY": "bench-key"}),
    ("  no API key (no auth middleware)", (), {}),
    ("  --no-access-log, no API key", ("--no-access-log",), {}),
)
FLOOR = "floor proxy (featureless aiohttp)"


def count_serve(python: str, url: str, calls: int, workdir: str, label: str,
                extra: tuple[str, ...] = (), environ: dict[str, str] | None = None,
                stream: bool = False) -> int:
    """Return the instructions callgrind collected for a server answering calls: `jackfield
    serve` with extra arguments, or the floor proxy when label is FLOOR."""
    env = serve_env(url, environ)
    if label == FLOOR:
        env["PYTHONPATH"] = str(BENCH / "workers")

        def command(port: int) -> list[str]:
            return [python, str(BENCH / "peers" / "floor_proxy.py"), url, str(port)]
    else:
        def command(port: int) -> list[str]:
            return [python, "-c", SERVE, "serve", "--host", "127.0.0.1", "--port", str(port),
                    *extra]
    return count_server(command, env, calls, workdir, f"{python} {label}", stream)


def serve_env(url: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a counted server: its AmigoChat at the emulator at url, the
    hash seed fixed, no API key unless environ sets one."""
    return {k: v for k, v in os.environ.items() if k != "JACKFIELD_API_KEY"} | {
        "PYTHONHASHSEED": "0", "JACKFIELD_AMIGOCHAT_BASE_URL": url} | (environ or {})


def count_server(command: Callable[[int], list[str]], env: dict[str, str], calls: int,
                 workdir: str, label: str, stream: bool = False) -> int:
    """Return the instructions callgrind collected for the server command(port) makes while
    the native LOADER posts calls short chat calls to it (none: the baseline)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = Path(workdir) / f"callgrind.serve.{abs(hash((label, calls)))}.out"
    # Its stderr (the access log, then callgrind's summary) goes to a file: a pipe read only
    # at the end fills after ~500 access lines and blocks the server mid-run.
    errors = (Path(workdir) / f"{out.name}.stderr").open("w+")
    server = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                               *command(port)], stdout=subprocess.DEVNULL, stderr=errors,
                              text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # a server under callgrind starts 50x slower
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=30).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{label} did not start under callgrind") from None
                time.sleep(1)
        subprocess.run([sys.executable, "-c", LOADER, base, str(calls),
                        "stream" if stream else "whole"], check=True)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=600)
        errors.seek(0)
        stderr = errors.read()
        errors.close()
    return callgrind.collected(stderr, label)


def count(python: str, kind: str, url: str, calls: int, workdir: str) -> int:
    """Return the instructions callgrind collected for one client run."""
    return callgrind.count([python, str(Path(workdir) / "client.py"), kind, url, str(calls)],
                           f"{python} {kind}", workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--also", help="another venv's python whose jackfield is counted too")
    parser.add_argument("--serve", action="store_true",
                        help="count `jackfield serve` per proxied call instead of the library")
    parser.add_argument("--stream", action="store_true",
                        help="with --serve: the proxied calls are streamed (SSE)")
    args = parser.parse_args()
    emulator = subprocess.Popen([sys.executable, str(BENCH / "emulator_server.py")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    contenders = [("raw aiohttp", sys.executable, "raw"), ("jackfield", sys.executable, "jf")]
    if args.also:
        contenders.append((f"jackfield of {args.also}", args.also, "jf"))
    try:
        assert emulator.stdout is not None
        url = json.loads(emulator.stdout.readline())["url"]
        with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(2) as pool:
            (Path(workdir) / "client.py").write_text(CLIENT)
            if args.serve:
                servers = [(label, sys.executable, extra, environ)
                           for label, extra, environ in SERVE_VARIANTS]
                servers.append((FLOOR, sys.executable, (), {}))
                if args.also:
                    servers.append((f"jackfield serve of {args.also}", args.also, (),
                                    SERVE_VARIANTS[0][2]))
                contenders = [(label, python, "serve") for label, python, _, _ in servers]
                jobs = {(label, n): pool.submit(count_serve, python, url, n, workdir, label,
                                                extra, environ, args.stream)
                        for label, python, extra, environ in servers for n in (0, args.calls)}
            else:
                jobs = {(label, n): pool.submit(count, python, kind, url, n, workdir)
                        for label, python, kind in contenders for n in (0, args.calls)}
            totals = {key: job.result() for key, job in jobs.items()}
    finally:
        assert emulator.stdin is not None
        emulator.stdin.close()
        emulator.wait(10)
    per_call = {label: (totals[(label, args.calls)] - totals[(label, 0)]) / args.calls
                for label, _, _ in contenders}
    if args.serve:
        print(f"instructions per proxied {'streamed ' if args.stream else ''}call "
              f"({args.calls} calls at c=16, callgrind)")
        floor = per_call[FLOOR]
        for label, value in per_call.items():
            print(f"  {label:44} {value / 1e6:7.3f} M  ({value / floor:.2f}x the floor)")
        return
    raw = per_call["raw aiohttp"]
    print(f"instructions per short call ({args.calls} calls at c=64, callgrind)")
    for label, value in per_call.items():
        print(f"  {label:40} {value / 1e6:7.3f} M  ({value / raw:.2f}x raw)")


if __name__ == "__main__":
    main()
