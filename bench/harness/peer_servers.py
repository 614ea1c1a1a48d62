"""Measure 7: `jackfield serve` against the peers' servers, side by side on the same emulator.

The LiteLLM proxy (litellm[proxy], its OpenAI route's api_base at the emulator) and gpt4free's
API server (g4f[api], its AmigoChat provider pointed at the emulator), each installed into a
venv of its own under bench/.venvs/ and started by its launcher in bench/peers/, run beside
`jackfield serve` (the default install and, when it can be installed, jackfield[speedups]).
All of them are started once and stay up; wrk (one thread) loads one at a time, in an order
that rotates each round, at concurrency 1, 64 and 256 (2, 2 and 4 s at least), non-streamed
and streamed; the emulator called directly is the limit. Every server keeps its own defaults
(access logs included).

g4f's AmigoChat returns an empty reply to a non-streamed call (it reads `data:` lines only),
so g4f is measured streamed only: a reply counts only if it is a 200 that carries the
emulator's text (streamed: a word of it and `data: [DONE]`). Per load: requests per second,
wrk's p50/p99, the CPU the server's process tree used per request (/proc, 10 ms ticks). Per
server: resident memory (the tree's VmRSS) once warmed up and its peak (VmHWM) after the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from harness.common import BENCH, DASH, SERVE_KEY, median, rotated, say
from harness.environment import ensure_speedups, ensure_venv, ensure_wrk, peer_python
from harness.procs import (
    cpu_seconds,
    free_port,
    listening,
    tree_cpu_seconds,
    tree_memory_kib,
    worker_env,
)
from harness.server import direct_call, openai_call, serve_loop_args, serving, wrk_load

PEER_SERVERS = {"litellm-proxy": "litellm[proxy]==1.106.2", "g4f-api": "g4f[api]==6.5.0"}
CONCURRENCIES = (1, 64, 256)
# Each load lasts at least this long: the peers answer so slowly at c=256 (seconds a request)
# that a one-second load would end before the first reply.
LOAD_SECONDS = {1: 2.0, 64: 2.0, 256: 4.0}
MODES = ("json", "sse")
EXPECT = {"json": ("Hello from the AmigoChat emulator",), "sse": ("emulator", "data: [DONE]")}
LABELS = {"direct": "emulator directly (the limit)", "serve": "jackfield serve",
          "speedups": "jackfield serve, jackfield[speedups]",
          "litellm-proxy": "LiteLLM proxy 1.106.2", "g4f-api": "g4f api 6.5.0"}

Call = tuple[str, dict[str, Any], dict[str, str]]  # endpoint, body, headers


@contextmanager
def peer_server(name: str, url: str) -> Iterator[tuple[str, int]]:
    """Run a peer's server by its launcher in bench/peers/; yield its URL and process id."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    script = BENCH / "peers" / f"{name.replace('-', '_')}_server.py"
    argv: list[str | Path] = [peer_python(name), script, url, str(port)]
    argv += [SERVE_KEY] if name == "litellm-proxy" else []
    health = base + ("/health/liveliness" if name == "litellm-proxy" else "/v1/models")
    with listening(argv, health, f"{name}.log", worker_env(), wait=180) as pid:
        yield base, pid


def calls_of(target: str, base: str) -> dict[str, Call]:
    """Return each mode's call to target at base (a server, or the emulator for "direct")."""
    chat = base + "/v1/chat/completions"
    if target == "direct":
        return {mode: (chat, *direct_call(mode == "sse")) for mode in MODES}
    if target == "g4f-api":  # no key: g4f's API runs open by default
        body, headers = openai_call(SERVE_KEY, stream=True)
        del headers["authorization"]
        return {"sse": (chat, body, headers)}
    # LiteLLM's streamed calls go to the deployment that sends no "stream" of its own.
    sse_model = "gpt-4o-mini-sse" if target == "litellm-proxy" else "gpt-4o-mini"
    return {"json": (chat, *openai_call(SERVE_KEY)),
            "sse": (chat, *openai_call(SERVE_KEY, stream=True, model=sse_model))}


def peer_servers(url: str, emulator_pid: int, rounds: int, seconds: float,
                 results: dict[str, Any]) -> None:
    """Fill results["peer_servers"]: the loads, the memory, and what was left out."""
    wrk = ensure_wrk()
    if wrk is None:
        results["peer_servers"] = {"skipped": "wrk could not be installed"}
        return
    installed = [name for name, requirement in PEER_SERVERS.items()
                 if ensure_venv(name, requirement)]
    left_out = [f"{name} (could not be installed)" for name in PEER_SERVERS
                if name not in installed]
    with ExitStack() as stack:
        pids: dict[str, int] = {"direct": emulator_pid}
        calls: dict[str, dict[str, Call]] = {"direct": calls_of("direct", url)}
        serve_url, pids["serve"] = stack.enter_context(serving(url))
        calls["serve"] = calls_of("serve", serve_url)
        fast = ensure_speedups()
        if fast is not None:
            binary = fast.parent / "jackfield"
            fast_url, pids["speedups"] = stack.enter_context(
                serving(url, binary, serve_loop_args(binary), "serve-speedups-7.log"))
            calls["speedups"] = calls_of("speedups", fast_url)
        for name in installed:
            base, pids[name] = stack.enter_context(peer_server(name, url))
            calls[name] = calls_of(name, base)
        refused = warm_up(wrk, calls)
        memory = {t: {"idle_kib": tree_memory_kib(pid)} for t, pid in pids.items()
                  if t != "direct"}
        table: dict[str, list[dict[str, Any]]] = {}
        for round_number in range(rounds):
            for mode in MODES:
                for concurrency in CONCURRENCIES:
                    for target in rotated(list(calls), round_number):
                        if mode in calls[target] and f"{target}/{mode}" not in refused:
                            run = measured(wrk, calls[target][mode], mode, concurrency,
                                           seconds, pids[target], emulator_pid)
                            table.setdefault(f"{target}/{mode}/{concurrency}", []).append(run)
        for target, kib in memory.items():
            kib["peak_kib"] = tree_memory_kib(pids[target], "VmHWM")
    results["peer_servers"] = {"table": table, "memory": memory, "left_out": left_out,
                               "refused": refused, "nproc": os.cpu_count()}
    say("  peers' servers: " + ", ".join(
        f"{key} {median([r['rps'] for r in runs]):.0f}/s" for key, runs in table.items()
        if key.endswith("/64")))


