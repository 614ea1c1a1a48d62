"""The cache `jackfield models` answers from: same output, no engine import, invalidation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import clean_environ

from jackfield._cli import listing_cache
from jackfield._engine import entrypoints

# Runs `jackfield models ...` and says on its last stderr line whether the Registry was built.
_CODE = ("import sys; from jackfield._cli.main import main; status = main(sys.argv[1:]); "
         "sys.stdout.flush(); print('built' if 'jackfield._engine.registry' in sys.modules "
         "else 'cached', file=sys.stderr); sys.exit(status)")


def run(*args: str, **extra: str) -> tuple[str, str, str]:
    """Return stdout, stderr without the last line, and "built" or "cached"."""
    result = subprocess.run([sys.executable, "-c", _CODE, "models", *args], capture_output=True,
                            text=True, env=clean_environ(extra), timeout=60)
    assert result.returncode == 0, result.stderr
    *stderr, how = result.stderr.splitlines()
    return result.stdout, "\n".join(stderr), how


@pytest.mark.parametrize("args", [(), ("--json",), ("--kind", "image", "--provider", "aichats"),
                                  ("--json", "--kind", "chat", "--provider", "amigochat"),
                                  ("--provider", "aichats", "--kind", "image", "--json")])
def test_a_hit_prints_what_a_miss_printed_without_the_engine(args: tuple[str, ...]) -> None:
    stdout, stderr, how = run(*args)
    assert how == "built" and stdout
    assert run(*args) == (stdout, stderr, "cached")


def test_one_cache_serves_every_filter() -> None:
    assert run()[2] == "built"
    full = json.loads(run("--json")[0])
    assert run("--json", "--kind", "image")[2] == "cached"
    assert json.loads(run("--json", "--kind", "image")[0]) == [
        m for m in full if m["kind"] == "image"]


def test_an_unknown_provider_is_still_refused(tmp_path: Path) -> None:
    assert run()[2] == "built"
    result = subprocess.run([sys.executable, "-m", "jackfield", "models", "--provider", "nope"],
                            capture_output=True, text=True, env=clean_environ(), timeout=60)
    assert result.returncode == 2 and "installed: aichats, amigochat" in result.stderr


def test_refresh_asks_the_plugins_again_and_rewrites(_cache_in_tmp_path: Path) -> None:
    first = run()
    cache = _cache_in_tmp_path / listing_cache.CACHE_FILE
    cache.write_text(cache.read_text().replace('"gpt-4"', '"gpt-4-stale"'))
    assert "gpt-4-stale" in run()[0]  # a hit prints what the cache holds
    assert run("--refresh") == (first[0], first[1], "built")
    assert "gpt-4-stale" not in cache.read_text()
    assert run() == (first[0], first[1], "cached")


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"format": 1, "listings": 3}',
                                     '{"format": 1, "listings": {"x": 1}}', "\x00\xff"])
def test_a_corrupt_cache_is_ignored_and_rewritten(_cache_in_tmp_path: Path,
                                                  garbage: str) -> None:
    first = run("--json")
    (_cache_in_tmp_path / listing_cache.CACHE_FILE).write_text(garbage)
    assert run("--json") == (first[0], first[1], "built")
    assert run("--json") == (first[0], first[1], "cached")


def test_capabilities_round_trip_through_the_cache() -> None:
    built, _, how = run("--json")
    assert how == "built"
    cached, _, how = run("--json")
    assert how == "cached" and cached == built
    by_id = {(m["provider"], m["id"]): m["capabilities"] for m in json.loads(cached)}
    assert by_id["aichats", "gpt-4"]["sampling"] == [] and not by_id["aichats", "gpt-4"]["tools"]
    assert by_id["amigochat", "gpt-4o-mini"]["sampling"] == [
        "frequency_penalty", "max_tokens", "presence_penalty", "temperature", "top_p"]
    table, _, how = run("--provider", "amigochat", "--kind", "chat")
    assert how == "cached" and table.splitlines()[1].split()[-1] == "sampling"


def _rewrite_entry(cache: Path, format_: int) -> None:
    """Turn the cache into one of an older jackfield: the same listing, without capabilities."""
    data = json.loads(cache.read_text())
    for entry in data["listings"].values():
        for model in entry["models"]:
            del model["capabilities"]
    cache.write_text(json.dumps(data | {"format": format_}))


@pytest.mark.parametrize("format_", [1, 2, 3])
def test_a_listing_without_capabilities_is_a_miss(_cache_in_tmp_path: Path,
                                                  format_: int) -> None:
    # Format 1 is the shape before capabilities, 2 before warnings and expiry; a format-3
    # entry without them is damaged.
    first = run("--json")
    cache = _cache_in_tmp_path / listing_cache.CACHE_FILE
    _rewrite_entry(cache, format_)
    assert run("--json") == (first[0], first[1], "built")  # not models that seem to do nothing
    assert json.loads(cache.read_text())["format"] == 3
    assert run("--json") == (first[0], first[1], "cached")


def test_an_unwritable_cache_dir_only_warns(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    stdout, stderr, how = run(JACKFIELD_CACHE_DIR=str(blocker / "cache"))
    assert how == "built" and "gpt-4" in stdout
    assert "not cached" in stderr and "JACKFIELD_CACHE_DIR" in stderr


def test_load_plugins_changes_the_listing() -> None:
    assert "amigochat" in run()[0]
    stdout, _, how = run(JACKFIELD_LOAD_PLUGINS="jackfield-aichats")
    assert how == "built" and "amigochat" not in stdout
    assert run(JACKFIELD_LOAD_PLUGINS="jackfield-aichats") == (stdout, "", "cached")
    assert "amigochat" in run()[0]  # the earlier listing is kept beside it


def test_the_config_file_changes_the_listing(tmp_path: Path) -> None:
    config = tmp_path / "jackfield.toml"
    config.write_text('provider_order = ["amigochat", "aichats"]\n')
    first = run("--json", JACKFIELD_CONFIG=str(config))[0]
    assert json.loads(first)[0]["provider"] == "amigochat"
    config.write_text('provider_order = ["aichats", "amigochat"]  # changed\n')
    stdout, _, how = run("--json", JACKFIELD_CONFIG=str(config))
    assert how == "built" and json.loads(stdout)[0]["provider"] == "aichats"


def test_a_plugin_source_change_changes_the_fingerprint(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "hcache_plugin_pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    source = package / "sub" / "hooks.py"
    source.write_text("MODELS = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = [entrypoints.FoundEntryPoint("hcache", "hcache_plugin_pkg.sub.hooks", "hcache", "1")]
    monkeypatch.setattr(entrypoints, "entry_points", lambda group: found)
    before = listing_cache.fingerprint()
    assert listing_cache.fingerprint() == before
    source.write_text("MODELS = 2  # edited in an editable install\n")
    assert listing_cache.fingerprint() != before
    changed = listing_cache.fingerprint()
    os.utime(source, ns=(1, 1))  # same size, other mtime
    assert listing_cache.fingerprint() != changed
    assert "hcache_plugin_pkg" not in sys.modules  # found, not imported


def test_no_setting_reaches_the_cache_file(_cache_in_tmp_path: Path) -> None:
    run(JACKFIELD_AICHATS_COOKIE="session=very-secret-cookie")
    text = (_cache_in_tmp_path / listing_cache.CACHE_FILE).read_text()
    assert "very-secret" not in text and str(Path.home()) not in text


def test_credentials_are_not_even_hashed_but_listing_settings_are(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JACKFIELD_AMIGOCHAT_TOKEN", "one-token-value")
    before = listing_cache.fingerprint()
    monkeypatch.setenv("JACKFIELD_AMIGOCHAT_TOKEN", "another-token-value")
    assert listing_cache.fingerprint() == before  # only its name counts, not its value
    monkeypatch.setenv("JACKFIELD_AMIGOCHAT_BASE_URL", "http://127.0.0.1:9")
    assert listing_cache.fingerprint() != before


@pytest.mark.parametrize("xdg", [None, "/tmp/hcache-xdg", "relative/is-ignored"])
def test_the_default_cache_dir_is_platformdirs(monkeypatch: pytest.MonkeyPatch,
                                               xdg: str | None) -> None:
    import platformdirs

    monkeypatch.delenv("JACKFIELD_CACHE_DIR")
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    expected = platformdirs.user_cache_dir("jackfield", appauthor=False)
    assert listing_cache.cache_path() == os.path.join(expected, listing_cache.CACHE_FILE)


def test_a_relative_config_file_is_found_from_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "jackfield.toml").write_text('provider_order = ["aichats"]\n')
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p])  # no '' (the cwd)
    monkeypatch.chdir(tmp_path / "one")
    unset = listing_cache.fingerprint()
    monkeypatch.setenv("JACKFIELD_CONFIG", "jackfield.toml")
    one = listing_cache.fingerprint()
    monkeypatch.chdir(tmp_path / "two")
    assert listing_cache.fingerprint() != one  # the same name, another file
    monkeypatch.delenv("JACKFIELD_CONFIG")
    assert listing_cache.fingerprint() == unset  # else the directory does not matter
