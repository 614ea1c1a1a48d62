"""Measures 1 and 6: short calls, jackfield against raw aiohttp (the limit) and the peers.

Contenders are interleaved round by round, in an order that rotates each round, so that
machine noise hits all of them alike.
"""

from __future__ import annotations

from typing import Any

from harness.common import rotated, say
from harness.procs import Proc, emulator_statuses

CONTENDERS = [("raw", "json"), ("jackfield", "json"), ("speedups", "json"), ("raw", "sse"),
              ("jackfield", "sse"), ("g4f", "sse"), ("litellm", "json")]


def per_request(workers: dict[str, Proc], url: str, rounds: int, seconds: float,
                results: dict[str, Any]) -> None:
    """Short non-streamed (json) and streamed (sse) calls, every contender in every round."""
    contenders = [(w, m) for w, m in CONTENDERS if w in workers]
    say("warming up ...")
    for worker, mode in list(contenders):
        for concurrency in (64, 1):
            warm = workers[worker].ask({"op": "rate", "mode": mode, "concurrency": concurrency,
                                        "seconds": 0.3})
            if warm["errors"] or warm["wrong"] or not warm["count"]:
                if worker in ("raw", "jackfield", "speedups"):
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
