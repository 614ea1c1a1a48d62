"""The listing cache's age: a listing with a lifetime is a miss once it has passed (or when
the clock was set back before it was made); one without expires only with its fingerprint."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jackfield._cli import listing_cache

LISTING: listing_cache.Listing = (
    ["disco"], [{"id": "omni", "provider": "disco", "capabilities": {}}],
    {"disco": "disco: its models could not be listed"})


def test_a_listing_is_used_until_its_lifetime_passed(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "models.json")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    listing_cache.store(path, "key", LISTING, lifetime=10)
    listing_cache.store(path, "forever", LISTING)
    assert listing_cache.load(path, "key") == LISTING  # the warnings come back with it
    monkeypatch.setattr(time, "time", lambda: now + 9.9)
    assert listing_cache.load(path, "key") == LISTING
    monkeypatch.setattr(time, "time", lambda: now + 10)
    assert listing_cache.load(path, "key") is None
    monkeypatch.setattr(time, "time", lambda: now - 60)  # the clock set back
    assert listing_cache.load(path, "key") is None
    monkeypatch.setattr(time, "time", lambda: now + 10**6)
    assert listing_cache.load(path, "forever") == LISTING


def test_the_keys_file_counts_by_its_stat_not_its_content(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JACKFIELD_CONFIG_DIR", str(tmp_path))
    before = listing_cache.fingerprint()
    (tmp_path / "keys.json").write_text('{"disco": {"api_key": "k"}}')
    after = listing_cache.fingerprint()
    assert after != before  # a key set may let a service list its models
    assert listing_cache._keys_file() == [(tmp_path / "keys.json").stat().st_mtime_ns,
                                          (tmp_path / "keys.json").stat().st_size]
