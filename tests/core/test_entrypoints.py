"""The fast entry-point scan gives importlib.metadata's answer, without importing it."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jackfield._engine import entrypoints
from jackfield._engine.entrypoints import FoundEntryPoint


def _reference(group: str) -> set[FoundEntryPoint]:
    return {FoundEntryPoint(ep.name, ep.value, ep.dist.name if ep.dist else None,
                            ep.dist.version if ep.dist else None)
            for ep in importlib.metadata.entry_points(group=group)}


@pytest.mark.parametrize("group", ["jackfield", "console_scripts", "pytest11"])
def test_same_answer_as_importlib_metadata_here(group: str) -> None:
    scanned = entrypoints._scan(sys.path, group)
    assert scanned is not None
    assert set(scanned) == _reference(group)
    if group == "jackfield":
        assert {"aichats", "amigochat", "echoapi"} <= {ep.name for ep in scanned}


def _dist(site: Path, dirname: str, metadata: str, entry_points: str) -> None:
    info = site / dirname
    info.mkdir(parents=True)
    (info / ("PKG-INFO" if dirname.endswith(".egg-info") else "METADATA")).write_text(
        metadata, encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


def test_same_answer_on_awkward_layouts(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "Jackfield_One-1.0.dist-info", "Metadata-Version: 2.1\nName: Jackfield_One\n"
          "Version: 1.0\n\nName: not a header\n",
          "# a comment\n[console_scripts]\nx = y\n\n[jackfield]\n one = pkg.mod:attr.sub [x]\n"
          "two=pkg\n")
    _dist(second, "jackfield.one-2.0.dist-info", "Name: jackfield-one\nVersion: 2.0\n",
          "[jackfield]\nshadowed = pkg\n")  # the same distribution later on the path: ignored
    _dist(second, "old_plugin-0.1.egg-info", "Name: old-plugin\nVersion: 0.1\n",
          "[jackfield]\nold = old_plugin\n")
    _dist(second, "no_entry_points-1.dist-info", "Name: no-entry-points\nVersion: 1\n", "")
    (second / "not-metadata.txt").write_text("", encoding="utf-8")
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "missing"), str(second)])
    assert set(entrypoints.entry_points("jackfield")) == _reference("jackfield") == {
        FoundEntryPoint("one", "pkg.mod:attr.sub [x]", "Jackfield_One", "1.0"),
        FoundEntryPoint("two", "pkg", "Jackfield_One", "1.0"),
        FoundEntryPoint("old", "old_plugin", "old-plugin", "0.1")}


def test_a_zip_on_the_path_is_left_to_importlib_metadata(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as file:
        file.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n")
        file.writestr("zipped-1.0.dist-info/entry_points.txt", "[jackfield]\nzipped = z\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert entrypoints._scan(sys.path, "jackfield") is None
    assert entrypoints.entry_points("jackfield") == [
        FoundEntryPoint("zipped", "z", "zipped", "1.0")]


def test_load_follows_module_and_attributes() -> None:
    assert FoundEntryPoint("x", "os.path:join", None, None).load() is __import__("os").path.join
    assert FoundEntryPoint("x", "json [extra]", None, None).load() is __import__("json")
    with pytest.raises(ValueError, match="malformed"):
        FoundEntryPoint("x", "not a value!", None, None).load()


def test_listing_models_imports_no_importlib_metadata() -> None:
    code = ("import sys; from jackfield._cli.main import main; status = main(['models']); "
            "print('importlib.metadata' in sys.modules, 'email' in sys.modules)")
    # Plugins that do not discover: one that does asks its service on a miss, through the
    # HTTP stack, which imports email (and could reach a real service with a user's key).
    environ = {**os.environ, "JACKFIELD_LOAD_PLUGINS": "jackfield-aichats,jackfield-amigochat"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False False"
