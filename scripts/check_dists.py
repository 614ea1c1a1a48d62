"""Check the built sdists and wheels against the source tree; exit 1 naming what is wrong.

Usage: python scripts/check_dists.py DIST_DIR

For each distribution (the core, every plugin under plugins/, examples/echoapi and
examples/ollama) it checks that both archives exist and that they hold the LICENSE (the
repository's text), the README as the long description, every module and `py.typed` of the
package, the entry points that pyproject.toml declares, and, for a plugin, the bounded
dependency on the core. Run by scripts/check_dists.sh after `python -m build`; the installed
smoke test follows it.
"""

from __future__ import annotations

import configparser
import email.parser
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORE_BOUND = "jackfield<0.5,>=0.4"
Toml = dict[str, Any]


def projects() -> list[Path]:
    """Return every distribution directory of the repository, the core first."""
    plugins = sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))
    return [ROOT, *plugins, ROOT / "examples" / "echoapi", ROOT / "examples" / "ollama"]


def package_files(project: Path, pyproject: Toml) -> dict[str, bytes]:
    """Return the wheel paths of the package's shipped files -> their bytes in the tree."""
    files = {}
    for package in pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        source = project / package
        for path in source.rglob("*"):
            if path.is_file() and (path.suffix == ".py" or path.name == "py.typed"):
                wheel_path = f"{source.name}/{path.relative_to(source).as_posix()}"
                files[wheel_path] = path.read_bytes()
    return files


def declared_entry_points(pyproject: Toml) -> dict[str, dict[str, str]]:
    """Return group -> name -> target as pyproject.toml declares them."""
    project = pyproject["project"]
    groups = {group: dict(points) for group, points in project.get("entry-points", {}).items()}
    if "scripts" in project:
        groups["console_scripts"] = dict(project["scripts"])
    return groups


def check_wheel(wheel: Path, pyproject: Toml, expected: dict[str, bytes],
                license_text: bytes) -> list[str]:
    """Return the problems of one wheel."""
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        typed = {f"{path.split('/')[0]}/py.typed" for path in expected}
        problems += [f"{wheel.name}: {path} is missing (PEP 561)" for path in sorted(typed)
                     if path not in names]
        for path, content in expected.items():
            if path not in names:
                problems.append(f"{wheel.name}: {path} is missing")
            elif archive.read(path) != content:
                problems.append(f"{wheel.name}: {path} differs from the source tree")
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        if archive.read(f"{info}/licenses/LICENSE") != license_text:
            problems.append(f"{wheel.name}: {info}/licenses/LICENSE is not the LICENSE")
        metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        points = configparser.ConfigParser(delimiters=("=",))
        points.optionxform = str  # type: ignore[assignment,method-assign]  # keep case
        points.read_string(archive.read(f"{info}/entry_points.txt").decode())
    if metadata["License-Expression"] != "MIT":
        problems.append(f"{wheel.name}: License-Expression is {metadata['License-Expression']}")
    if not str(metadata.get_payload()).strip():
        problems.append(f"{wheel.name}: the long description (README) is empty")
    if "Typing :: Typed" not in metadata.get_all("Classifier", []):
        problems.append(f"{wheel.name}: no 'Typing :: Typed' classifier")
    for group, wanted in declared_entry_points(pyproject).items():
        found = dict(points[group]) if points.has_section(group) else {}
        if {k: v.strip() for k, v in found.items()} != wanted:
            problems.append(f"{wheel.name}: entry points [{group}] are {found}, not {wanted}")
    requires = [r.replace(" ", "") for r in metadata.get_all("Requires-Dist", [])]
    if pyproject["project"]["name"] != "jackfield" and CORE_BOUND not in requires:
        problems.append(f"{wheel.name}: does not require {CORE_BOUND} (has {requires})")
    return problems


def check_sdist(sdist: Path, readme: str, license_text: bytes) -> list[str]:
    """Return the problems of one sdist: what a wheel built from it, or a packager, needs."""
    problems = []
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        names = set(archive.getnames())
        for wanted in ("LICENSE", readme, "pyproject.toml", "PKG-INFO"):
            if f"{top}/{wanted}" not in names:
                problems.append(f"{sdist.name}: {wanted} is missing")
        member = archive.extractfile(f"{top}/LICENSE") if f"{top}/LICENSE" in names else None
        if member is not None and member.read() != license_text:
            problems.append(f"{sdist.name}: LICENSE is not the repository's LICENSE")
    return problems


def main(dist: Path) -> int:
    """Check every distribution's archives in dist; print each problem; return the exit code."""
    license_text = (ROOT / "LICENSE").read_bytes()
    problems = []
    for project in projects():
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        name = pyproject["project"]["name"]
        stem = f"{name.replace('-', '_')}-{pyproject['project']['version']}"
        wheels = list(dist.glob(f"{stem}-*.whl"))
        sdists = list(dist.glob(f"{stem}.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            problems.append(f"{name}: expected one wheel and one sdist {stem}* in {dist}")
            continue
        if not package_files(project, pyproject):
            problems.append(f"{name}: no package files found under {project}")
        problems += check_wheel(wheels[0], pyproject, package_files(project, pyproject),
                                license_text)
        problems += check_sdist(sdists[0], pyproject["project"]["readme"], license_text)
        print(f"checked {wheels[0].name} and {sdists[0].name}")
    for problem in problems:
        print(f"check_dists: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/check_dists.py DIST_DIR")
    sys.exit(main(Path(sys.argv[1])))
