"""`jackfield probe [PROVIDER|MODEL...]`: one minimal real request per model, the outcomes
kept for `jackfield models`, `jackfield plugins` and routing ([probes] skip_failing); and
the `serve --probe-every` flags. What is sent, and why without retries: jackfield._engine.probes.

Imports stay light: `jackfield models` reads the probe cells from here on every listing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from jackfield._cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    CliError,
    Parser,
    positive,
    warn,
    whole,
)

__all__ = ["add_parser", "add_serve_flags", "probe", "probe_cells", "probe_entries",
           "provider_summary"]

DEFAULT_BUDGET = 20
DEFAULT_RATE = 2.0
DEFAULT_TIMEOUT = 15.0
_SHORT = {"needs credentials": "needs key"}  # a table cell, not a sentence

_COUNT = whole(0)  # a budget of 0 probes nothing, and says so



def add_parser(command: Callable[..., Parser], run: Callable[[argparse.Namespace], int],
               ) -> None:
    """Add `probe` through main.py's command(name, help, run, *examples)."""
    sub = command("probe", "Send each model one minimal real request; show and keep whether "
                  "it works.", run, "jackfield probe   # every configured provider's models",
                  "jackfield probe amigochat gpt-4o --budget 5 --rate 1",
                  "jackfield probe openai --images --json")
    # Broken by hand: the formatter keeps the description's lines as they are.
    sub.description = (
        f"{sub.description}\n\n"
        "A chat model gets a one-word chat (max_tokens 16), an embedding model one short\n"
        "input; an image model is skipped unless --images is given (an image costs).\n"
        "No retries: --budget counts exactly the requests sent (asking a service for its\n"
        "model list comes first and is no probe). A provider whose credentials are not\n"
        "set is reported without any request. The outcomes are kept in probes.json in the\n"
        "cache directory; `jackfield models` shows them, and `[probes] skip_failing =\n"
        "true` in the config file makes calls skip what failed its last probe.")
    sub.add_argument("names", nargs="*", metavar="PROVIDER|MODEL",
                     help="what to probe (default: every model of every provider)")
    sub.add_argument("--budget", type=_COUNT, default=DEFAULT_BUDGET, metavar="N",
                     help="send at most N requests; the models probed longest ago go first")
    sub.add_argument("--rate", type=positive, default=DEFAULT_RATE, metavar="R",
                     help="start at most R requests a second")
    sub.add_argument("--timeout", type=positive, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                     help="give up on one probe after this long")
    sub.add_argument("--images", action="store_true",
                     help="probe image models too (each probe makes an image, which costs)")
    sub.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_serve_flags(serve: argparse.ArgumentParser) -> None:
    """Add --probe-every and its bounds to `jackfield serve`."""
    serve.add_argument("--probe-every", type=positive, metavar="SECONDS",
                       help="probe every model this often in the background and show the "
                            "outcomes in GET /health (default: never)")
    serve.add_argument("--probe-budget", type=_COUNT, default=DEFAULT_BUDGET, metavar="N",
                       help="requests per probe round at most")
    serve.add_argument("--probe-rate", type=positive, default=DEFAULT_RATE, metavar="R",
                       help="probe requests started per second at most")


def _age(stamp: Any, now: float) -> str:
    if not isinstance(stamp, int | float):
        return "never"
    seconds = max(0.0, now - stamp)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def _latency(value: Any) -> str:
    return f"{value:.2f}s" if isinstance(value, int | float) else "-"


PROBES_FILE = "probes.json"  # jackfield._settings.probe_store.PROBES_FILE, held equal by a test


def probe_entries() -> tuple[dict[str, dict[str, Any]], str | None]:
    """Return the kept probe outcomes (key -> entry) and a warning if the file was bad,
    found next to the models cache without importing the engine."""
    from jackfield._cli.listing_cache import cache_path

    path = os.path.join(os.path.dirname(cache_path()), PROBES_FILE)
    if not os.path.exists(path):
        # The usual case, answered without the store's imports (logging, pathlib: a fifth
        # of a cached `jackfield models`).
        return {}, None
    from jackfield._settings.probe_store import load

    return load(path)


def probe_cells(models: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """Return the PROBE cell of each listed model, or None when nothing was ever probed
    (the table then stays as it always was)."""
    entries, problem = probe_entries()
    warn([problem] if problem else [])
    if not entries:
        return None
    now, cells = time.time(), []
    for model in models:
        entry = entries.get(f"{model['provider']}/{model['id']}") or (
            entries.get(model["provider"]) if model["provider"] else None)
        if entry is None:
            cells.append("-")
            continue
        status = _SHORT.get(entry["status"], entry["status"])
        detail = f": {entry['error']}" if entry["status"] == "failing" and entry["error"] else ""
        cells.append(f"{status}{detail} ({_age(entry['probed_at'], now)})")
    return cells


def provider_summary(providers: Iterable[str], entries: Mapping[str, Mapping[str, Any]],
                     ) -> dict[str, int]:
    """Return status -> how many of these providers' models have it ({} if none probed)."""
    names = set(providers)
    counts: dict[str, int] = {}
    for key, entry in entries.items():
        if key.partition("/")[0] in names:
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    return counts


def _message(text: str | None) -> str:
    from jackfield._cli.common import cli_advice

    return cli_advice(text or "")


async def probe(args: argparse.Namespace) -> int:
    """Probe; print a table (or JSON); exit 1 when a probed model failed."""
    from jackfield._cli.listing import print_json, table
    from jackfield._engine.registry import Registry

    async with Registry.discover() as registry:
        if not registry.providers():
            raise CliError("no provider plugin is installed: nothing to probe", EXIT_USAGE)
        report = await registry.probe(args.names, budget=args.budget, rate=args.rate,
                                      timeout=args.timeout, images=args.images)
    warn(report.warnings)
    results = report.results
    if args.json:
        print_json(report.to_dict() | {"results": [
            r.to_dict() | {"message": _message(r.message) or None} for r in results]})
    elif results:
        now = time.time()
        print(table(("MODEL", "PROVIDER", "KIND", "RESULT", "LATENCY", "LAST WORKED"),
                    [(r.model or "(provider)", r.provider, r.kind, r.status,
                      _latency(r.latency), _age(r.last_success, now)) for r in results]))
        for r in results:
            if r.status in ("failing", "needs credentials"):
                shown = f"{r.error}: " if r.error else ""
                print(f"{r.key}: {shown}{_message(r.message)}")
    else:
        print("nothing to probe", file=sys.stderr)
    skipped = sum(r.status == "skipped" and r.kind == "image" for r in results)
    unprobed = sum(r.status == "not probed" for r in results)
    notes = [f"{report.sent} requests sent (budget {report.budget})"]
    if skipped:
        notes.append(f"{skipped} image models skipped: add --images to probe them (an image "
                     "costs)")
    if unprobed:
        notes.append(f"{unprobed} models not probed: the budget ran out; raise --budget, or "
                     "run again (the models probed longest ago go first)")
    print("jackfield: " + "; ".join(notes), file=sys.stderr, flush=True)
    return EXIT_FAILURE if any(r.status == "failing" for r in results) else 0
