"""Conversations and the log of every prompt and reply, in one SQLite file.

API (private to the command line; `jackfield chat`, its interactive session and `jackfield
logs` use it):

    with LogStore.open() as store:                       # log_path(): JACKFIELD_LOGS, else
        cid = store.last_conversation() or store.new_conversation("gpt-4o")  # the data dir
        messages = conversation_messages(store.history(cid), "hi", system=None)
        ...                                              # call the model with messages
        store.record(cid, prompt="hi", system=None, model="gpt-4o", provider="aichats",
                     options={}, reply="hello", usage={"total_tokens": 3}, duration_ms=12.5)
        store.search("hello", limit=3)                   # newest first (best first with text)
        store.conversation_model(cid)                    # the model to keep using (-c)

search() returns LoggedResponse records (to_dict() for JSON). open() raises CliError for a
database it cannot use, history() and conversation_model() for an unknown conversation id.

Secrets never reach the file: option values under a secret-looking name (token, cookie, key,
...) are stored as ***, and option values and error text are masked with every secret this
process has seen (jackfield._secrets) plus any passed as `secrets=`. Image replies are copied
to <logs dir>/images/<response id>-<n><ext>; the log holds those paths. Logging is off while
the file `logs-off` exists next to the database (`jackfield logs off`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from jackfield._cli.common import CliError
from jackfield._cli.logschema import ensure_fts, migrate

__all__ = ["LOGS_ENV", "LogStore", "LoggedResponse", "conversation_messages", "log_path",
           "logging_enabled", "set_logging"]

LOGS_ENV = "JACKFIELD_LOGS"
_OFF_FLAG = "logs-off"
# Option names whose values are credentials whatever the provider calls them: a word of the
# name (api_key, access-token) is one of these; max_tokens is not.
_SECRET_NAME = re.compile(r"(?i)(?:^|[_.-])(?:api_?key|key|token|secret|passw(?:or)?d|cookie"
                          r"|auth(?:orization)?|credentials?|session)(?:$|[_.-])")


def log_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the log database: $JACKFIELD_LOGS (a file, or a directory to hold logs.db),
    else logs.db in the user data directory (platformdirs)."""
    configured = environ.get(LOGS_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser()
        return path / "logs.db" if path.is_dir() or configured.endswith(("/", os.sep)) else path
    import platformdirs

    return Path(platformdirs.user_data_dir("jackfield", appauthor=False)) / "logs.db"


def logging_enabled(path: Path) -> bool:
    """Return False if `jackfield logs off` turned logging off for the database at path."""
    return not (path.parent / _OFF_FLAG).exists()


def set_logging(path: Path, enabled: bool) -> None:
    """Turn logging to the database at path on or off (a flag file next to it)."""
    flag = path.parent / _OFF_FLAG
    if enabled:
        flag.unlink(missing_ok=True)
    else:
        flag.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        flag.touch()


def conversation_messages(history: Sequence[Mapping[str, str]], prompt: str,
                          system: str | None = None) -> list[dict[str, str]]:
    """Return the messages for the next turn: history, then prompt; system, if given,
    replaces the conversation's system message."""
    messages = [dict(m) for m in history if system is None or m["role"] != "system"]
    if system:
        messages.insert(0, {"role": "system", "content": system})
    messages.append({"role": "user", "content": prompt})
    return messages


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _new_id() -> str:
    """Return a unique id that sorts by creation time (milliseconds, then random)."""
    return f"{time.time_ns() // 1_000_000:011x}{uuid.uuid4().hex[:8]}"


@attrs.frozen
class LoggedResponse:
    """One logged call: what was asked, of whom, and what came back."""

    id: str
    cid: str
    created: str  # ISO 8601, UTC
    model: str
    provider: str | None
    system: str | None
    prompt: str
    options: dict[str, Any]
    reply: str | None
    usage: dict[str, int | None] | None
    duration_ms: float
    warnings: tuple[str, ...]
    error: str | None
    images: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the response as JSON-ready data."""
        data = attrs.asdict(self)
        data["warnings"], data["images"] = list(self.warnings), list(self.images)
        return data


class LogStore:
    """The log database; open with LogStore.open(), close (or use `with`) when done."""

    def __init__(self, db: sqlite3.Connection, path: Path, full_text: bool) -> None:
        self._db = db
        self.path = path
        self.full_text = full_text

    @classmethod
    def open(cls, path: Path | None = None) -> LogStore:
        """Open (creating and migrating as needed) the database at path, else log_path()."""
        path = log_path() if path is None else Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # prompts are private
            fresh = not path.exists()
            db = sqlite3.connect(path, isolation_level=None, timeout=10)
        except (OSError, sqlite3.Error) as error:
            raise CliError(f"cannot open the log database {path}: {error}; point "
                           f"{LOGS_ENV} elsewhere, or pass --no-log") from error
        try:
            if fresh:
                os.chmod(path, 0o600)
            db.execute("PRAGMA foreign_keys = ON")
            migrate(db, path)
            full_text = ensure_fts(db)
        except sqlite3.DatabaseError as error:
            db.close()
            raise CliError(f"cannot use the log database {path}: {error}; move it away, or "
                           f"point {LOGS_ENV} elsewhere") from error
        except BaseException:
            db.close()
            raise
        return cls(db, path, full_text)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> LogStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def new_conversation(self, model: str) -> str:
        """Start a conversation with model; return its id."""
        cid = _new_id()
        self._db.execute("INSERT INTO conversations (id, model, created) VALUES (?, ?, ?)",
                         (cid, model, _now()))
        return cid

    def last_conversation(self) -> str | None:
        """Return the id of the conversation with the latest response, else the newest one."""
        # rowid order is insertion order (nothing is deleted): exact even within a millisecond.
        row = (self._db.execute("SELECT conversation_id FROM responses ORDER BY rowid DESC"
                                " LIMIT 1").fetchone()
               or self._db.execute("SELECT id FROM conversations ORDER BY rowid DESC"
                                   " LIMIT 1").fetchone())
        return None if row is None else str(row[0])

    def conversation_model(self, cid: str) -> str:
        """Return the model last used in conversation cid (CliError if there is none)."""
        row = self._db.execute(
            "SELECT coalesce((SELECT model FROM responses WHERE conversation_id = c.id"
            " ORDER BY rowid DESC LIMIT 1), c.model) FROM conversations c WHERE c.id = ?",
            (cid,)).fetchone()
        if row is None:
            raise CliError(f"no conversation {cid!r} in {self.path}: `jackfield logs` shows "
                           "each response's cid")
        return str(row[0])

    def history(self, cid: str) -> list[dict[str, str]]:
        """Return the conversation as messages to send again: its latest system prompt
        first, then each turn that got its whole reply (user, then assistant)."""
        self.conversation_model(cid)  # refuse an unknown id
        rows = self._db.execute("SELECT system, prompt, reply, error FROM responses WHERE "
                                "conversation_id = ? ORDER BY rowid", (cid,)).fetchall()
        messages: list[dict[str, str]] = []
        system = None
        for row_system, prompt, reply, error in rows:
            system = row_system if row_system is not None else system
            # A failed turn sent nothing useful, and a cut-off reply (Ctrl-C, a broken stream)
            # is not what the model said: the live session drops both, and so does -c.
            if reply and error is None:
                messages += [{"role": "user", "content": prompt},
                             {"role": "assistant", "content": reply}]
        return ([{"role": "system", "content": system}] if system else []) + messages

    def record(self, cid: str, *, prompt: str, system: str | None, model: str,
               provider: str | None, options: Mapping[str, Any], reply: str | None,
               usage: Mapping[str, int | None] | None, duration_ms: float,
               warnings: Sequence[str] = (), error: str | None = None,
               images: Sequence[Path] = (), secrets: Iterable[str] = ()) -> str:
        """Log one call in conversation cid (copying its image files); return its id."""
        from jackfield._secrets import MASK, Redactor, mask_known

        redactor = Redactor(secrets)

        def mask(text: str) -> str:
            return mask_known(redactor.mask(text))

        shown = {key: MASK if _SECRET_NAME.search(key) else
                 mask(value) if isinstance(value, str) else value
                 for key, value in options.items()}
        response_id = _new_id()
        stored = self._copy_images(response_id, images)
        with _transaction(self._db):
            self._db.execute(
                "INSERT INTO responses (id, conversation_id, created, model, provider, system,"
                " prompt, options, reply, usage, duration_ms, warnings, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (response_id, cid, _now(), model, provider, system, prompt,
                 json.dumps(shown, default=str), reply,
                 None if usage is None else json.dumps(dict(usage)), float(duration_ms),
                 json.dumps([mask(w) for w in warnings]),
                 None if error is None else mask(error)))
            self._db.executemany("INSERT INTO images (response_id, position, path)"
                                 " VALUES (?, ?, ?)",
                                 [(response_id, n, str(p)) for n, p in enumerate(stored)])
        return response_id

    def search(self, query: str | None, *, limit: int,
               cid: str | None = None) -> list[LoggedResponse]:
        """Return up to limit (0: all) responses, newest first; with query, those whose prompt or
        reply holds its words, best match first (or containing it, without FTS5)."""
        where, params = [], []
        order = "r.rowid DESC"
        join = ""
        if cid is not None:
            where.append("r.conversation_id = ?")
            params.append(cid)
        query = query.strip() if query else None
        if query and self.full_text:
            join = "JOIN responses_fts f ON f.rowid = r.rowid"
            where.append("responses_fts MATCH ?")
            params.append(_fts_query(query))
            order = "f.rank, r.rowid DESC"
        elif query:  # no FTS5 in this SQLite (the caller says so: see full_text)
            where.append("(r.prompt LIKE ? ESCAPE '\\' OR r.reply LIKE ? ESCAPE '\\')")
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query) + "%"
            params += [pattern, pattern]
        sql = (f"SELECT r.* FROM responses r {join}"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + f" ORDER BY {order} LIMIT ?")
        self._db.row_factory = sqlite3.Row
        try:
            rows = self._db.execute(sql, (*params, limit if limit > 0 else -1)).fetchall()
        finally:
            self._db.row_factory = None
        return [self._entry(row) for row in rows]

    def _entry(self, row: sqlite3.Row) -> LoggedResponse:
        images = tuple(str(path) for (path,) in self._db.execute(
            "SELECT path FROM images WHERE response_id = ? ORDER BY position", (row["id"],)))
        return LoggedResponse(
            id=row["id"], cid=row["conversation_id"], created=row["created"],
            model=row["model"], provider=row["provider"], system=row["system"],
            prompt=row["prompt"], options=json.loads(row["options"]), reply=row["reply"],
            usage=None if row["usage"] is None else json.loads(row["usage"]),
            duration_ms=row["duration_ms"], warnings=tuple(json.loads(row["warnings"])),
            error=row["error"], images=images)

    def _copy_images(self, response_id: str, images: Sequence[Path]) -> list[Path]:
        if not images:
            return []
        folder = self.path.parent / "images"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        copies = []
        for number, source in enumerate(images, 1):
            target = folder / f"{response_id}-{number}{Path(source).suffix}"
            shutil.copyfile(source, target)
            copies.append(target)
        return copies


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN ... COMMIT, or ROLLBACK on any error (the connection is in autocommit mode)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _fts_query(text: str) -> str:
    """Return text as an FTS5 query of its words, each quoted (no FTS5 syntax errors)."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split()) or '""'
