"""`jackfield logs`: list and search the logged prompts and replies; where the log is;
logging on or off. The parser is built here (main.py registers it with one call); sqlite3
and the store are imported only when the command runs, so `jackfield --help` stays fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from jackfield._cli.common import Parser

if TYPE_CHECKING:
    from jackfield._cli.logstore import LoggedResponse

__all__ = ["add_parser", "cmd_logs", "format_entry"]

_ACTIONS = ("list", "path", "on", "off")


def add_parser(command: Callable[..., Parser]) -> Parser:
    """Add `logs` through main.py's command(name, help, run, *examples) factory."""
    logs = command("logs", "List or search the logged prompts and replies (newest last).",
                   cmd_logs, "jackfield logs -n 10", 'jackfield logs -q "lighthouse" --json',
                   "jackfield logs --cid 1a2b3c4d5e6f7a8b9c0", "jackfield logs path",
                   "jackfield logs off   # stop logging; `jackfield logs on` resumes")
    logs.add_argument("action", nargs="?", choices=_ACTIONS, default="list",
                      help="list (the default), path: print where the log is, on / off: turn "
                           "logging on or off for every later call")
    logs.add_argument("-n", "--count", type=int, default=3, metavar="N",
                      help="show the N most recent (or best matching) responses; 0: all")
    logs.add_argument("-q", "--query", metavar="TEXT",
                      help="only responses whose prompt or reply holds these words")
    logs.add_argument("--cid", metavar="ID", help="only this conversation's responses")
    logs.add_argument("--json", action="store_true", help="print JSON instead of text")
    return logs


def cmd_logs(args: argparse.Namespace) -> int:
    """Run `jackfield logs ACTION`."""
    from jackfield._cli.logstore import LogStore, log_path, logging_enabled, set_logging

    path = log_path()
    if args.action == "path":
        print(path)
        return 0
    if args.action in ("on", "off"):
        set_logging(path, args.action == "on")
        print(f"logging {args.action} ({path})")
        return 0
    if not logging_enabled(path):
        print("jackfield: logging is off (`jackfield logs on` turns it on)", file=sys.stderr)
    if not path.exists():
        print("[]" if args.json else f"no logs yet ({path})")
        return 0
    with LogStore.open(path) as store:
        if args.query and not store.full_text:
            print("jackfield: warning: this SQLite has no FTS5: searching for the exact text",
                  file=sys.stderr)
        entries = store.search(args.query, limit=args.count, cid=args.cid)
    if not args.query:
        entries.reverse()  # the newest last, nearest the prompt, as a conversation reads
    if args.json:
        import json

        print(json.dumps([entry.to_dict() for entry in entries], indent=2))
    elif not entries:
        print("no responses match" if args.query or args.cid else f"no logs yet ({path})")
    else:
        print("\n\n".join(format_entry(entry) for entry in entries))
    return 0


def format_entry(entry: LoggedResponse) -> str:
    """Return one response as readable text: a heading line, then prompt and reply."""
    from datetime import datetime

    when = datetime.fromisoformat(entry.created).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    served = f"{entry.model} via {entry.provider}" if entry.provider else entry.model
    facts = [when, served, f"cid {entry.cid}", f"{entry.duration_ms / 1000:.1f} s"]
    if entry.usage and entry.usage.get("total_tokens") is not None:
        facts.append(f"{entry.usage['total_tokens']} tokens")
    if entry.options:
        facts.append(" ".join(f"{key}={value}" for key, value in entry.options.items()))
    lines = ["# " + " · ".join(facts)]
    if entry.system:
        lines.append(f"system: {entry.system}")
    lines += [f"> {line}" for line in entry.prompt.splitlines() or [""]]
    if entry.reply:
        lines.append(entry.reply)
    lines += [f"image: {path}" for path in entry.images]
    lines += [f"warning: {warning}" for warning in entry.warnings]
    if entry.error:
        lines.append(f"error: {entry.error}")
    return "\n".join(lines)
