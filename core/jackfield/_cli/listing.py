"""`jackfield models` and `jackfield plugins`: the listings, as tables or JSON.

Both start fast and load no HTTP stack: `models` answers from the listing cache when it can
(jackfield._cli.listing_cache), and only a miss, or `plugins`, builds a Registry. On a miss,
the providers whose plugin discovers are asked for their models (the HTTP stack is then
loaded); a service that does not answer leaves its static list and a warning on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jackfield._cli.capabilities import compact
from jackfield._cli.common import EXIT_USAGE, CliError, warn

if TYPE_CHECKING:
    import logging

    from jackfield._cli.listing_cache import Listing
    from jackfield._engine.registry import Registry

__all__ = ["NO_PLUGINS", "ROUTE", "ask_services", "cmd_models", "cmd_plugins", "discovering",
           "listing", "print_json", "table"]

NO_PLUGINS = ("no provider plugin is installed: install one, e.g. `pip install "
              "jackfield-aichats jackfield-amigochat` (see `jackfield plugins`)")
ROUTE = "(route)"  # the PROVIDER cell of a route group, listed as a model of its own
DISCOVERS = "jackfield_discover_models"


def _discover() -> Registry:
    from jackfield._engine.registry import Registry

    return Registry.discover()


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return rows under headers in columns two spaces apart, without trailing spaces."""
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                        strict=True)).rstrip()
                     for row in (headers, *rows))


def print_json(value: Any) -> None:
    """Print value as indented JSON."""
    import json

    print(json.dumps(value, indent=2))


def discovering(registry: Registry) -> set[str]:
    """Return the providers whose plugin asks its service for its models (instances too)."""
    return {name for record in registry.plugins() if DISCOVERS in record.hooks
            for name in (record.provider, *record.instances) if name}