def warm_up(wrk: str, calls: dict[str, dict[str, Call]]) -> dict[str, str]:
    """Warm every server and mode; return the ones that answer wrongly -> what they did."""
    refused: dict[str, str] = {}
    for target, modes in calls.items():
        for mode, (endpoint, body, headers) in modes.items():
            warm = wrk_load(wrk, endpoint, body, headers, 8, 2, EXPECT[mode])
            if warm["errors"] or warm["wrong"] or not warm["count"]:
                if target in ("direct", "serve", "speedups"):
                    raise SystemExit(f"load through {target} ({mode}) fails: {warm}")
                refused[f"{target}/{mode}"] = (f"{warm['wrong']} wrong replies and "
                                               f"{warm['errors']} errors of {warm['count']}")
                say(f"  {target} ({mode}) is left out: {refused[f'{target}/{mode}']}")
    return refused


def measured(wrk: str, call: Call, mode: str, concurrency: int, seconds: float, pid: int,
             emulator_pid: int) -> dict[str, Any]:
    """One wrk load, with the CPU that the server's tree and the emulator spent per request."""
    endpoint, body, headers = call
    direct = pid == emulator_pid
    before = (0.0 if direct else tree_cpu_seconds(pid)), cpu_seconds(emulator_pid)
    seconds = max(seconds, LOAD_SECONDS[concurrency])
    run = wrk_load(wrk, endpoint, body, headers, concurrency, seconds, EXPECT[mode])
    count = max(run["count"], 1)
    run["cpu_per_req"] = None if direct else (tree_cpu_seconds(pid) - before[0]) / count
    run["emulator_cpu_per_req"] = (cpu_seconds(emulator_pid) - before[1]) / count
    return run


def added(table: dict[str, list[dict[str, Any]]], target: str, mode: str,
          field: str) -> float:
    """Median over the rounds of target's wrk latency field at c=1 minus the emulator's."""
    ours, direct = table.get(f"{target}/{mode}/1", []), table.get(f"direct/{mode}/1", [])
    return median([a[field] - b[field] for a, b in zip(ours, direct, strict=False)])


def lines(data: dict[str, Any]) -> list[str]:
    """The report's section for measure 7."""
    if "table" not in data:
        return []
    table, memory = data["table"], data["memory"]
    rows = []
    for mode in MODES:
        for target in LABELS:
            runs = {c: table.get(f"{target}/{mode}/{c}", []) for c in CONCURRENCIES}
            if not runs[64]:
                continue
            rps = [f"{median([r['rps'] for r in runs[c]]):,.0f}" for c in CONCURRENCIES[1:]]
            bad = sum(r["errors"] + r["wrong"] for c in CONCURRENCIES for r in runs[c])
            via = target != "direct"
            rows.append([
                LABELS[target], "streamed" if mode == "sse" else "non-streamed", *rps,
                f"{median([r['p50'] for r in runs[1]]) * 1e3:.2f} ms",
                f"{added(table, target, mode, 'p50') * 1e3:+.2f} ms" if via else DASH,
                f"{added(table, target, mode, 'p99') * 1e3:+.2f} ms" if via else DASH,
                f"{median([r['cpu_per_req'] for r in runs[64]]) * 1e6:,.0f} µs" if via else DASH,
                (f"{memory[target]['idle_kib'] / 1024:.0f} / "
                 f"{memory[target]['peak_kib'] / 1024:.0f} MiB") if via else DASH,
                f"{bad:,}"])
    header = ["server", "call", "req/s c=64", "req/s c=256", "p50 c=1", "added p50",
              "added p99", "CPU/req c=64", "RSS idle / peak", "errors + wrong"]
    out = ["## 7. Against the peers' servers", "",
           "Each server proxies the same short question to the same emulator, loaded by wrk "
           "(one thread) one server at a time in a rotating order; added latency is the "
           "server's wrk p50 (p99) at c=1 minus the emulator's own in the same round; CPU is "
           "the server's whole process tree (/proc, 10 ms ticks); RSS is the tree's VmRSS after "
           "the warm-up and its peak VmHWM after the run. Every server runs with its own "
           f"defaults, access logs included, on {data['nproc']} cores shared with the emulator "
           "and wrk (bench/harness/peer_servers.py, the launchers in bench/peers/).", "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
           *("| " + " | ".join(row) + " |" for row in rows), ""]
    for key, what in data.get("refused", {}).items():
        out += [f"- {key} left out: its warm-up gave {what}."]
    out += [f"- {what} left out." for what in data.get("left_out", [])]
    return [*out, "- g4f api, non-streamed: not measured; g4f's AmigoChat provider returns an "
            "empty reply when not streamed (it reads `data:` lines only).", ""]
