"""BENCHMARKS.md's profiles of the missed targets: pyinstrument's areas and functions, the
importtime of the CLI, and what each feature costs the library's call (bench/ablation.py)
and serve's proxied call (bench/serve_ablation.py), in instructions."""

from __future__ import annotations

from typing import Any

from harness.common import DASH, TIMES
from harness.evaluate import Misses, Rows

Lines = list[str]


def markdown_table(header: list[str], rows: Rows) -> Lines:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def profiles(found: dict[str, Any], misses: Misses) -> Lines:
    if not found:
        return []
    out = ["## Profiles of the missed targets", "",
           "pyinstrument, sampling jackfield's worker process while it repeats the missed "
           "measurement (full trees in bench/out/): self time by area of the code, then the "
           "functions with the most self time. What each piece of a call is for and what "
           "removing it bought or would cost (instructions per call by layer and by piece, "
           "bench/instructions.py; the objects an open stream keeps) is in bench/CHANGES.md, "
           "under issue 16.", ""]
    for miss, summary in found.items():
        if miss == "ablation":
            out += feature_costs(summary, misses)
            continue
        if miss == "serve_ablation":
            out += serve_feature_costs(summary, misses)
            continue
        if miss == "memory":
            out += stream_census(summary, misses)
            continue
        out += [f"### {summary['what']}", "", "For: " + "; ".join(misses.get(miss, [])) + ".", ""]
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
    return out


def feature_costs(found: dict[str, Any], misses: Misses) -> Lines:
    """The table of bench/ablation.py: each feature's instructions per call, and the rest."""
    raw, full, bare = found["raw"], found["jackfield"], found["without_features"]

    def row(label: str, value: float, share: str = "") -> list[str]:
        return [label, f"{value / 1e6:.3f} M", share or f"{value / raw:.2f}{TIMES} raw"]

    rows = [row("raw aiohttp (the limit)", raw), row("jackfield `Registry.complete()`", full)]
    rows += [row(f"{DASH} {name}", cost, f"{cost / full:.1%} of the call")
             for name, cost in found["features"].items()]
    rows += [row("jackfield with every feature above patched out", bare),
             row("what remains over raw: the call itself", bare - raw,
                 f"{(bare - raw) / full:.1%} of the call")]
    targets = "; ".join(misses.get("throughput", []) + misses.get("latency", []))
    return ["### What each feature of a short call costs (instructions, callgrind)", "",
            f"For: {targets}.", "",
            f"bench/ablation.py: instructions per non-streamed call at c=64 ({found['calls']:,} "
            "calls minus none; the same count whatever else runs), with each feature patched "
            "out of the counted process in turn, then all of them. The features overlap a "
            "little (each saves less once the others are gone), so the rows do not add up to "
            "the difference; a feature within ±0.005 M of nothing is within the count's noise "
            "(where the collector's passes fall). What remains is the call's own plumbing: the "
            "plugin's request (13 headers, the body) and parser, the hook calls, the event pipe "
            "between them, routing, the retry loop and the Completion.", "",
            *markdown_table(["", "instructions per call", "share"], rows), ""]


def serve_feature_costs(found: dict[str, Any], misses: Misses) -> Lines:
    """The table of bench/serve_ablation.py: each feature's instructions per proxied call."""
    floor, full, bare = found["floor"], found["serve"], found["without_features"]

    def row(label: str, value: float, share: str = "") -> list[str]:
        return [label, f"{value / 1e6:.3f} M", share or f"{value / floor:.2f}{TIMES} the floor"]

    rows = [row("floor proxy (featureless aiohttp, bench/peers/floor_proxy.py)", floor),
            row("`jackfield serve` (API key, access log: as measure 3 runs it)", full)]
    rows += [row(f"{DASH} {name}", cost, f"{cost / full:.1%} of the call")
             for name, cost in found["features"].items()]
    rows += [row("serve with every feature above patched out", bare),
             row("what remains over the floor: the proxying itself", bare - floor,
                 f"{(bare - floor) / full:.1%} of the call")]
    return ["### What each feature of a proxied call costs serve (instructions, callgrind)", "",
            "For: " + "; ".join(misses.get("serve_cpu", [])) + ".", "",
            f"bench/serve_ablation.py: instructions per proxied non-streamed call "
            f"({found['calls']:,} calls from a native client at c=16 minus none, the server "
            "under callgrind), with each feature patched out of serve's process in turn, then "
            "all of them; beside it the floor proxy, which misses serve's targets itself "
            "(measure 3). The rows do not add up exactly: the features overlap a little, and "
            "a server's count moves by about ±0.02 M between runs of the same code. What "
            "remains over the floor is the proxying itself: the OpenAI call parsed and checked "
            "into the library's call, the library's plugin boundary, typed events, retry loop "
            "and Completion (bench/ablation.py's remainder, above), and the reply's OpenAI "
            "object with its id and headers.", "",
            *markdown_table(["", "instructions per proxied call", "share"], rows), ""]


def stream_census(found: dict[str, Any], misses: Misses) -> Lines:
    """What an open stream holds by tracemalloc: bytes per stream by area, then by line."""
    raw = dict(found["raw"]["areas"])
    ours = dict(found["jackfield"]["areas"])
    areas = sorted(set(raw) | set(ours), key=lambda area: -ours.get(area, 0.0))

    def kib(value: float) -> str:
        return f"{value / 1024:.2f} KiB"

    rows = [[area, kib(raw.get(area, 0.0)), kib(ours.get(area, 0.0)),
             f"{(ours.get(area, 0.0) - raw.get(area, 0.0)) / 1024:+.2f} KiB"] for area in areas]
    rows.append(["all", kib(sum(raw.values())), kib(sum(ours.values())),
                 f"{(sum(ours.values()) - sum(raw.values())) / 1024:+.2f} KiB"])
    return ["### What an open stream holds (tracemalloc)", "",
            "For: " + "; ".join(misses.get("memory", [])) + ".", "",
            f"{found['streams']:,} streams held open as measure 5 holds them, in a fresh worker "
            "with tracemalloc on: what was allocated while they opened and is still alive, per "
            "stream, by the area of the code that allocated it (so aiohttp's objects made for "
            "jackfield count as aiohttp's). RSS also holds the allocator's slack, which "
            "tracemalloc does not see. What each jackfield object is for, and what was cut, is "
            "in bench/CHANGES.md (issue 16, fourth and fifth passes).", "",
            *markdown_table(["area", "raw aiohttp", "jackfield", "difference"], rows), "",
            "The lines that allocated the most of what jackfield's streams hold:", "",
            *markdown_table(["line", "per stream"], [
                [f"`{line}`", kib(size)] for line, size in found["jackfield"]["lines"]]), ""]