class _DiscoveryLog:
    """Drops the core's log line for each discovery failure while the services are asked:
    the command prints discovery_warnings() itself, also when it answers from the cache."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.module != "model_book"


def ask_services(registry: Registry) -> None:
    """Ask every service that discovers for its models (one event loop, closed after)."""
    import asyncio
    import logging

    async def ask() -> None:
        try:
            await registry.refresh_models()  # never raises for a service's failure
        finally:
            await registry.aclose()

    logger, muted = logging.getLogger("jackfield"), _DiscoveryLog()
    logger.addFilter(muted)
    try:
        asyncio.run(ask())
    finally:
        logger.removeFilter(muted)


def listing(args: argparse.Namespace) -> Listing:
    """Return the providers, every model (route groups too) and the discovery warnings: from
    the cache when nothing it was built from has changed and it has not expired (no engine
    import), else from a new Registry that asks the services that discover (and cache it)."""
    from jackfield._cli import listing_cache

    path, key = listing_cache.cache_path(), listing_cache.fingerprint()
    cached = None if args.refresh else listing_cache.load(path, key)
    if cached is not None and args.provider in (None, *cached[0]):
        return cached
    registry = _discover()
    names = [spec.name for spec in registry.providers()]
    if args.provider is not None and args.provider not in names:
        from jackfield._engine.discovery import KNOWN_PLUGINS

        dist = next((d for d, (name, _) in KNOWN_PLUGINS.items() if name == args.provider), None)
        raise CliError(f"no installed provider is named {args.provider!r}; installed: "
                       f"{', '.join(names) or 'none'}"
                       + (f"; `pip install {dist}` provides it" if dist else ""), EXIT_USAGE)
    asked = discovering(registry)
    if asked:
        ask_services(registry)
    warnings = registry.discovery_warnings()
    found = names, [model.to_dict() for model in registry.models(include_routes=True)], warnings
    # A plugin that failed to load may load next time: do not keep a list without it.
    if not any(record.error for record in registry.plugins()):
        policy = registry.discovery
        # A service that failed is asked again soon; a provider that cannot be asked as
        # configured (no key) waits, like a listing, until a setting or the ttl changes.
        failed = {name for name in asked if registry._book.failed(name)}
        lifetime = (None if not asked else min(policy.ttl, policy.retry) if failed
                    else policy.ttl)
        listing_cache.store(path, key, found, lifetime)
    return found


def _row(model: dict[str, Any]) -> tuple[str, ...]:
    if not model["provider"]:  # a route group: its members where a model's aliases go
        return (model["id"], ROUTE, model["kind"],
                "members: " + ", ".join(model.get("members") or ()),
                "yes" if model["available"] else "no", "-",
                compact(model.get("capabilities"), model["kind"]))
    return (model["id"], model["provider"], model["kind"], ", ".join(model["aliases"]) or "-",
            "yes" if model["available"] else "no", "yes" if model["default"] else "-",
            compact(model.get("capabilities"), model["kind"]))


def cmd_models(args: argparse.Namespace) -> int:
    """List the models of every installed provider and the route groups (a table, or JSON);
    why a service's list may be out of date goes to stderr."""
    names, every, warnings = listing(args)
    warn(warnings[name] for name in sorted(warnings)
         if args.provider in (None, name))
    models = [m for m in every
              if args.kind in (None, m["kind"]) and args.provider in (None, m["provider"])]
    from jackfield._cli.probe import probe_cells

    probes = probe_cells(models)  # None until something was probed: the output is as before
    if args.json:
        print_json(models if probes is None else [m | {"probe": None if cell == "-" else cell}
                                                  for m, cell in zip(models, probes,
                                                                     strict=True)])
        return 0
    if not models:
        print(f"no models: {NO_PLUGINS}" if not names else "no models match", file=sys.stderr)
        return 0
    headers: tuple[str, ...] = ("ID", "PROVIDER", "KIND", "ALIASES", "AVAILABLE", "DEFAULT",
                                "CAPABILITIES")
    rows: list[tuple[str, ...]] = [_row(m) for m in models]
    if probes is not None:
        headers, rows = (*headers, "PROBE"), [(*row, cell) for row, cell in zip(rows, probes,
                                                                                 strict=True)]
    print(table(headers, rows))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List the installed plugins, the instances of each (named providers that reuse it),
    their hooks, model counts, load errors and health."""
    registry = _discover()
    records = registry.plugins()
    health = registry.health()
    from jackfield._cli.probe import probe_entries, provider_summary

    probed, problem = probe_entries()
    warn([problem] if problem else [])
    # Only once something was probed: the output is otherwise as it always was.
    summaries = {record.name: provider_summary((record.provider or "", *record.instances),
                                               probed)
                 for record in records} if probed else None
    if args.json:
        print_json([record.to_dict() | {"health": health[record.provider].to_dict()
                                         if record.provider in health else None}
                    | ({} if summaries is None else {"probes": summaries[record.name]})
                     for record in records])
        return 0
    if not records:
        print(f"{NO_PLUGINS}; plugins register in the entry-point group `jackfield`, and "
              "JACKFIELD_LOAD_PLUGINS chooses among them", file=sys.stderr)
        return 0
    rows: list[tuple[str, ...]] = []
    for record in records:
        entry = health.get(record.provider or "")
        if record.error:
            state = "failed to load"
        elif entry is None:
            state = "-"  # a plugin that only wraps the hooks of others
        elif entry.cooling_down:
            state = f"cooling down {entry.cooldown_remaining:.0f}s"
        else:
            state = f"ok ({entry.failures} failures)" if entry.failures else "ok"
        hooks = ",".join(hook.removeprefix("jackfield_") for hook in record.hooks)
        rows.append((record.name, record.version or "-", record.provider or "-",
                     ", ".join(record.instances) or "-", str(record.model_count),
                     hooks or "-", state))
    headers: tuple[str, ...] = ("PLUGIN", "VERSION", "PROVIDER", "INSTANCES", "MODELS",
                                "HOOKS", "STATE")
    if summaries is not None:
        headers = (*headers, "PROBES")
        rows = [(*row, ", ".join(f"{n} {status}" for status, n in sorted(
            summaries[record.name].items())) or "-") for row, record in zip(rows, records,
                                                                             strict=True)]
    print(table(headers, rows))
    for record in records:
        if record.error:
            print(f"{record.name}: {record.error}")
    return 0
