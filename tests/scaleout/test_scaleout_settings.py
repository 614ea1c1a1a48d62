"""`jackfield serve-keys`, and serve's keys and Redis from its flags, the environment and the
config file ([redis], [server_keys.NAME])."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from jackfield._cli.main import main
from jackfield._cli.scaleout import serve_shared
from jackfield._errors import ConfigurationError
from jackfield._server.server_keys import hash_key, read_keys_file


def serve_args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**({"keys": None, "redis": None} | given))


def test_serve_keys_add_prints_the_key_once_and_list_shows_only_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "keys.json"
    assert main(["serve-keys", "--file", str(path), "add", "alice", "--rpm", "60",
                 "--concurrent", "2", "--model", "aichats/*"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("jfk-")
    assert main(["serve-keys", "--file", str(path), "add", "alice"]) != 0
    assert "--replace" in capsys.readouterr().err
    assert main(["serve-keys", "--file", str(path), "list"]) == 0
    listed = capsys.readouterr().out
    assert listed == "alice\trpm=60 concurrent=2 models=aichats/*\n" and key not in listed
    assert key not in path.read_text()
    assert main(["serve-keys", "--file", str(path), "remove", "alice"]) == 0
    assert read_keys_file(path) == []
    assert main(["serve-keys", "--file", str(path), "remove", "alice"]) != 0
    assert "no key named 'alice'" in capsys.readouterr().err


def test_the_config_file_gives_keys_and_redis_below_the_flag_and_environment(
        tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    digest = hash_key("jfk-from-the-file")
    config.write_text(f'[redis]\nurl = "redis://127.0.0.1:1/2"\nprefix = "team"\n\n'
                      f'[server_keys.bob]\nsha256 = "{digest}"\ntpm = 1000\n')
    environ = {"JACKFIELD_CONFIG": str(config),
               "JACKFIELD_SERVER_KEYS": str(tmp_path / "none.json")}
    shared = serve_shared(serve_args(), environ)
    assert shared.redis_url == "redis://127.0.0.1:1/2" and shared.redis_prefix == "team"
    assert [(key.name, key.tpm) for key in shared.keys] == [("bob", 1000)]
    environ["JACKFIELD_REDIS_URL"] = "redis://127.0.0.1:3/0"
    assert serve_shared(serve_args(), environ).redis_url == "redis://127.0.0.1:3/0"
    flagged = serve_shared(serve_args(redis="redis://127.0.0.1:4/0"), environ)
    assert flagged.redis_url == "redis://127.0.0.1:4/0"


@pytest.mark.parametrize(("table", "complaint"), [
    ('[server_keys.bob]\nsha256 = "jfk-a-raw-key"\n', "not the key"),
    ('[server_keys.bob]\nsha256 = "' + "0" * 64 + '"\nrpm = 0\n', "rpm must be"),
    ('[server_keys.bob]\nsha256 = "' + "0" * 64 + '"\nburst = 3\n', "unknown key(s) burst"),
    ('[redis]\nhost = "127.0.0.1"\n', "[redis] takes url, prefix"),
])
def test_a_wrong_table_is_refused_by_name(tmp_path: Path, table: str, complaint: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(table)
    environ = {"JACKFIELD_CONFIG": str(config),
               "JACKFIELD_SERVER_KEYS": str(tmp_path / "none.json")}
    with pytest.raises(ConfigurationError) as caught:
        serve_shared(serve_args(), environ)
    assert complaint in str(caught.value)
    assert "jfk-a-raw-key" not in str(caught.value)


def test_the_registry_reads_a_config_file_with_the_server_sections(tmp_path: Path) -> None:
    from jackfield import Registry

    config = tmp_path / "config.toml"
    config.write_text('[redis]\nurl = "redis://127.0.0.1:1/0"\n\n[cooldown]\nfailures = 5\n')
    registry = Registry([], config_file=config, environ={})
    assert registry is not None  # [redis] is serve's: not an unknown section to the registry
