"""What each distribution publishes: licence, metadata, bounded core, and long descriptions
that work on a package index page and whose examples run as written.

Building and installing the archives is scripts/check_dists.sh's job (CI runs it); these
tests read the sources that go into them.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from jackfield import Registry
from jackfield.testing import ServeApp

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = [*sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml")),
           ROOT / "examples" / "echoapi", ROOT / "examples" / "ollama"]
PROJECTS = [ROOT, *PLUGINS]
# Every distribution's long description (the core's is README.md, which also serves the
# repository): what a package index shows, so no link may point at a file it does not ship.
PLUGIN_READMES = [project / "README.md" for project in PLUGINS]
INDEX_PAGES = [ROOT / "README.md", *PLUGIN_READMES]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def pyproject(project: Path) -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    return table


def ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) or "core" for path in paths]


def test_the_license_is_mit_with_the_project_copyright() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the jackfield authors\n")


@pytest.mark.parametrize("project", PROJECTS, ids=ids(PROJECTS))
def test_every_distribution_ships_the_license(project: Path) -> None:
    # An sdist holds only its own directory, so each keeps an identical copy.
    assert (project / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()
    metadata = pyproject(project)
    assert metadata["license"] == "MIT"
    assert metadata["license-files"] == ["LICENSE"]


@pytest.mark.parametrize("project", PROJECTS, ids=ids(PROJECTS))
def test_every_distribution_has_index_metadata(project: Path) -> None:
    metadata = pyproject(project)
    classifiers = set(metadata["classifiers"])
    assert {"Development Status :: 3 - Alpha", "Framework :: AsyncIO", "Typing :: Typed",
            "Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12",
            "Programming Language :: Python :: 3.13"} <= classifiers
    # PEP 639: with a license expression the index refuses License :: classifiers.
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert metadata["authors"] and metadata["keywords"]
    assert metadata["version"] == pyproject(ROOT)["version"]


@pytest.mark.parametrize("project", PLUGINS, ids=ids(PLUGINS))
def test_plugins_require_one_minor_series_of_the_core(project: Path) -> None:
    assert pyproject(project)["dependencies"] == ["jackfield>=0.4,<0.5"]


def test_the_testing_extra_holds_only_what_the_test_kit_needs() -> None:
    extras = pyproject(ROOT)["optional-dependencies"]
    assert sorted(re.split(r"[<>=]", r)[0] for r in extras["testing"]) == [
        "pytest", "pytest-asyncio"]
    assert "jackfield[testing]" in extras["dev"]


@pytest.mark.parametrize("readme", INDEX_PAGES, ids=ids(INDEX_PAGES))
def test_readmes_work_on_an_index_page(readme: Path) -> None:
    text = readme.read_text()
    links = re.findall(r"\]\(([^)]*)\)", text)
    assert [link for link in links if not link.startswith("https://")] == []
    assert "pip install -e" not in text
    assert "shared/" not in text  # the notes live in docs/protocols/ of the repository


@pytest.mark.parametrize("readme", PLUGIN_READMES, ids=ids(PLUGIN_READMES))
async def test_plugin_readme_examples_run_as_written(readme: Path, tmp_path: Path,
                                                     serve_app: ServeApp) -> None:
    """Each Python block runs in a fresh interpreter against every plugin's emulator."""
    registry = Registry(environ={})  # the form the examples use, which loads every plugin
    blocks = PYTHON_BLOCK.findall(readme.read_text())
    assert blocks, f"{readme} has no Python example"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
    for provider, factory in registry.emulators().items():
        environ[f"JACKFIELD_{provider.upper()}_BASE_URL"] = await serve_app(factory())
    for block in blocks:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-W", "error", "-c", block, cwd=tmp_path, env=environ,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, f"{readme}:\n{block}\n{err.decode()}"
        assert out.strip(), f"{readme}: the example printed nothing"
