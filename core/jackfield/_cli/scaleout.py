"""`jackfield serve-keys` (named server keys) and serve's scale-out settings: its keys, its
Redis, its workers. Light imports: main.py builds its parser from here."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from jackfield._cli.common import EXIT_USAGE, CliError, Parser, whole

if TYPE_CHECKING:
    from pathlib import Path

    from jackfield._server.server_keys import ServerKey

__all__ = ["ServeShared", "add_parser", "add_serve_flags", "serve_shared"]

REDIS_URL_ENV = "JACKFIELD_REDIS_URL"  # the same as jackfield._shared.store's

_COUNT = whole(1)  # at least one



def add_serve_flags(serve: Parser) -> None:
    """Add serve's --workers, --redis and --keys."""
    serve.add_argument("--workers", type=_COUNT, default=1, metavar="N",
                       help="serve from N processes sharing the port (default: 1: one process "
                            "already fills a core with calls that mostly wait on providers; "
                            "more pay off for many streams at once, on a machine with cores "
                            "to spare; with --redis they share cooldowns and limits)")
    serve.add_argument("--redis", metavar="URL",
                       help="share provider cooldowns and the keys' limits with every worker "
                            "and instance through this Redis, e.g. redis://127.0.0.1:6379/0 "
                            f"(default: ${REDIS_URL_ENV}, else [redis] url in the config file; "
                            "none: each process keeps its own)")
    serve.add_argument("--keys", metavar="FILE",
                       help="the named server keys (default: $JACKFIELD_SERVER_KEYS, else "
                            "server_keys.json in the config directory if it exists; "
                            "`jackfield serve-keys add NAME` makes one)")


class ServeShared(NamedTuple):
    """What serve shares: its named keys and its Redis (None: none)."""

    keys: list[ServerKey]
    redis_url: str | None
    redis_prefix: str


def serve_shared(args: argparse.Namespace, environ: Mapping[str, str] = os.environ,
                 ) -> ServeShared:
    """Gather serve's named keys and Redis from its flags, the environment, the config file."""
    from jackfield._server.server_keys import keys_path, parse_keys, read_keys_file
    from jackfield._settings.configfile import server_tables
    from jackfield._shared.store import DEFAULT_PREFIX

    tables = server_tables(environ)
    from pathlib import Path  # here: main.py builds its parser from this module

    explicit = args.keys is not None
    path = Path(args.keys) if explicit else keys_path(environ)
    keys = read_keys_file(path, missing_ok=not explicit)
    if "server_keys" in tables:
        keys += parse_keys(tables["server_keys"], tables["file"])
    redis = tables.get("redis", {})
    url = args.redis or environ.get(REDIS_URL_ENV) or redis.get("url")
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise CliError("the Redis URL must start with redis://, rediss:// or unix:// (e.g. "
                       "redis://127.0.0.1:6379/0)", EXIT_USAGE)
    return ServeShared(keys, url or None, redis.get("prefix", DEFAULT_PREFIX))


Command = Callable[..., Parser]


def add_parser(command: Command) -> None:
    """Add `serve-keys` and its actions through main.py's command()."""
    keys = command("serve-keys", "Make and list the named keys clients use to call "
                   "`jackfield serve`.", _usage,
                   "jackfield serve-keys add alice --rpm 60 --tpm 100000 --concurrent 4",
                   "jackfield serve-keys add ci --model 'aichats/*'",
                   "jackfield serve-keys list", "jackfield serve-keys remove alice")
    keys.add_argument("--file", metavar="FILE",
                      help="the keys file (default: $JACKFIELD_SERVER_KEYS, else "
                           "server_keys.json in the config directory)")
    actions = keys.add_subparsers(title="actions", metavar="ACTION", parser_class=Parser)
    add = actions.add_parser("add", help="make a key, print it once, store its hash",
                             description="Make a new key named NAME: it is printed once, "
                                         "only its SHA-256 is stored.")
    add.add_argument("name", metavar="NAME", help="the key's name, as logs show it")
    for limit, what in (("rpm", "requests per minute"), ("tpm", "tokens per minute "
                        "(prompt and completion)"), ("concurrent", "calls in flight at once")):
        add.add_argument(f"--{limit}", type=_COUNT, metavar="N", help=f"at most N {what}")
    add.add_argument("--model", dest="models", action="append", metavar="MODEL",
                     help="a model name or pattern (aichats/*) the key may use (repeatable; "
                          "default: every model)")
    add.add_argument("--replace", action="store_true", help="replace a key of that name")
    add.set_defaults(run=_add)
    listing = actions.add_parser("list", help="the keys' names and limits (never the keys)")
    listing.set_defaults(run=_list)
    remove = actions.add_parser("remove", help="remove a key: it stops working")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(run=_remove)


def _usage(_args: argparse.Namespace) -> int:
    raise CliError("serve-keys needs an action: add, list or remove", EXIT_USAGE)


def _path(args: argparse.Namespace) -> Path:
    from pathlib import Path

    from jackfield._server.server_keys import keys_path

    return Path(args.file) if args.file is not None else keys_path()


def _add(args: argparse.Namespace) -> int:
    from jackfield._server.server_keys import add_key

    key = add_key(_path(args), args.name, rpm=args.rpm, tpm=args.tpm,
                  concurrent=args.concurrent, models=args.models, replace=args.replace)
    print(key, flush=True)
    print(f"jackfield: the key {args.name!r} is shown only now; its hash is in {_path(args)}",
          file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from jackfield._server.server_keys import read_keys_file

    for key in read_keys_file(_path(args)):
        limits: dict[str, Any] = {name: value for name in ("rpm", "tpm", "concurrent")
                                  if (value := getattr(key, name)) is not None}
        shown = " ".join(f"{name}={value}" for name, value in limits.items())
        models = "" if key.models is None else " models=" + ",".join(key.models)
        print(f"{key.name}\t{shown or 'no limits'}{models}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from jackfield._server.server_keys import remove_key

    remove_key(_path(args), args.name)
    return 0
