"""The command loop every benchmark client runs: jackfield, raw aiohttp and the peers alike.

A worker is one interpreter (in the project's virtual environment or a peer's) holding one
client. It reads one JSON command per line on stdin and answers one JSON line, so that
bench/run.py can drive every contender round by round while each runs alone on its own event
loop. Only the standard library is used here: the peers' environments have nothing else of
ours. Library chatter on stdout is sent to stderr so it cannot corrupt the answers.

Commands: {"op": "rate", "mode": "json"|"sse", "concurrency": C, "seconds": S},
{"op": "stream", "pieces": N, "repeat": K}, {"op": "memory", "streams": N, "pieces": P,
"census": false|true (tracemalloc: what the open streams hold, by area and line)},
{"op": "profile", "command": {...}, "out": PATH} (pyinstrument, project venv only),
{"op": "ttft", "mode": "direct"|"serve"|"floor", "count": N} (the load generator only: the median
time to the first token of N sequential streamed calls), {"op": "quit"}.
BENCH_LOOP=uvloop runs the worker on uvloop (the jackfield[speedups] contender).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, Protocol

SHORT_PROMPT = "Say hello in five words."
EXPECTED = "Hello from the AmigoChat emulator"  # in every short reply the emulator sends
MODEL = "gpt-4o-mini"
PERSONA = "amigo"  # gpt-4o-mini's personaId in the AmigoChat protocol notes
MAX_ERRORS = 50  # a contender that keeps failing stops early; its errors are reported


class Client(Protocol):
    """What a worker script provides."""

    name: str

    async def start(self, url: str) -> None:
        """Set up against the emulator at url."""

    async def one(self, mode: str) -> str:
        """Make one short call ("json": not streamed, "sse": streamed); return its text."""

    async def stream(self, prompt: str, first: Callable[[], None] | None = None) -> int:
        """Read one streamed reply to its end; return the pieces received; call first()
        once the first piece is in."""

    async def close(self) -> None:
        """Release everything."""

    def versions(self) -> dict[str, str]:
        """Return the versions of the packages that matter to this client."""


def rss_kib() -> int:
    """Return this process's resident set size in KiB (VmRSS of /proc/self/status)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


async def rate(client: Client, mode: str, concurrency: int, seconds: float,
               collect: bool = True) -> dict[str, Any]:
    """Run `concurrency` loops of one() for `seconds`; return counts, rate and latencies."""
    latencies: list[float] = []
    errors: list[str] = []
    wrong = 0
    deadline = 0.0

    async def loop() -> None:
        nonlocal wrong
        while time.perf_counter() < deadline and len(errors) < MAX_ERRORS:
            began = time.perf_counter()
            try:
                text = await client.one(mode)
            except Exception as error:  # noqa: BLE001 - every failure is counted and shown
                errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            latencies.append(time.perf_counter() - began)
            if EXPECTED not in text:
                wrong += 1

    if collect:
        gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    deadline = wall0 + seconds
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    count = len(latencies)
    latencies.sort()
    return {
        "count": count, "elapsed": elapsed, "rps": count / elapsed if elapsed else 0.0,
        "p50": statistics.median(latencies) if latencies else None,
        "p90": latencies[int(0.9 * (count - 1))] if latencies else None,
        "cpu_per_req": cpu / count if count else None,
        "errors": len(errors), "first_error": errors[0] if errors else None, "wrong": wrong,
    }


async def stream(client: Client, pieces: int, repeat: int,
                 collect: bool = True) -> dict[str, Any]:
    """Read `repeat` replies of `pieces` pieces one after the other; time each."""
    times, cpus, counts = [], [], []
    for _ in range(repeat):
        if collect:
            gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        counts.append(await client.stream(f"pieces:{pieces}"))
        times.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    return {"times": times, "cpus": cpus, "counts": counts,
            "pieces_per_s": [pieces / t for t in times],
            "complete": all(c == pieces for c in counts)}


async def memory(client: Client, streams: int, pieces: int,
                 census: bool = False) -> dict[str, Any]:
    """Open `streams` streams at once; sample resident memory once every one has delivered.
    census: also trace what was allocated meanwhile and is still alive (tracemalloc)."""
    gc.collect()
    if census:
        import tracemalloc

        tracemalloc.start()
        traced = tracemalloc.take_snapshot()
    base = rss_kib()
    started = 0
    all_started = asyncio.Event()
    errors: list[str] = []

    def first() -> None:
        nonlocal started
        started += 1
        if started == streams:
            all_started.set()

    async def one() -> None:
        try:
            await client.stream(f"pieces:{pieces}", first)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - reported, and the wait below gives up
            errors.append(f"{type(error).__name__}: {error}"[:300])
            all_started.set()

    wall0 = time.perf_counter()
    tasks = [asyncio.create_task(one()) for _ in range(streams)]
    try:
        async with asyncio.timeout(120):
            await all_started.wait()
        open_after = time.perf_counter() - wall0
        held = _census(traced, streams) if census else None
        samples = []
        for _ in range(10):  # one second of samples while the streams keep delivering
            samples.append(rss_kib())
            await asyncio.sleep(0.1)
        still_open = sum(not t.done() for t in tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.2)
    gc.collect()
    return {"base_kib": base, "open_kib": max(samples), "streams": streams, "started": started,
            "still_open": still_open, "open_seconds": open_after, "after_close_kib": rss_kib(),
            "errors": len(errors), "first_error": errors[0] if errors else None,
            "census": held}


