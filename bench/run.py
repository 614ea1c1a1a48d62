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
3b. `serve --workers 2` against one worker, Redis on and off; 6. the peers
(g4f 6.5.0's AmigoChat provider and LiteLLM, each in bench/.venvs/) against the same emulator.
Targets are recorded, never asserted; a missed target gets a pyinstrument profile
(pyinstrument is installed into the project venv for the run, not as a dependency).

7. `jackfield serve` against the peers' servers (the LiteLLM proxy and g4f's API server, each
in its own venv in bench/.venvs/), side by side on the same emulator.

--scaleout runs measure 3b alone and prints it (BENCHMARKS.md is left alone); --servers does
the same for measure 7, and --server for measure 3 (serve, the floor proxy and direct).
--smoke checks the harness in seconds: measures 1 and 2 for jackfield and raw aiohttp only,
and measure 3, one round, the summary printed; BENCHMARKS.md is left alone. The code is in
bench/harness/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.common import BENCH, OUT, PEERS, PYTHON, WORKERS, say
from harness.environment import (
    cpu_model,
    ensure_peer,
    ensure_speedups,
    package_version,
    peer_python,
)
from harness.evaluate import evaluate
from harness.memory import memory
from harness.peer_servers import peer_servers
from harness.procs import Proc, emulator, start_worker
from harness.profiles import profiles
from harness.report import write_report
from harness.report_profiles import markdown_table
from harness.scaleout import scaleout
from harness.server import server
from harness.short_calls import per_request
from harness.startup import startup
from harness.streaming import streaming


def start_contenders(url: str, peers: Sequence[str]) -> dict[str, Proc]:
    """Start the limit, jackfield and each peer as a worker against the emulator at url."""
    workers: dict[str, Proc] = {}
    try:
        workers["raw"] = start_worker("raw", PYTHON, WORKERS / "raw_worker.py", url)
        workers["jackfield"] = start_worker("jackfield", PYTHON, WORKERS / "jackfield_worker.py",
                                            url)
        fast = ensure_speedups()
        if fast is not None:  # the optional extra, measured beside the default install
            workers["speedups"] = start_worker("speedups", fast, WORKERS / "jackfield_worker.py",
                                               url, env={"BENCH_LOOP": "uvloop"})
        for peer in peers:
            workers[peer] = start_worker(peer, peer_python(peer),
                                         BENCH / "peers" / f"{peer}_worker.py", url)
    except BaseException:
        for proc in workers.values():
            proc.stop()
        raise
    return workers


def calls_and_streams(url: str, peers: Sequence[str], rounds: int, seconds: float,
                      results: dict[str, Any]) -> dict[str, str]:
    """Run measures 1, 6 and 2; return the peers' own package versions."""
    workers = start_contenders(url, peers)
    try:
        # The peers' own packages; ours come from this venv.
        versions = {peer: workers[peer].versions[peer] for peer in peers}
        say("1 and 6: short calls ...")
        per_request(workers, url, rounds, seconds, results)
        say("2: streaming ...")
        streaming(workers, rounds, results)
    finally:
        for proc in workers.values():
            proc.stop()
    return versions


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def smoke(seconds: float) -> None:
    """Measures 1 and 2 (jackfield and the limit only) and 3, one round; print the summary."""
    results: dict[str, Any] = {"rounds": 1, "seconds": seconds}
    began = time.monotonic()
    with emulator() as (url, emulator_pid):
        calls_and_streams(url, [], 1, seconds, results)
        say("3: server ...")
        server(url, emulator_pid, 1, seconds, results)
    (OUT / "smoke.json").write_text(json.dumps(results, indent=1))
    print_summary(results)
    say(f"smoke run done in {time.monotonic() - began:.0f} s (BENCHMARKS.md left alone; "
        "one round, so the ratios are rough)")


def print_summary(results: dict[str, Any]) -> None:
    rows, _ = evaluate(results)
    print("\n".join(markdown_table(["measure", "jackfield", "limit", "ratio", "target",
                                    "result"], rows)))


