"""Package-level promises: fast import, public names, every hook documented and tested."""

from __future__ import annotations

import ast
import inspect
import pathlib
import subprocess
import sys

import pluggy

import jackfield
import jackfield.provider
import jackfield.testing
from jackfield import hookspecs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_import_pulls_in_no_http_stack() -> None:
    code = ("import sys, jackfield, jackfield.provider as p, jackfield.testing; "
            "jackfield.Registry; p.ProviderSpec; p.CompletionRequest; p.ProviderConfig; "
            "p.TextDelta; p.sse_data; p.error_for_status; p.image_urls; p.ResponseFormatError; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('aiohttp', 'yarl', 'pytest')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    for module in (jackfield, jackfield.provider, jackfield.testing):
        assert sorted(module.__all__) == sorted(dir(module))
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)


def test_every_error_is_importable_from_jackfield() -> None:
    from jackfield import _errors

    for name in _errors.__all__:
        assert getattr(jackfield, name) is getattr(_errors, name)


def hook_signatures() -> dict[str, str]:
    """Return each hook's signature as the guide must show it, from pluggy's own spec."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    signatures = {}
    for name in dir(manager.hook):
        caller = getattr(manager.hook, name)
        if name.startswith("jackfield_") and caller.spec is not None:
            signatures[name] = f"{name}({', '.join(caller.spec.argnames)})"
    return signatures


def test_every_hook_has_a_docstring_with_its_contract() -> None:
    signatures = hook_signatures()
    assert len(signatures) >= 4
    for hook, signature in signatures.items():
        doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
        assert ":return:" in doc, f"{hook}'s docstring does not say what it returns"
        for arg in signature[len(hook) + 1:-1].split(", "):
            if arg:
                assert f":param {arg}:" in doc, f"{hook}'s docstring does not describe {arg}"


def test_every_hook_is_documented_under_its_signature() -> None:
    # A heading per hook, as datasette's plugin_hooks page has: `### `hook(a, b)` ...`.
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    headings = [line for line in guide.splitlines() if line.startswith("#")]
    for signature in hook_signatures().values():
        assert any(f"`{signature}" in heading for heading in headings), (
            f"CONTRIBUTING.md has no heading for `{signature}`")


def test_every_hook_has_a_test() -> None:
    folders = [ROOT / "tests", *ROOT.glob("plugins/*/tests"), *ROOT.glob("examples/*/tests")]
    tests = "".join(path.read_text() for folder in folders for path in folder.rglob("*.py")
                    if path.resolve() != pathlib.Path(__file__).resolve())
    for hook in hook_signatures():
        assert hook in tests, f"{hook} is not exercised by any test"


PUBLIC_MODULES = {"jackfield", "jackfield.provider", "jackfield.testing"}


def private_imports(source: str) -> list[str]:
    """Return every jackfield module a source file imports beyond the public ones."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            if node.module == "jackfield":  # `from jackfield import _x` reaches a module too
                found += [f"jackfield.{alias.name}" for alias in node.names
                          if alias.name.startswith("_") or alias.name == "hookspecs"]
    return [name for name in found
            if name.split(".")[0] == "jackfield" and name not in PUBLIC_MODULES]


def test_private_imports_are_all_caught() -> None:
    assert private_imports(
        "import jackfield, jackfield.provider\nimport jackfield._engine.registry\n"
        "from jackfield import Registry, _errors\nfrom jackfield._http import lines\n"
        "from jackfield.testing import serve_app\nfrom jackfield.testing._emulation import x\n"
        "from . import sibling\nimport jackfield_aichats.parse\n"
        "def f():\n    from jackfield.hookspecs import hookimpl\n"
    ) == ["jackfield._engine.registry", "jackfield._errors", "jackfield._http",
          "jackfield.testing._emulation", "jackfield.hookspecs"]


def test_plugins_and_examples_import_only_the_public_modules() -> None:
    folders = [*ROOT.glob("plugins/*/src"), *ROOT.glob("plugins/*/tests"),
               *ROOT.glob("examples/*/src"), *ROOT.glob("examples/*/tests")]
    assert len(folders) >= 6
    offenders = {str(path.relative_to(ROOT)): imports for folder in folders
                 for path in sorted(folder.rglob("*.py"))
                 if (imports := private_imports(path.read_text()))}
    assert not offenders, ("import these names from jackfield, jackfield.provider or "
                           f"jackfield.testing instead: {offenders}")


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "core" / "jackfield" / "py.typed").exists()


def test_every_core_module_is_placed_in_the_guide() -> None:
    """CONTRIBUTING's "Where things are" table names every module, so the map stays true."""
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    table = guide[guide.index("### Where things are"):guide.index("The plugins live in")]
    core = ROOT / "core" / "jackfield"
    missing = [str(path.relative_to(core)) for path in sorted(core.rglob("*.py"))
               if path.name not in ("__init__.py", "__main__.py")
               and f"`{path.name}`" not in table and f"{path.parent.name}/{path.name}" not in table]
    assert missing == [], f"add these to CONTRIBUTING.md's 'Where things are': {missing}"
