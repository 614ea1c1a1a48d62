"""Package-level promises: fast import, public names, every hook documented and tested."""

from __future__ import annotations

import inspect
import pathlib
import subprocess
import sys

import jackfield
import jackfield.provider
import jackfield.testing
from jackfield import hookspecs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_import_pulls_in_no_http_stack() -> None:
    code = ("import sys, jackfield, jackfield.provider as p, jackfield.testing; "
            "jackfield.Registry; p.ProviderSpec; p.CompletionRequest; p.ProviderConfig; "
            "p.TextDelta; p.sse_data; p.error_for_status; p.ResponseFormatError; "
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


HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
         if name.startswith("jackfield_")]


def test_every_hook_has_a_docstring_and_is_documented_and_tested() -> None:
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    tests = "".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    assert len(HOOKS) >= 4
    for hook in HOOKS:
        assert getattr(hookspecs, hook).__doc__, hook
        assert f"`{hook}" in guide, f"{hook} is not documented in CONTRIBUTING.md"
        assert hook in tests, f"{hook} is not exercised by any test"


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "core" / "jackfield" / "py.typed").exists()