def _census(before: Any, streams: int, top: int = 12) -> dict[str, Any]:
    """Return the bytes per stream allocated since before and still alive, by area of the code
    that allocated them and by line (the lines with the most)."""
    import tracemalloc

    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    areas: dict[str, float] = {}
    for stat in after.compare_to(before, "filename"):
        path = stat.traceback[0].filename
        area = next((area for key, area in AREAS if key in path), "other")
        areas[area] = areas.get(area, 0.0) + stat.size_diff / streams
    lines = [[f"{_short(stat.traceback[0].filename)}:{stat.traceback[0].lineno}",
              stat.size_diff / streams]
             for stat in after.compare_to(before, "lineno")[:top]]
    return {"areas": sorted(areas.items(), key=lambda kv: -kv[1]), "lines": lines}


def _short(path: str) -> str:
    """Return path from its package on (site-packages/aiohttp/x.py -> aiohttp/x.py)."""
    for marker in ("site-packages/", "/src/", "/core/", "/bench/", "/lib/python3"):
        if marker in path:
            tail = path.rsplit(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3" else tail
    return path


# Where a sample's own time is charged, by the path of the file its function is in.
AREAS = (
    ("/jackfield_amigochat/", "amigochat plugin"), ("/jackfield/", "jackfield core"),
    ("/aiohttp/", "aiohttp"), ("/yarl/", "yarl / multidict"), ("/multidict/", "yarl / multidict"),
    ("/pluggy/", "pluggy"), ("/attr/", "attrs"), ("/asyncio/", "asyncio event loop"),
    ("/json/", "json"), ("/uuid.py", "uuid"), ("/selectors.py", "asyncio event loop"),
    ("/workers/", "benchmark harness"),
)


def _area(frame: Any, parent_area: str) -> str:
    if frame.function.endswith("epoll.poll") or frame.function.endswith("select.select"):
        return "waiting for I/O (epoll)"
    path = frame.file_path or ""
    if path.startswith("<"):  # a built-in: charged to the code that called it
        return parent_area
    return next((area for key, area in AREAS if key in path), "other")


def summarize(root: Any, top: int = 15) -> dict[str, Any]:
    """Return each area's and the top functions' shares of the samples' own time."""
    areas: dict[str, float] = {}
    functions: dict[str, float] = {}
    total = root.time or 1.0
    stack = [(root, "other")]
    while stack:
        frame, parent_area = stack.pop()
        if frame.is_synthetic:
            continue  # a [self] or [await] leaf: its time is its parent's own time
        area = _area(frame, parent_area)
        own = frame.time - sum(c.time for c in frame.children if not c.is_synthetic)
        areas[area] = areas.get(area, 0.0) + own
        where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        functions[where] = functions.get(where, 0.0) + own
        stack.extend((child, area) for child in frame.children)
    return {
        "seconds": root.time,
        "areas": [[k, v / total] for k, v in sorted(areas.items(), key=lambda kv: -kv[1])],
        "functions": [[k, v / total]
                      for k, v in sorted(functions.items(), key=lambda kv: -kv[1])[:top]],
    }


async def profile(client: Client, command: dict[str, Any], out: str) -> dict[str, Any]:
    """Run command under pyinstrument; write its text and HTML reports next to out."""
    # Installed into the project venv by run.py for profiling runs only, so mypy may or may
    # not find it; unused-ignore keeps --strict quiet in both cases.
    from pyinstrument import Profiler  # type: ignore[import-not-found, unused-ignore]

    # async_mode disabled: the samples show the one thread as it is, waiting included.
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    gc.collect()  # here, not inside the profile: the harness's own work is not the subject
    profiler.start()
    result = await dispatch(client, command | {"collect": False})
    session = profiler.stop()
    with open(out, "w") as file:
        file.write(profiler.output_text(unicode=False, color=False, show_all=False))
    with open(out.removesuffix(".txt") + ".html", "w") as file:
        file.write(profiler.output_html())
    return {"result": result, "out": out, "summary": summarize(session.root_frame())}


async def dispatch(client: Client, command: dict[str, Any]) -> dict[str, Any]:
    op = command["op"]
    if op == "rate":
        return await rate(client, command["mode"], command["concurrency"], command["seconds"],
                          command.get("collect", True))
    if op == "stream":
        return await stream(client, command["pieces"], command.get("repeat", 1),
                            command.get("collect", True))
    if op == "memory":
        return await memory(client, command["streams"], command["pieces"],
                            command.get("census", False))
    if op == "profile":
        return await profile(client, command["command"], command["out"])
    if op == "ttft":  # only the load generator has first_token()
        times = [await client.first_token(command["mode"])  # type: ignore[attr-defined]
                 for _ in range(command["count"])]
        return {"p50": statistics.median(times), "count": len(times),
                "p90": sorted(times)[int(len(times) * 0.9)]}
    raise ValueError(f"unknown op {op!r}")


async def _serve(client: Client, url: str, answer: Callable[[dict[str, Any]], None]) -> None:
    await client.start(url)
    answer({"ready": True, "name": client.name, "versions": client.versions(),
            "rss_kib": rss_kib()})
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or not line.strip():
                break
            command = json.loads(line)
            if command["op"] == "quit":
                break
            try:
                answer(await dispatch(client, command))
            except Exception as error:  # noqa: BLE001 - the driver shows it and carries on
                traceback.print_exc()
                answer({"failed": f"{type(error).__name__}: {error}"[:500]})
    finally:
        await client.close()


def run(client: Client) -> None:
    """Serve commands for client against the emulator URL given as the first argument."""
    # Answers go to the original stdout; anything the libraries print goes to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def answer(data: dict[str, Any]) -> None:
        answers.write(json.dumps(data) + "\n")
        answers.flush()

    if os.environ.get("BENCH_LOOP") == "uvloop":  # the jackfield[speedups] contender
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        uvloop.run(_serve(client, sys.argv[1], answer))
    else:
        asyncio.run(_serve(client, sys.argv[1], answer))
