"""Fixtures for the command-line tests: both emulators on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_helpers import COOKIE, Emulators, clean_environ

import jackfield_aichats.emulator
import jackfield_amigochat.emulator


@pytest.fixture(autouse=True)
def _logs_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every command a test runs logs into its own tmp_path, never the user's data dir."""
    logs = tmp_path / "logs" / "logs.db"
    monkeypatch.setenv("JACKFIELD_LOGS", str(logs))
    return logs


@pytest.fixture(autouse=True)
def _cache_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every command a test runs caches its model list in its own tmp_path."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("JACKFIELD_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
async def emulators(serve_app: Any) -> Emulators:
    """Serve both emulators; the environment of a CLI run points the providers at them."""
    aichats = jackfield_aichats.emulator.create_app(cookie=COOKIE)
    amigochat = jackfield_amigochat.emulator.create_app()
    environ = clean_environ({
        "JACKFIELD_AICHATS_BASE_URL": await serve_app(aichats),
        "JACKFIELD_AICHATS_COOKIE": COOKIE,
        "JACKFIELD_AMIGOCHAT_BASE_URL": await serve_app(amigochat),
    })
    return Emulators(aichats, amigochat, environ)