def server_only(rounds: int, seconds: float) -> None:
    """Measure 3 alone; print its summary rows and table (BENCHMARKS.md is left alone)."""
    from harness.report import server as server_lines

    results: dict[str, Any] = {"rounds": rounds, "seconds": seconds}
    load_before = load_average()
    with emulator() as (url, emulator_pid):
        server(url, emulator_pid, rounds, seconds, results)
    (OUT / "server.json").write_text(json.dumps(results, indent=1))
    print_summary(results)
    print("\n".join(["", *server_lines(results.get("server", {}), results.get("loadgen", ""))]))
    say(f"load average before {load_before}, after {load_average()}")


def scaleout_only(rounds: int, seconds: float) -> None:
    """Measure 3b alone; print its table (BENCHMARKS.md is left alone)."""
    from harness.scaleout import lines

    results: dict[str, Any] = {}
    load_before = load_average()
    with emulator() as (url, _):
        scaleout(url, rounds, seconds, results)
    (OUT / "scaleout.json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines(results["scaleout"])))
    say(f"load average before {load_before}, after {load_average()}")


def servers_only(rounds: int, seconds: float) -> None:
    """Measure 7 alone; print its section (BENCHMARKS.md is left alone)."""
    from harness.peer_servers import lines

    results: dict[str, Any] = {}
    load_before = load_average()
    with emulator() as (url, emulator_pid):
        peer_servers(url, emulator_pid, rounds, seconds, results)
    (OUT / "servers.json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines(results["peer_servers"])))
    say(f"load average before {load_before}, after {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0, help="per contender and round")
    parser.add_argument("--no-peers", action="store_true", help="skip g4f and LiteLLM")
    parser.add_argument("--report", action="store_true",
                        help="rewrite BENCHMARKS.md from bench/out/results.json only")
    parser.add_argument("--smoke", action="store_true",
                        help="a seconds-long check of the harness: jackfield and raw aiohttp, "
                        "measures 1, 2 and 3, one round; BENCHMARKS.md is left alone")
    parser.add_argument("--scaleout", action="store_true",
                        help="measure 3b alone (serve --workers 1/2, Redis off/on) and print "
                        "it; BENCHMARKS.md is left alone")
    parser.add_argument("--server", action="store_true",
                        help="measure 3 alone (serve, the floor proxy, the emulator direct) "
                        "and print it; BENCHMARKS.md is left alone")
    parser.add_argument("--servers", action="store_true",
                        help="measure 7 alone (serve against the LiteLLM proxy and g4f api) and "
                        "print it; BENCHMARKS.md is left alone")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.report:
        saved = json.loads((OUT / "results.json").read_text())
        write_report(saved, saved.get("argv", []))
        return
    if args.smoke:
        smoke(args.seconds)
        return
    if args.scaleout:
        scaleout_only(args.rounds, args.seconds)
        return
    if args.server:
        server_only(args.rounds, args.seconds)
        return
    if args.servers:
        servers_only(args.rounds, args.seconds)
        return
    argv = sys.argv[1:]
    load_before = load_average()
    peers = [] if args.no_peers else [peer for peer in PEERS if ensure_peer(peer)]
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "rounds": args.rounds, "seconds": args.seconds, "argv": argv,
        "left_out": [] if args.no_peers else [f"{p} (could not be installed)"
                                              for p in PEERS if p not in peers],
    }
    began = time.monotonic()
    with emulator() as (url, emulator_pid):
        versions = calls_and_streams(url, peers, args.rounds, args.seconds, results)
        say("3: server ...")
        server(url, emulator_pid, args.rounds, args.seconds, results)
        say("3b: server workers and Redis ...")
        scaleout(url, args.rounds, args.seconds, results)
        if not args.no_peers:
            say("7: the peers' servers ...")
            peer_servers(url, emulator_pid, args.rounds, args.seconds, results)
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
        "load_before": load_before, "load_after": load_average(),
        "packages": {name: versions.get(name) or package_version(name)
                     for name in ("jackfield", "aiohttp", "pluggy", "attrs", "g4f", "litellm")},
    }
    results["elapsed_s"] = time.monotonic() - began
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    write_report(results, argv)
    say(f"done in {results['elapsed_s']:.0f} s")


if __name__ == "__main__":
    main()
