"""`jackfield models` and `jackfield plugins`: the listings, as tables or JSON.

Both start fast and load no HTTP stack: `models` answers from the listing cache when it can
(jackfield._cli.listing_cache), and only a miss, or `plugins`, builds a Registry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jackfield._cli.capabilities import compact
from jackfield._cli.common import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from jackfield._engine.registry import Registry

__all__ = ["NO_PLUGINS", "cmd_models", "cmd_plugins", "listing", "print_json", "table"]

NO_PLUGINS = ("no provider plugin is installed: install one, e.g. `pip install "
              "jackfield-aichats jackfield-amigochat` (see `jackfield plugins`)")


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


def listing(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the providers and every model: from the cache when nothing it was built from
    has changed (no engine import), else from a new Registry (and cache that)."""
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
    listing = names, [model.to_dict() for model in registry.models()]
    # A plugin that failed to load may load next time: do not keep a list without it.
    if not any(record.error for record in registry.plugins()):
        listing_cache.store(path, key, listing)
    return listing


def cmd_models(args: argparse.Namespace) -> int:
    """List the models of every installed provider (a table, or JSON)."""
    names, every = listing(args)
    models = [m for m in every
              if args.kind in (None, m["kind"]) and args.provider in (None, m["provider"])]
    if args.json:
        print_json(models)
        return 0
    if not models:
        print(f"no models: {NO_PLUGINS}" if not names else "no models match", file=sys.stderr)
        return 0
    rows = [(m["id"], m["provider"], m["kind"], ", ".join(m["aliases"]) or "-",
             "yes" if m["available"] else "no", "yes" if m["default"] else "-",
             compact(m.get("capabilities"), m["kind"])) for m in models]
    print(table(("ID", "PROVIDER", "KIND", "ALIASES", "AVAILABLE", "DEFAULT", "CAPABILITIES"),
                 rows))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List the installed plugins, their hooks, model counts, load errors and health."""
    registry = _discover()
    records = registry.plugins()
    health = registry.health()
    if args.json:
        print_json([record.to_dict() | {"health": health[record.provider].to_dict()
                                         if record.provider in health else None}
                     for record in records])
        return 0
    if not records:
        print(f"{NO_PLUGINS}; plugins register in the entry-point group `jackfield`, and "
              "JACKFIELD_LOAD_PLUGINS chooses among them", file=sys.stderr)
        return 0
    rows = []
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
                     str(record.model_count), hooks or "-", state))
    print(table(("PLUGIN", "VERSION", "PROVIDER", "MODELS", "HOOKS", "STATE"), rows))
    for record in records:
        if record.error:
            print(f"{record.name}: {record.error}")
    return 0
