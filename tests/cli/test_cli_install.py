"""`jackfield install` / `uninstall`: pip's arguments, the remembered plugins, and the whole
round trip (install, uninstall, restore) of the example plugin from a locally built wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from cli_helpers import CLI, clean_environ, one_error_line

from jackfield._cli.common import CliError
from jackfield._cli.install import (
    load_records,
    pip_arguments,
    records_path,
    save_records,
    shield,
    spec_name,
)
from jackfield._cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_bare_names_get_the_prefix_and_the_rest_passes_through() -> None:
    tokens = ["aichats", "jackfield-amigochat", "Jackfield_Echoapi", "aichats[x]>=0.2",
              "./dist/jackfield_echoapi-0.4.0-py3-none-any.whl", "https://u:p@host/x.whl",
              "foo @ https://host/foo.whl", "--no-index", "-f", "wheels", "-e", "src",
              "--", "plain"]
    assert pip_arguments(tokens) == [
        ("jackfield-aichats", True), ("jackfield-amigochat", True),
        ("Jackfield_Echoapi", True), ("jackfield-aichats[x]>=0.2", True),
        ("./dist/jackfield_echoapi-0.4.0-py3-none-any.whl", True),
        ("https://u:p@host/x.whl", True), ("foo @ https://host/foo.whl", True),
        ("--no-index", False), ("-f", False), ("wheels", False), ("-e", False),
        ("src", True), ("jackfield-plain", True)]
    assert pip_arguments(["jackfield"]) == [("jackfield", True)]


def test_pip_options_reach_pip_wherever_they_are() -> None:
    assert shield(["install", "--restore", "--no-deps"]) == [
        "install", "--restore", "--", "--no-deps"]
    assert shield(["--debug", "install", "-e", "x"]) == ["--debug", "install", "--", "-e", "x"]
    assert shield(["uninstall", "aichats", "-q"]) == ["uninstall", "aichats", "-q"]
    assert shield(["chat", "-m", "gpt-4", "install"]) == ["chat", "-m", "gpt-4", "install"]
    assert shield(["install", "--", "-e", "x"]) == ["install", "--", "-e", "x"]


def test_spec_names() -> None:
    assert spec_name("jackfield-aichats==0.2") == "jackfield-aichats"
    assert spec_name("/x/jackfield_echoapi-0.4.0-py3-none-any.whl") == "jackfield-echoapi"
    assert spec_name("https://h/jackfield_echoapi-0.4.0.tar.gz") == "jackfield-echoapi"
    assert spec_name("Foo.Bar @ https://h/x") == "foo-bar"
    assert spec_name("git+https://h/r.git#egg=jackfield_x") == "jackfield-x"
    assert spec_name(str(ROOT / "examples" / "echoapi")) == "jackfield-echoapi"
    assert spec_name("https://h/download") is None


def test_records_round_trip_and_a_broken_file(tmp_path: Path) -> None:
    path = records_path({"JACKFIELD_CONFIG_DIR": str(tmp_path / "config")})
    assert load_records(path) == []
    save_records(path, [{"name": "jackfield-x", "args": ["jackfield-x"]}])
    assert load_records(path) == [{"name": "jackfield-x", "args": ["jackfield-x"]}]
    path.write_text("{", encoding="utf-8")
    result = subprocess.run([*CLI, "install", "--restore"], capture_output=True, text=True,
                            env=clean_environ({"JACKFIELD_CONFIG_DIR": str(path.parent)}),
                            timeout=60)
    assert result.returncode == 2  # as for every broken user file: the user must fix it
    assert "is not valid JSON" in one_error_line(result)
    path.write_text('{"plugins": 1}', encoding="utf-8")
    with pytest.raises(CliError, match="fix it or delete it"):
        load_records(path)


@pytest.mark.parametrize(("args", "expected"), [
    (["install"], "name a plugin to install"),
    (["uninstall", "jackfield"], "not jackfield itself"),
    (["uninstall", "JackField"], "not jackfield itself"),
    (["install", "--restore", "aichats"], "takes no names"),
])
def test_usage_errors(tmp_path: Path, args: list[str], expected: str) -> None:
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60,
                            env=clean_environ({"JACKFIELD_CONFIG_DIR": str(tmp_path)}))
    assert result.returncode == 2
    assert expected in one_error_line(result)
    assert not (tmp_path / "plugins.json").exists()


def test_an_environment_without_pip_says_how_to_get_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "pip" else real(name, *rest))
    monkeypatch.setenv("JACKFIELD_CONFIG_DIR", str(tmp_path))
    assert main(["install", "aichats"]) == 1
    assert "-m ensurepip" in capsys.readouterr().err
    assert not (tmp_path / "plugins.json").exists()


def _build_wheel(project: Path, out: Path) -> Path:
    # Without isolation: the development environment's hatchling builds, nothing is fetched.
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(out), str(project)], check=True, capture_output=True, timeout=120)
    return max(out.glob("*.whl"), key=lambda wheel: wheel.stat().st_mtime)


def _borrow(modules: list[str], into: Path) -> None:
    """Link the development environment's copies of modules into a directory, without their
    metadata: the throwaway environment can import them but sees no extra distribution."""
    import importlib.util

    into.mkdir()
    for name in modules:
        found = importlib.util.find_spec(name)
        assert found is not None and found.origin is not None, name
        source = Path(found.origin)
        source = source.parent if source.name == "__init__.py" else source
        (into / source.name).symlink_to(source)


@pytest.mark.slow
def test_install_uninstall_restore_the_example_plugin(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """From wheels only, offline: what a user does after `pipx install jackfield`."""
    wheels = tmp_path / "wheels"
    core = _build_wheel(ROOT, wheels)
    echoapi = _build_wheel(ROOT / "examples" / "echoapi", wheels)
    # A fresh environment without pip (ensurepip is slow): pip and the core's dependencies are
    # borrowed, so only the two wheels are installed, with no index.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    _borrow(["pip", "pluggy", "attr", "attrs", "platformdirs"], tmp_path / "borrowed")
    (site / "borrowed.pth").write_text(f"{tmp_path / 'borrowed'}\n", encoding="utf-8")
    # Offline, whatever the machine's pip configuration says: no index, no config file.
    environ = {k: v for k, v in clean_environ().items() if not k.startswith("PIP_")
               and k not in ("JACKFIELD_LOAD_PLUGINS", "VIRTUAL_ENV", "PYTHONPATH")}
    environ |= {"JACKFIELD_CONFIG_DIR": str(tmp_path / "config"), "PIP_NO_INDEX": "1",
                "PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1"}
    monkeypatch.chdir(tmp_path)  # paths are remembered absolute: a relative one is resolved

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), *args], capture_output=True, text=True,
                              env=environ, timeout=120)

    def plugin_names() -> set[str]:
        result = run("-m", "jackfield", "plugins", "--json")
        assert result.returncode == 0, result.stderr
        return {plugin["name"] for plugin in json.loads(result.stdout)}

    assert run("-m", "pip", "install", "--no-deps", str(core)).returncode == 0
    jackfield = str(env_dir / "bin" / "jackfield")
    assert plugin_names() == set()

    relative = os.path.relpath(echoapi, tmp_path)
    result = run(jackfield, "install", relative, "--no-deps")
    assert result.returncode == 0, result.stderr
    assert "Successfully installed jackfield-echoapi" in result.stdout  # pip's own output
    assert "remembered jackfield-echoapi 0.4.0" in result.stderr
    assert plugin_names() == {"echoapi"}
    records = json.loads((tmp_path / "config" / "plugins.json").read_text(encoding="utf-8"))
    assert records["plugins"] == [{"name": "jackfield-echoapi", "args": [str(echoapi)]}]

    # An upgrade that rebuilds the environment loses the plugin, not the record of it.
    assert run("-m", "pip", "uninstall", "--yes", "jackfield-echoapi").returncode == 0
    assert plugin_names() == set()
    result = run(jackfield, "install", "--restore", "--no-deps")
    assert result.returncode == 0, result.stderr
    assert "restoring jackfield-echoapi" in result.stderr
    assert plugin_names() == {"echoapi"}

    result = run(jackfield, "uninstall", "echoapi")  # the prefix is optional
    assert result.returncode == 0, result.stderr
    assert "forgot jackfield-echoapi" in result.stderr
    assert plugin_names() == set()
    result = run(jackfield, "install", "--restore")
    assert result.returncode == 0, result.stderr
    assert "no plugins to restore" in result.stderr

    result = run(jackfield, "install", "nonexistent-plugin")  # pip's failure, pip's status
    assert result.returncode == 1
    assert "jackfield-nonexistent-plugin" in result.stderr
    assert load_records(tmp_path / "config" / "plugins.json") == []
