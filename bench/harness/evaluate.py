"""The summary: each measure against its limit or peer, judged against its target.

Every ratio is the median of the per-round ratios (each round's contenders ran seconds
apart). Targets are recorded, never asserted; a miss names the profile that explains it.
"""

from __future__ import annotations

from typing import Any

from harness.common import DASH, MEMORY_STREAMS, SHORT_PIECES, TARGETS, TIMES, median
from harness.peer_servers import LABELS, added

Rows = list[list[str]]
Misses = dict[str, list[str]]  # the profile wanted -> the measures it explains


def ratio_of(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios a[i] / b[i]."""
    return median([x / y for x, y in zip(a, b, strict=True) if y])


def judge(value: float, bound: float, at_most: bool) -> str:
    if value != value:  # nan: nothing measured
        return DASH
    return "met" if (value <= bound if at_most else value >= bound) else "**miss**"


class Summary:
    """The summary table's rows as they are added, and the misses among them."""

    def __init__(self) -> None:
        self.rows: Rows = []
        self.misses: Misses = {}

    def add(self, measure: str, ours: str, theirs: str, ratio: float | None, target: str,
            verdict: str, name: str = "") -> None:
        self.rows.append([measure, ours, theirs,
                          DASH if ratio is None else f"{ratio:.2f}{TIMES}", target, verdict])
        if verdict == "**miss**" and name:
            self.misses.setdefault(name, []).append(measure)


def evaluate(results: dict[str, Any]) -> tuple[Rows, Misses]:
    """Return the summary table's rows, and the profiles wanted -> the misses they explain."""
    summary = Summary()
    short_calls(summary, results.get("per_request", {}))
    streaming(summary, results.get("streaming", {}), results.get("streaming_cpu", {}))
    server(summary, results.get("server", {}))
    startup(summary, results.get("startup", {}).get("ms", {}))
    memory(summary, results.get("memory", {}))
    peers(summary, results.get("per_request", {}))
    peer_servers(summary, results.get("peer_servers", {}))
    return summary.rows, summary.misses


def short_calls(summary: Summary, table: dict[str, list[dict[str, Any]]]) -> None:
    def runs(key: str, field: str) -> list[float]:
        return [r[field] for r in table.get(key, []) if r[field] is not None]

    if not table:
        return
    ours, raw = runs("jackfield/json/1", "p50"), runs("raw/json/1", "p50")
    r = ratio_of(ours, raw)
    summary.add("1. latency, c=1, p50 (non-streamed)", f"{median(ours) * 1e3:.3f} ms",
                f"raw aiohttp {median(raw) * 1e3:.3f} ms", r,
                f"≤ {TARGETS['latency']:.2f}{TIMES}", judge(r, TARGETS["latency"], True),
                "latency")
    ours, raw = runs("jackfield/json/64", "rps"), runs("raw/json/64", "rps")
    r = ratio_of(ours, raw)
    summary.add("1. throughput, c=64 (non-streamed)", f"{median(ours):,.0f} req/s",
                f"raw aiohttp {median(raw):,.0f} req/s", r,
                f"≥ {TARGETS['throughput']:.2f}{TIMES}",
                judge(r, TARGETS["throughput"], False), "throughput")
    fast = runs("speedups/json/64", "rps")
    if fast:
        r = ratio_of(fast, runs("raw/json/64", "rps"))
        summary.add("1. throughput, c=64 (non-streamed), jackfield[speedups] on uvloop",
                    f"{median(fast):,.0f} req/s", f"raw aiohttp {median(raw):,.0f} req/s "
                    "(asyncio)", r, DASH, DASH)
    ours, raw = runs("jackfield/sse/64", "rps"), runs("raw/sse/64", "rps")
    if ours and raw:
        r = ratio_of(ours, raw)
        summary.add("1. throughput, c=64 (short reply, streamed)", f"{median(ours):,.0f} req/s",
                    f"raw aiohttp {median(raw):,.0f} req/s", r, DASH, DASH)


def streaming(summary: Summary, stream: dict[str, list[float]],
              cpu: dict[str, list[float]]) -> None:
    if "jackfield" not in stream or "raw" not in stream:
        return
    r = ratio_of(stream["jackfield"], stream["raw"])
    summary.add(f"2. streaming, {SHORT_PIECES:,} pieces",
                f"{median(stream['jackfield']):,.0f} pieces/s",
                f"raw aiohttp {median(stream['raw']):,.0f} pieces/s", r,
                f"≥ {TARGETS['streaming']:.2f}{TIMES}", judge(r, TARGETS["streaming"], False),
                "streaming")
    if "jackfield" in cpu and "raw" in cpu:
        summary.add("2. streaming, client CPU per piece",
                    f"{median(cpu['jackfield']) * 1e6:.1f} µs",
                    f"raw aiohttp {median(cpu['raw']) * 1e6:.1f} µs",
                    ratio_of(cpu["jackfield"], cpu["raw"]), DASH, DASH)


def server(summary: Summary, serve: dict[str, Any]) -> None:
    if "serve/64" in serve:
        ours = [x["rps"] for x in serve["serve/64"]]
        direct = [x["rps"] for x in serve["direct/64"]]
        summary.add("3. server throughput, c=64", f"{median(ours):,.0f} req/s via serve",
                    f"emulator direct {median(direct):,.0f} req/s", ratio_of(ours, direct),
                    DASH, DASH)
        cpu = median([x["serve_cpu_per_req"] for x in serve["serve/64"]]) * 1e6
        summary.add("3. server CPU per proxied call, c=64", f"{cpu:.0f} µs", DASH, None,
                    f"≤ {TARGETS['serve_cpu_us']:.0f} µs",
                    judge(cpu, TARGETS["serve_cpu_us"], True), "serve_cpu")
        added_p50(summary, "3. server latency, c=1, p50", serve, "1", "serve_added_ms")
    if "serve/ttft" in serve:
        added_p50(summary, "3. time to first token, c=1, p50", serve, "ttft", "serve_ttft_ms")
    floor(summary, serve)
    if "speedups/64" in serve:
        ours = [x["serve_cpu_per_req"] for x in serve["speedups/64"]]
        plain = [x["serve_cpu_per_req"] for x in serve["serve/64"]]
        summary.add("3. server CPU per call, c=64, with jackfield[speedups]",
                    f"{median(ours) * 1e6:.0f} µs", f"without {median(plain) * 1e6:.0f} µs",
                    ratio_of(ours, plain), f"≤ {TARGETS['serve_cpu_us']:.0f} µs",
                    judge(median(ours) * 1e6, TARGETS["serve_cpu_us"], True), "")
    elif serve.get("skipped"):
        summary.add("3. server", serve["skipped"], DASH, None, DASH, "not run")


def added_p50(summary: Summary, measure: str, serve: dict[str, Any], runs: str,
              target: str, via: str = "serve", name: str = "serve_cpu") -> None:
    """Judge the p50 that server via adds to the emulator's own (runs: "1" or "ttft")."""
    ours = [x["p50"] for x in serve[f"{via}/{runs}"]]
    direct = [x["p50"] for x in serve[f"direct/{runs}"]]
    added = median([a - b for a, b in zip(ours, direct, strict=True)]) * 1e3
    summary.add(measure, f"{median(ours) * 1e3:.3f} ms via {via} (+{added:.3f} ms)",
                f"emulator direct {median(direct) * 1e3:.3f} ms", ratio_of(ours, direct),
                f"≤ +{TARGETS[target]:.2f} ms", judge(added, TARGETS[target], True), name)


def floor(summary: Summary, serve: dict[str, Any]) -> None:
    """The floor proxy against serve's targets, judged alike: can any aiohttp proxy meet them?
    No profile is wanted for its misses: it is not jackfield's code."""
    label = "3. floor proxy (minimal aiohttp, raw client)"
    if "floor/64" in serve:
        cpu = [x["serve_cpu_per_req"] for x in serve["floor/64"]]
        summary.add(f"{label} CPU per call, c=64", f"{median(cpu) * 1e6:.0f} µs", DASH, None,
                    f"≤ {TARGETS['serve_cpu_us']:.0f} µs",
                    judge(median(cpu) * 1e6, TARGETS["serve_cpu_us"], True))
        added_p50(summary, f"{label} latency, c=1, p50", serve, "1", "serve_added_ms",
                  "floor", "")
        if "floor/ttft" in serve:
            added_p50(summary, f"{label} time to first token, c=1, p50", serve, "ttft",
                      "serve_ttft_ms", "floor", "")
        if "serve/64" in serve:
            ours = [x["serve_cpu_per_req"] for x in serve["serve/64"]]
            above = median([a - b for a, b in zip(ours, cpu, strict=True)]) * 1e6
            summary.add("3. serve's CPU per call minus the floor proxy's, c=64",
                        f"{above:+.0f} µs ({median(ours) * 1e6:.0f} µs via serve)",
                        f"floor proxy {median(cpu) * 1e6:.0f} µs", ratio_of(ours, cpu), DASH,
                        DASH)


def startup(summary: Summary, start: dict[str, list[float]]) -> None:
    if "jackfield models" in start:
        value = median(start["jackfield models"])
        summary.add("4. `jackfield models`, wall", f"{value:.0f} ms", DASH, None,
                    f"≤ {TARGETS['models_ms']:.0f} ms", judge(value, TARGETS["models_ms"], True),
                    "models_ms")
    label = "python -c 'import jackfield'"
    if label in start:
        summary.add("4. `import jackfield`, wall", f"{median(start[label]):.0f} ms",
                    f"bare interpreter {median(start['python -c pass']):.0f} ms", None, DASH,
                    DASH)


def memory(summary: Summary, mem: dict[str, dict[str, Any]]) -> None:
    if "jackfield" not in mem:
        return
    ours, raw = mem["jackfield"], mem["raw"]
    grown = (ours["open_kib"] - ours["base_kib"]) / ours["streams"]
    raw_grown = (raw["open_kib"] - raw["base_kib"]) / raw["streams"]
    r = grown / raw_grown if raw_grown > 0 else float("nan")
    summary.add(f"5. memory per open stream ({MEMORY_STREAMS:,} open, RSS growth)",
                f"{grown:.1f} KiB ({ours['open_kib'] / 1024:.0f} MiB total)",
                f"raw aiohttp {raw_grown:.1f} KiB ({raw['open_kib'] / 1024:.0f} MiB total)",
                None if r != r else r, f"≤ {TARGETS['memory']:.2f}{TIMES}",
                judge(r, TARGETS["memory"], True), "memory")


def peers(summary: Summary, table: dict[str, list[dict[str, Any]]]) -> None:
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
            summary.add(f"6. vs {label}, c=64", f"{median(ours):,.0f} req/s",
                        f"{median(theirs):,.0f} req/s", r, f"≥ {TARGETS['peers']:.0f}{TIMES}",
                        judge(r, TARGETS["peers"], False), profile)


def peer_servers(summary: Summary, data: dict[str, Any]) -> None:
    """Serve against each peer's server in the mode both answer in: ahead on every figure."""
    table, memory = data.get("table", {}), data.get("memory", {})
    for peer, mode in (("litellm-proxy", "json"), ("g4f-api", "sse")):
        if f"{peer}/{mode}/64" not in table or f"serve/{mode}/64" not in table:
            continue
        label = f"7. vs {LABELS[peer]} ({'streamed' if mode == 'sse' else 'non-streamed'})"
        for concurrency in ("64", "256"):
            ours = [r["rps"] for r in table[f"serve/{mode}/{concurrency}"]]
            theirs = [r["rps"] for r in table[f"{peer}/{mode}/{concurrency}"]]
            r = ratio_of(ours, theirs) if any(theirs) else float("inf")
            summary.add(f"{label}, throughput c={concurrency}", f"{median(ours):,.0f} req/s",
                        f"{median(theirs):,.0f} req/s", r, f"> 1{TIMES}",
                        judge(r, 1.0, False), "peer_servers")
        ours_ms, theirs_ms = (added(table, t, mode, "p50") * 1e3 for t in ("serve", peer))
        summary.add(f"{label}, added p50 c=1", f"{ours_ms:+.2f} ms", f"{theirs_ms:+.2f} ms",
                    None, "lower", judge(ours_ms, theirs_ms, True), "peer_servers")
        ours_us, theirs_us = (median([r["cpu_per_req"] for r in table[f"{t}/{mode}/64"]]) * 1e6
                              for t in ("serve", peer))
        summary.add(f"{label}, CPU/req c=64", f"{ours_us:,.0f} µs", f"{theirs_us:,.0f} µs",
                    ours_us / theirs_us, f"< 1{TIMES}", judge(ours_us, theirs_us, True),
                    "peer_servers")
        ours_mib, theirs_mib = (memory[t]["peak_kib"] / 1024 for t in ("serve", peer))
        summary.add(f"{label}, peak RSS", f"{ours_mib:.0f} MiB", f"{theirs_mib:.0f} MiB",
                    ours_mib / theirs_mib, f"< 1{TIMES}", judge(ours_mib, theirs_mib, True),
                    "peer_servers")
