"""`jackfield keys`: provider secrets kept in the user's keys file, never printed.

`keys set PROVIDER [SETTING]` reads the value hidden on a terminal (getpass), or one line
from piped standard input; never from the command line, where the process list shows it.
Every registry reading the real environment then uses it, below the environment variable.
PROVIDER may be a named instance declared in the config file (`[providers.local-vllm]
plugin = "openai"`): its keys are its own, stored under its name.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from jackfield._cli.common import EXIT_USAGE, CliError, Parser

if TYPE_CHECKING:
    from pathlib import Path

    from jackfield._types.specs import ProviderSpec

__all__ = ["add_parser", "read_secret"]

Command = Callable[..., Parser]


def add_parser(command: Command) -> None:
    """Add `keys` and its actions through main.py's command(name, help, run, *examples)."""
    keys = command("keys", "Keep provider keys (tokens, cookies) in the user's keys file.",
                   _usage, "jackfield keys set amigochat          # asks for the token, hidden",
                   "printf '%s\\n' \"$TOKEN\" | jackfield keys set amigochat token",
                   "jackfield keys list", "jackfield keys remove amigochat")
    actions = keys.add_subparsers(title="actions", metavar="ACTION", parser_class=Parser)
    set_key = actions.add_parser("set", help="store a key, read hidden (or one piped line)",
                                 description="Store a provider's secret setting; the "
                                             "environment variable still wins over it.")
    set_key.add_argument("provider", metavar="PROVIDER", help="provider name, e.g. amigochat")
    set_key.add_argument("setting", nargs="?", metavar="SETTING",
                         help="which secret setting (default: the provider's only one)")
    set_key.set_defaults(run=cmd_set)
    actions.add_parser("list", help="the stored provider and setting names, never values"
                       ).set_defaults(run=cmd_list)
    actions.add_parser("path", help="where the keys file is").set_defaults(run=cmd_path)
    remove = actions.add_parser("remove", help="forget a key (all of a provider's without "
                                               "SETTING)")
    remove.add_argument("provider", metavar="PROVIDER")
    remove.add_argument("setting", nargs="?", metavar="SETTING")
    remove.set_defaults(run=cmd_remove)


def _usage(args: argparse.Namespace) -> int:
    raise CliError("say what to do: `jackfield keys set PROVIDER`, `keys list`, `keys path` "
                   "or `keys remove PROVIDER`", EXIT_USAGE)


def _path() -> Path:
    from jackfield._settings.userfiles import keys_path

    path = keys_path()
    assert path is not None  # the real environment always has a config directory
    return path


def _providers() -> tuple[dict[str, ProviderSpec], str]:
    """Return the installed providers and the config file's instances of them, and why the
    instances could not be read ("" when they could)."""
    # The plugins and the config file's [providers] tables, not a Registry: a broken keys
    # file must not stop the very command that mends it, nor a broken config file the
    # keys of the plugins' own providers.
    from jackfield._engine.discovery import load_plugins
    from jackfield._errors import ConfigurationError
    from jackfield._settings.configfile import CONFIG_ENV, load_config_file
    from jackfield._settings.instances import instance_spec

    providers = dict(load_plugins(None, os.environ).providers)
    file = os.environ.get(CONFIG_ENV)
    if not file:
        return providers, ""
    try:
        tables = load_config_file(file).get("config", {})
        for name, table in tables.items():
            plugin = table.get("plugin")
            if isinstance(plugin, str) and plugin in providers and name not in providers:
                providers[name] = instance_spec(providers[plugin], name,
                                                f"{file}: [providers.{name}]")
    except ConfigurationError as error:
        return providers, str(error)
    return providers, ""


def _secret_setting(spec: ProviderSpec, setting: str | None) -> str:
    secrets = sorted(name for name, s in spec.settings.items() if s.secret)
    if setting is None and len(secrets) == 1:
        return secrets[0]
    if setting is not None and setting in secrets:
        return setting
    if not secrets:
        raise CliError(f"provider {spec.name!r} declares no secret setting to store", EXIT_USAGE)
    what = "name one of its secret settings" if setting is None else (
        f"{setting!r} is not one of its secret settings")
    raise CliError(f"provider {spec.name!r}: {what}: {', '.join(secrets)} (e.g. `jackfield "
                   f"keys set {spec.name} {secrets[0]}`)", EXIT_USAGE)


def read_secret(prompt: str, stdin: TextIO | None = None) -> str:
    """Read a secret: hidden from a terminal, else the first line of standard input."""
    stdin = stdin if stdin is not None else sys.stdin
    if stdin is not None and stdin.isatty():
        import getpass

        value = getpass.getpass(prompt)
    else:
        value = stdin.readline() if stdin is not None else ""
    value = value.strip()
    if not value:
        raise CliError("no value given: type it when asked, or pipe it on standard input",
                       EXIT_USAGE)
    return value


def cmd_set(args: argparse.Namespace) -> int:
    """Store one secret setting of an installed provider."""
    from jackfield._settings.config import env_name
    from jackfield._settings.userfiles import read_keys, write_json

    providers, problem = _providers()
    spec = providers.get(args.provider)
    if spec is None:
        unread = f"; the config file's instances could not be read: {problem}" if problem else ""
        raise CliError(f"no installed provider is named {args.provider!r}, nor an instance "
                       f"in the config file; installed: {', '.join(sorted(providers)) or 'none'}"
                       f" (see `jackfield plugins`){unread}", EXIT_USAGE)
    setting = _secret_setting(spec, args.setting)
    value = read_secret(f"{spec.name} {setting} (input hidden): ")
    path = _path()
    keys = read_keys(path)
    keys.setdefault(spec.name, {})[setting] = value
    write_json(path, keys, private=True)
    print(f"stored {spec.name} {setting} in {path}", file=sys.stderr)
    variable = env_name(spec.name, setting)
    if os.environ.get(variable):
        print(f"note: {variable} is set and wins over the stored key; unset it to use the "
              "key", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print each stored provider and setting name, one a line; values never."""
    from jackfield._settings.config import env_name
    from jackfield._settings.userfiles import read_keys

    keys = read_keys(_path())
    if not keys:
        print("no keys stored: `jackfield keys set PROVIDER` adds one", file=sys.stderr)
    for provider in sorted(keys):
        for setting in sorted(keys[provider]):
            variable = env_name(provider, setting)
            note = f"  (overridden by {variable})" if os.environ.get(variable) else ""
            print(f"{provider} {setting}{note}")
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    """Print the keys file's path (it may not exist yet)."""
    print(_path())
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Forget one stored setting, or all of a provider's."""
    from jackfield._settings.userfiles import read_keys, write_json

    path = _path()
    keys = read_keys(path)
    stored = keys.get(args.provider, {})
    if args.setting is None and stored:
        del keys[args.provider]
    elif args.setting is not None and args.setting in stored:
        del stored[args.setting]
        if not stored:
            del keys[args.provider]
    else:
        what = args.provider + (f" {args.setting}" if args.setting else "")
        raise CliError(f"no key is stored for {what}; `jackfield keys list` shows the stored "
                       "ones", EXIT_USAGE)
    write_json(path, keys, private=True)
    print(f"removed {args.provider}" + (f" {args.setting}" if args.setting else "")
          + f" from {path}", file=sys.stderr)
    return 0
