"""The log database's schema: ordered migrations keyed by SQLite's `user_version`.

Each step takes a database at version N-1 to version N inside one transaction, so a crash
mid-step leaves the old version intact. Never edit a released step: append a new one.
The full-text index is not a step: SQLite builds without FTS5 exist, so it is made (and
filled from the rows already there) whenever it is missing and FTS5 is available.
Connections are opened with isolation_level=None: the transactions here are explicit.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from jackfield._cli.common import CliError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "ensure_fts", "fts_available", "migrate"]

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations and their responses.
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        created TEXT NOT NULL,
        model TEXT NOT NULL,
        provider TEXT,
        system TEXT,
        prompt TEXT NOT NULL,
        options TEXT NOT NULL,      -- JSON object, secret values masked
        reply TEXT,                 -- NULL when the call failed before any text
        usage TEXT,                 -- JSON object or NULL
        duration_ms REAL NOT NULL,
        warnings TEXT NOT NULL,     -- JSON list of strings
        error TEXT                  -- masked one-line error, NULL on success
    );
    CREATE INDEX responses_by_conversation ON responses(conversation_id, created);
    """,
    # 2: image replies live as files next to the database; a row per file, in reply order.
    """
    CREATE TABLE images (
        response_id TEXT NOT NULL REFERENCES responses(id),
        position INTEGER NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (response_id, position)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_FTS = """
    CREATE VIRTUAL TABLE responses_fts USING fts5(
        prompt, reply, content='responses', content_rowid='rowid');
    CREATE TRIGGER responses_ai AFTER INSERT ON responses BEGIN
        INSERT INTO responses_fts(rowid, prompt, reply)
        VALUES (new.rowid, new.prompt, new.reply);
    END;
    CREATE TRIGGER responses_ad AFTER DELETE ON responses BEGIN
        INSERT INTO responses_fts(responses_fts, rowid, prompt, reply)
        VALUES ('delete', old.rowid, old.prompt, old.reply);
    END;
    INSERT INTO responses_fts(responses_fts) VALUES ('rebuild');
"""


def _transaction(db: sqlite3.Connection, script: str) -> None:
    """Run script as one transaction; on any failure leave the database as it was."""
    try:
        db.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
    except sqlite3.Error:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring db up to SCHEMA_VERSION; refuse a database written by a newer jackfield."""
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise CliError(f"the log database {path} has schema version {version}, newer than "
                       f"this jackfield's {SCHEMA_VERSION}: upgrade jackfield, or point "
                       "JACKFIELD_LOGS at another file")
    for number in range(version + 1, SCHEMA_VERSION + 1):
        # The step's tables and its version number commit together (PRAGMA takes no
        # parameters; number is ours).
        _transaction(db, f"{MIGRATIONS[number - 1]}\nPRAGMA user_version = {number};")


def fts_available(db: sqlite3.Connection) -> bool:
    """Return True if this SQLite was built with FTS5."""
    try:
        db.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    db.execute("DROP TABLE temp.fts5_probe")
    return True


def ensure_fts(db: sqlite3.Connection) -> bool:
    """Make the full-text index of prompts and replies if missing; return False without FTS5."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'responses_fts'").fetchone():
        return True
    if not fts_available(db):
        return False
    _transaction(db, _FTS)
    return True
