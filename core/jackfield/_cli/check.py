"""`jackfield check PLUGIN...`: the conformance kit (jackfield.testing) run on installed
plugins, by entry-point name, against their own emulators, on loopback only.

One line per case (PASS, FAIL or SKIP and why), then a summary. Exit status: 0 when every
case passed or was skipped; 1 when a case failed (each failing case is named on stderr);
2 for a name no installed plugin has (nothing is run); 3 when a plugin could not be
checked (it ships no emulator, or failed to load) and nothing failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from jackfield._cli.common import EXIT_FAILURE, EXIT_USAGE, PROG, CliError, Parser

__all__ = ["EXIT_UNCHECKED", "add_parser", "check"]

EXIT_UNCHECKED = 3  # a plugin without an emulator (or that failed to load): nothing ran


def add_parser(command: Callable[..., Parser]) -> None:
    """Add `check` through main.py's command(name, help, run, *examples)."""
    check_parser = command(
        "check", "Run the conformance kit on installed plugins against their emulators: "
        "faults, streams, cancellation, capabilities and secrets, one line per case. Exit "
        "status: 0 all passed (or skipped), 1 a case failed, 2 an unknown plugin name, 3 a "
        "plugin has no emulator.", _run,
        "jackfield check aichats amigochat",
        "jackfield check openai --case fault/ --case stream/",
        "jackfield check echoapi --json")
    check_parser.add_argument("plugins", nargs="+", metavar="PLUGIN",
                              help="entry-point names of installed plugins (`jackfield "
                                   "plugins` lists them)")
    check_parser.add_argument("--case", dest="cases", action="append", default=[],
                              metavar="PREFIX",
                              help="only the cases whose id starts with PREFIX (repeatable)")
    check_parser.add_argument("--json", action="store_true",
                              help="print one JSON object: every case's result and the summary")


def _run(args: argparse.Namespace) -> int:
    import asyncio

    status: int = asyncio.run(check(args))
    return status


def _load(names: list[str]) -> dict[str, Any]:
    """Return entry-point name -> the loaded plugin object; CliError for an unknown name."""
    from jackfield._engine.discovery import ENTRY_POINT_GROUP
    from jackfield._engine.entrypoints import entry_points

    found = {ep.name: ep for ep in entry_points(ENTRY_POINT_GROUP)}
    unknown = [name for name in names if name not in found]
    if unknown:
        raise CliError(f"no installed plugin is named {', '.join(map(repr, unknown))}; "
                       f"installed: {', '.join(sorted(found)) or 'none'} (`{PROG} plugins`)",
                       EXIT_USAGE)
    loaded: dict[str, Any] = {}
    for name in names:
        try:
            loaded[name] = found[name].load()
        except Exception as error:  # a broken plugin is reported, the others still run  # noqa: BLE001
            loaded[name] = error
    return loaded


async def check(args: argparse.Namespace) -> int:
    """Run the kit on each named plugin; print the results; return the exit status."""
    from jackfield.testing._conformance import CaseResult, run_conformance
    from jackfield.testing._conformance_env import Conformance
    from jackfield.testing._network import only_loopback

    results: list[CaseResult] = []
    unchecked: dict[str, str] = {}
    for name, plugin in _load(list(dict.fromkeys(args.plugins))).items():
        if isinstance(plugin, BaseException):
            unchecked[name] = f"failed to load: {type(plugin).__name__}: {plugin}"
            continue
        target = Conformance(plugin)
        if target.app_factory() is None:
            unchecked[name] = ("ships no emulator (the jackfield_emulator hook), so it cannot "
                               "be checked: see CONTRIBUTING.md section 7")
            continue
        with only_loopback():
            for result in await run_conformance(target, select=tuple(args.cases)):
                results.append(result)
                if not args.json:
                    print(result.line(), flush=True)
    failed = [r for r in results if r.outcome == "fail"]
    counts = {outcome: sum(r.outcome == outcome for r in results)
              for outcome in ("pass", "fail", "skip")}
    if args.json:
        print(json.dumps({"results": [r.to_dict() for r in results], "summary": counts,
                          "unchecked": unchecked}, indent=2))
    else:
        print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    for name, why in unchecked.items():
        print(f"{PROG} check: plugin {name!r} {why}", file=sys.stderr)
    if failed:
        print(f"{PROG} check: {len(failed)} case(s) failed: "
              + ", ".join(f"{r.plugin} {r.case}" for r in failed), file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_UNCHECKED if unchecked else 0
