"""`jackfield models default [MODEL]`: one default model per kind, so `-m` may be left out.

The defaults live in settings.json in the user config directory ({"default_models":
{"chat": "gpt-4o", "image": "dalle"}}); a model is checked against the installed ones when
it is set. Only the command line reads them: a Registry's caller always names its model.
This module also hooks `--options` onto `jackfield models` (jackfield._cli.describe).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jackfield._cli.common import EXIT_USAGE, CliError, HelpFormatter, Parser

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["add_to_models", "default_model", "with_default"]

Run = Callable[[argparse.Namespace], int]
KINDS = ("chat", "image")
_KEY = "default_models"


def add_to_models(models: Parser, run: Run) -> None:
    """Give `jackfield models` its `default [MODEL]` action and --options."""
    models.add_argument("--options", action="store_true",
                        help="each provider's options (type, default, doc) and what each "
                             "model is known to support")
    actions = models.add_subparsers(title="actions", metavar="[default]", parser_class=Parser)
    default = actions.add_parser(
        "default", formatter_class=HelpFormatter,
        help="show the default model of each kind, or set it (used when -m is left out)",
        description="Show the default model of each kind, set it to MODEL, or --clear it.",
        epilog="examples:\n  jackfield models default gpt-4o        # then: jackfield chat "
               "\"hi\"\n  jackfield models default --kind image dalle\n"
               "  jackfield models default --clear")
    default.add_argument("model", nargs="?", metavar="MODEL",
                         help="the model to use when -m is left out (the default of its kind)")
    default.add_argument("--kind", dest="default_kind", choices=KINDS,
                         help="which kind's default (default: MODEL's kind; both to show)")
    default.add_argument("--clear", action="store_true",
                         help="forget the default (of --kind, else of both kinds)")
    default.add_argument("--json", dest="default_json", action="store_true",
                         help="print JSON")
    default.set_defaults(run=cmd_default)

    def dispatch(args: argparse.Namespace) -> int:
        if args.options:
            from jackfield._cli.describe import cmd_options

            return cmd_options(args)
        return run(args)

    models.set_defaults(run=dispatch)
    models.epilog = (models.epilog or "") + (
        "\n  jackfield models default gpt-4o        # then: jackfield chat \"hi\""
        "\n  jackfield models --options --provider amigochat")


def _path() -> Path:
    from jackfield._settings.userfiles import SETTINGS_FILE, config_dir

    folder = config_dir()
    assert folder is not None  # the real environment always has a config directory
    return folder / SETTINGS_FILE


def _read() -> tuple[Path, dict[str, Any], dict[str, str]]:
    from jackfield._settings.userfiles import read_json

    path = _path()
    data = read_json(path)
    table = data.get(_KEY, {})
    if not isinstance(table, dict) or not all(
            kind in KINDS and isinstance(name, str) for kind, name in table.items()):
        raise CliError(f"{path}: {_KEY} must map chat and image to a model name; fix it, or "
                       "run `jackfield models default --clear`")
    return path, data, dict(table)


def default_model(kind: str) -> str | None:
    """Return the default model of kind, or None when none is set."""
    return _read()[2].get(kind)


def _advice(kind: str) -> str:
    return ("`jackfield models default MODEL`" if kind == "chat"
            else f"`jackfield models default --kind {kind} MODEL`")


def with_default(kind: str, run: Run) -> Run:
    """Wrap a command so that a missing -m means the default model of kind (after a
    continued conversation's own model: `chat -c` keeps the model it was having)."""
    def wrapped(args: argparse.Namespace) -> int:
        continues = getattr(args, "continue_", False) or getattr(args, "cid", None)
        if args.model is not None or continues:
            return run(args)
        args.model = default_model(kind)
        if args.model is None:
            also = " (or -c to continue the last conversation)" if kind == "chat" else ""
            raise CliError(f"no model: pass -m MODEL{also}, or set a default {kind} model with "
                           f"{_advice(kind)}", EXIT_USAGE)
        from jackfield._errors import UnknownModelError

        try:
            return run(args)
        except UnknownModelError as error:
            from jackfield._cli.common import cli_message

            raise CliError(f"{cli_message(error)} (the default {kind} model; set another with "
                           f"{_advice(kind)}, or pass -m)", EXIT_USAGE) from error

    return wrapped


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _kind_of(model: str, wanted: str | None) -> str:
    """Check model against the installed ones; return the kind it is the default of."""
    from jackfield._engine.registry import Registry

    kinds = [candidate.model.kind for candidate in Registry.discover().resolve(model)]
    if wanted is None:
        return kinds[0]
    if wanted not in kinds:
        raise CliError(f"{model!r} is {_a(kinds[0])} model, not {_a(wanted)} one: `jackfield "
                       f"models default --kind {kinds[0]} {model}`", EXIT_USAGE)
    return wanted


def cmd_default(args: argparse.Namespace) -> int:
    """Show, set or clear the default model of each kind."""
    from jackfield._settings.userfiles import write_json

    path, data, table = _read()
    kind_arg = args.default_kind or args.kind  # `models --kind image default` means it too
    if args.clear and args.model is not None:
        raise CliError("--clear takes no MODEL", EXIT_USAGE)
    if args.clear or args.model is not None:
        if args.clear:
            for kind in [kind_arg] if kind_arg else KINDS:
                table.pop(kind, None)
            message = f"cleared the default {kind_arg or 'chat and image'} model"
        else:
            kind = _kind_of(args.model, kind_arg)
            table[kind] = args.model
            message = f"the default {kind} model is now {args.model}"
        write_json(path, {**data, _KEY: table})
        print(f"{message} (in {path})", file=sys.stderr)
        return 0
    kinds = [kind_arg] if kind_arg else list(KINDS)
    if args.default_json or args.json:
        import json

        print(json.dumps({kind: table.get(kind) for kind in kinds}, indent=2))
        return 0
    if kind_arg:
        if kind_arg in table:
            print(table[kind_arg])
    else:
        for kind in kinds:
            if kind in table:
                print(f"{kind}  {table[kind]}")
    if not any(kind in table for kind in kinds):
        print(f"no default {kind_arg or ''} model is set: {_advice(kind_arg or 'chat')} "
              "sets one".replace("  ", " "), file=sys.stderr)
    return 0
