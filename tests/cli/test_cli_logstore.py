"""The log store on its own: schema migrations, search without FTS5, history, log_path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jackfield._cli.common import CliError
from jackfield._cli.logschema import MIGRATIONS, SCHEMA_VERSION
from jackfield._cli.logstore import LogStore, conversation_messages, log_path


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()
    return version


def _old_database(path: Path, version: int) -> None:
    """Write a database as a jackfield at schema `version` left it, with one response."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for step in MIGRATIONS[:version]:
            db.executescript(step)
        db.execute(f"PRAGMA user_version = {version}")
        db.execute("INSERT INTO conversations VALUES ('c1', 'gpt-4o', '2026-01-01T00:00:00')")
        db.execute("INSERT INTO responses (id, conversation_id, created, model, provider,"
                   " system, prompt, options, reply, usage, duration_ms, warnings, error)"
                   " VALUES ('r1', 'c1', '2026-01-01T00:00:01', 'gpt-4o', 'amigochat',"
                   " 'be brief', 'an old lighthouse', '{}', 'an old reply', NULL, 5, '[]',"
                   " NULL)")
    finally:
        db.close()


def test_a_database_one_version_old_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    _old_database(path, SCHEMA_VERSION - 1)
    with LogStore.open(path) as store:
        assert [e.id for e in store.search("lighthouse", limit=5)] == ["r1"]  # indexed now
        assert store.last_conversation() == "c1"
        assert store.history("c1") == [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "an old lighthouse"},
            {"role": "assistant", "content": "an old reply"}]
        image = tmp_path / "picture.png"
        image.write_bytes(b"\x89PNG...")
        new = store.record("c1", prompt="a new lighthouse", system=None, model="dalle",
                           provider="aichats", options={}, reply=None, usage=None,
                           duration_ms=2, images=[image])  # the newest step's table works
        [entry] = store.search("new", limit=5)
    assert entry.id == new and Path(entry.images[0]).read_bytes() == b"\x89PNG..."
    assert _version(path) == SCHEMA_VERSION
    with LogStore.open(path) as again:  # opening a current database changes nothing
        assert len(again.search(None, limit=0)) == 2


def test_every_version_migrates(tmp_path: Path) -> None:
    for version in range(SCHEMA_VERSION):
        path = tmp_path / f"v{version}.db"
        if version:
            _old_database(path, version)
        LogStore.open(path).close()
        assert _version(path) == SCHEMA_VERSION


def test_a_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(CliError, match="upgrade jackfield, or point JACKFIELD_LOGS"):
        LogStore.open(path)
    assert _version(path) == SCHEMA_VERSION + 1


def test_a_file_that_is_no_database_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(CliError, match="move it away, or point JACKFIELD_LOGS"):
        LogStore.open(path)


def test_search_without_fts5_matches_the_text_literally(tmp_path: Path) -> None:
    with LogStore.open(tmp_path / "logs.db") as store:
        cid = store.new_conversation("m")
        for prompt in ("100% sure", "1000 sure", "under_score"):
            store.record(cid, prompt=prompt, system=None, model="m", provider=None,
                         options={}, reply="ok", usage=None, duration_ms=1)
        store.full_text = False  # as on a SQLite built without FTS5
        assert [e.prompt for e in store.search("100%", limit=5)] == ["100% sure"]
        assert [e.prompt for e in store.search("r_s", limit=5)] == ["under_score"]
        assert len(store.search("sure", limit=5, cid=cid)) == 2


def test_history_skips_failed_and_cut_off_turns_and_system_can_be_replaced(tmp_path: Path) -> None:
    with LogStore.open(tmp_path / "logs.db") as store:
        cid = store.new_conversation("m")
        store.record(cid, prompt="one", system="first", model="m", provider="p", options={},
                     reply="1", usage=None, duration_ms=1)
        store.record(cid, prompt="lost", system=None, model="m", provider=None, options={},
                     reply=None, usage=None, duration_ms=1, error="HTTP 500")
        store.record(cid, prompt="cut", system=None, model="m", provider="p", options={},
                     reply="half a rep", usage=None, duration_ms=1, error="interrupted")
        history = store.history(cid)
    assert [m["content"] for m in history] == ["first", "one", "1"]
    assert conversation_messages(history, "two", system="second") == [
        {"role": "system", "content": "second"}, {"role": "user", "content": "one"},
        {"role": "assistant", "content": "1"}, {"role": "user", "content": "two"}]


def test_log_path(tmp_path: Path) -> None:
    assert log_path({"JACKFIELD_LOGS": str(tmp_path)}) == tmp_path / "logs.db"
    assert log_path({"JACKFIELD_LOGS": str(tmp_path / "my.db")}) == tmp_path / "my.db"
    default = log_path({})
    assert default.name == "logs.db" and "jackfield" in str(default.parent)


def test_the_database_is_private(tmp_path: Path) -> None:
    path = tmp_path / "private" / "logs.db"
    LogStore.open(path).close()
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0
