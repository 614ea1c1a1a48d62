"""BENCHMARKS.md's profiles of the missed targets: pyinstrument's areas and functions, the
importtime of the CLI, and what each feature costs the library's call (bench/ablation.py)
and serve's proxied call (bench/serve_ablation.py), in instructions."""

from __future__ import annotations

from typing import Any

from harness.common import DASH, TARGETS, TIMES, median
from harness.evaluate import Misses, Rows

Lines = list[str]


def markdown_table(header: list[str], rows: Rows) -> Lines:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def profiles(found: dict[str, Any], misses: Misses, results: dict[str, Any]) -> Lines:
    """The profiles section; results (the run's) give the measured figures each profile's
    arithmetic starts from."""
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
            out += serve_feature_costs(summary, misses, results.get("server", {}))
            continue
        if miss == "memory":
            out += stream_census(summary, misses, results.get("memory", {}))
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
            *markdown_table(["", "instructions per call", "share"], rows), "",
            *_throughput_arithmetic(raw, full, bare)]


def _throughput_arithmetic(raw: float, full: float, bare: float) -> Lines:
    """What the c=64 target asks of the count: a CPU-bound client's throughput goes as
    1 / its instructions per call."""
    needed = raw / TARGETS["throughput"]
    return [f"At c=64 the client is CPU-bound, so its throughput goes as one over its "
            f"instructions per call: {TARGETS['throughput']:.2f}{TIMES} raw's throughput "
            f"needs at most {needed / 1e6:.3f} M a call ({needed / raw:.2f}{TIMES} raw). "
            f"jackfield takes {full / 1e6:.3f} M; with every feature above off, "
            f"{bare / 1e6:.3f} M. Without any of its features the call is still "
            f"{(bare - needed) / 1e6:.3f} M over what the target allows: it needs the "
            "plumbing itself cut, not features removed.", ""]


def serve_feature_costs(found: dict[str, Any], misses: Misses,
                        server: dict[str, Any]) -> Lines:
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
            *markdown_table(["", "instructions per proxied call", "share"], rows), "",
            *_serve_arithmetic(full, bare, server)]


def _serve_arithmetic(full: float, bare: float, server: dict[str, Any]) -> Lines:
    """What serve's CPU would be with every feature off, at the CPU per instruction it ran
    at in measure 3, beside the target and the floor proxy's measured CPU."""
    if "serve/64" not in server or "floor/64" not in server:
        return []
    cpu = median([r["serve_cpu_per_req"] for r in server["serve/64"]]) * 1e6
    floor = median([r["serve_cpu_per_req"] for r in server["floor/64"]]) * 1e6
    return [f"Measure 3 put serve at {cpu:.0f} µs of CPU per proxied call at c=64 and the "
            f"floor proxy at {floor:.0f} µs. At serve's CPU per instruction, every feature "
            f"above off would give about {cpu * bare / full:.0f} µs against the target's "
            f"{TARGETS['serve_cpu_us']:.0f} µs. The latency targets (+"
            f"{TARGETS['serve_added_ms']:.2f} ms p50, +{TARGETS['serve_ttft_ms']:.2f} ms to "
            "the first token) are missed by the floor proxy itself (measure 3): at c=1 a "
            "proxied call is a server-side and a client-side request on one sequential "
            "path.", ""]


def stream_census(found: dict[str, Any], misses: Misses,
                  measured: dict[str, Any]) -> Lines:
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
            *_memory_arithmetic(sum(ours.values()) - sum(raw.values()), measured),
            "The lines that allocated the most of what jackfield's streams hold:", "",
            *markdown_table(["line", "per stream"], [
                [f"`{line}`", kib(size)] for line, size in found["jackfield"]["lines"]]), ""]


def _memory_arithmetic(live: float, measured: dict[str, Any]) -> Lines:
    """The target's room over raw aiohttp's RSS per stream, against the live objects'."""
    if "raw" not in measured or "jackfield" not in measured:
        return []

    def grown(r: dict[str, Any]) -> float:
        return float(r["open_kib"] - r["base_kib"]) / float(r["streams"])

    raw, ours = grown(measured["raw"]), grown(measured["jackfield"])
    room = raw * (TARGETS["memory"] - 1)
    return [f"Measure 5 put raw aiohttp at {raw:.1f} KiB of RSS per stream and jackfield at "
            f"{ours:.1f} KiB ({ours - raw:+.1f} KiB). The target, {TARGETS['memory']:.2f}"
            f"{TIMES}, leaves {room:.1f} KiB over raw; jackfield's live objects alone are "
            f"{live / 1024:.1f} KiB over raw's (the table above), and the rest of the RSS gap "
            "is memory the "
            "allocator keeps after the call's transient objects (the request, its body and "
            "ids, freed once sent) are gone.", ""]
