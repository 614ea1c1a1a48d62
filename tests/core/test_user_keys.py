"""The keys file as a source of provider settings: precedence, no user state, file hygiene."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import jackfield_aichats
import jackfield_amigochat
from jackfield import ConfigurationError, Registry
from jackfield._settings.userfiles import read_keys, write_json

SECRET = "keyfile-secret-4d1c9b"


def _keys(folder: Path, table: dict[str, dict[str, str]]) -> Path:
    path = folder / "keys.json"
    write_json(path, table, private=True)
    return path


def _registry(folder: Path, **kwargs: object) -> Registry:
    environ = {"JACKFIELD_CONFIG_DIR": str(folder), **kwargs.pop("environ", {})}  # type: ignore[dict-item]
    return Registry([jackfield_amigochat, jackfield_aichats], environ=environ, **kwargs)  # type: ignore[arg-type]


def test_a_stored_key_is_a_setting_and_never_shown(tmp_path: Path) -> None:
    path = _keys(tmp_path, {"amigochat": {"token": SECRET}})
    config = _registry(tmp_path).config("amigochat")
    assert config.get("token") == SECRET
    assert config.sources["token"] == f"the keys file {path} (amigochat token)"
    assert SECRET not in repr(config)
    assert "***" in repr(config)


def test_precedence_keyword_then_environment_then_keys_then_config_file(tmp_path: Path) -> None:
    _keys(tmp_path, {"amigochat": {"token": "from-keys-file"}})
    toml = tmp_path / "c.toml"
    toml.write_text('[providers.amigochat]\ntoken = "from-config-file"\n')
    assert _registry(tmp_path, config_file=toml).config("amigochat").get("token") == (
        "from-keys-file")  # the keys file wins over the config file
    environ = {"JACKFIELD_AMIGOCHAT_TOKEN": "from-environment"}
    assert _registry(tmp_path, environ=environ).config("amigochat").get("token") == (
        "from-environment")
    config = _registry(tmp_path, environ=environ, config={"amigochat": {"token": "from-kw"}})
    assert config.config("amigochat").get("token") == "from-kw"
    assert config.config("amigochat").sources["token"].startswith("config=")


def test_an_explicit_environ_without_the_variable_reads_no_user_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    _keys(tmp_path, {"amigochat": {"token": SECRET}})
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *a, **k: str(tmp_path))
    monkeypatch.delenv("JACKFIELD_CONFIG_DIR", raising=False)
    assert Registry([jackfield_amigochat], environ={}).config("amigochat").get("token") is None
    # The process's own environment does find the user's directory.
    assert Registry([jackfield_amigochat]).config("amigochat").get("token") == SECRET


def test_keys_for_a_provider_not_loaded_are_kept_not_refused(tmp_path: Path) -> None:
    _keys(tmp_path, {"someday": {"token": SECRET}})
    assert _registry(tmp_path).config("amigochat").get("token") is None


def test_a_stale_setting_is_refused_naming_the_remove_command(tmp_path: Path) -> None:
    _keys(tmp_path, {"amigochat": {"base_url": "http://127.0.0.1:9", "old": SECRET}})
    with pytest.raises(ConfigurationError) as caught:
        _registry(tmp_path)
    assert "jackfield keys remove amigochat base_url" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_the_file_is_private_and_one_readable_by_others_is_narrowed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _keys(tmp_path / "new", {"amigochat": {"token": SECRET}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # a directory it makes
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="jackfield"):
        assert read_keys(path) == {"amigochat": {"token": SECRET}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "readable by other users" in caplog.text
    assert SECRET not in caplog.text


def test_a_broken_file_is_one_error_that_quotes_no_value(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, f'{{"amigochat": {{"token": "{SECRET}"'.encode())
    os.close(fd)
    with pytest.raises(ConfigurationError) as caught:
        read_keys(path)
    assert str(path) in str(caught.value) and SECRET not in str(caught.value)
    path.write_text(json.dumps({"amigochat": {"token": 12345678}}))
    with pytest.raises(ConfigurationError, match="keys remove amigochat"):
        read_keys(path)


def test_writing_replaces_the_file_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = _keys(tmp_path, {"amigochat": {"token": "one"}})
    write_json(path, {"amigochat": {"token": "two"}}, private=True)
    assert read_keys(path) == {"amigochat": {"token": "two"}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]


async def test_a_refused_stored_key_is_in_no_error_repr_or_log(
        tmp_path: Path, serve_app: Any, make_registry: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    from jackfield import AuthenticationError
    from jackfield_amigochat.emulator import create_app

    _keys(tmp_path, {"amigochat": {"token": SECRET}})
    url = await serve_app(create_app(token="the-one-it-wants-123"))
    registry = make_registry([jackfield_amigochat], environ={
        "JACKFIELD_CONFIG_DIR": str(tmp_path), "JACKFIELD_AMIGOCHAT_BASE_URL": url})
    assert registry.config("amigochat").get("token") == SECRET
    with caplog.at_level(logging.DEBUG, logger="jackfield"), \
            pytest.raises(AuthenticationError) as caught:
        await registry.complete("amigochat/gpt-4o", "hi")
    shown = [str(caught.value), repr(caught.value), repr(registry.config("amigochat")),
             repr(registry), caplog.text]
    assert not [text for text in shown if SECRET in text]
