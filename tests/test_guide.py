"""The plugin guide's worked example is real code: each block CONTRIBUTING.md marks with
`<!-- guide-code: PATH -->` appears, as it is, in that file of the repository (as datasette's
and llm's documentation checks keep their examples true)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import jackfield_ollama_example
import pytest

from jackfield.testing import RegistryFactory

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "CONTRIBUTING.md").read_text()
MARKED = re.compile(r"^<!-- guide-code: (\S+) -->\n```\w*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCKS = MARKED.findall(GUIDE)
EXAMPLE = ROOT / "examples" / "ollama" / "src" / "jackfield_ollama_example" / "__init__.py"


def test_the_guide_marks_its_example_code() -> None:
    assert len(BLOCKS) >= 12
    # A marker not followed directly by a fenced block would check nothing.
    assert GUIDE.count("<!-- guide-code:") == len(BLOCKS)


@pytest.mark.parametrize(("path", "code"), BLOCKS,
                         ids=[f"{n}:{path}" for n, (path, _code) in enumerate(BLOCKS)])
def test_each_marked_block_is_the_files_real_code(path: str, code: str) -> None:
    source = ROOT / path
    assert source.is_file(), f"CONTRIBUTING.md quotes {path}, which does not exist"
    assert code in source.read_text(), (
        f"a block of CONTRIBUTING.md is no longer in {path}: copy the code as it is now "
        f"into the guide:\n{code}")


def test_every_hook_of_the_example_is_shown() -> None:
    shown = "".join(code for _path, code in BLOCKS)
    hooks = [node.name for node in ast.parse(EXAMPLE.read_text()).body
             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
             and node.name.startswith("jackfield_")]
    assert len(hooks) == 6
    missing = [hook for hook in hooks if f"def {hook}(" not in shown]
    assert missing == [], f"the worked example shows no code of {missing}"


def test_the_instances_block_configures_instances(make_registry: RegistryFactory) -> None:
    (block,) = [block for block in re.findall(r"^```toml\n(.*?)^```$", GUIDE,
                                              re.MULTILINE | re.DOTALL)
                if 'plugin = "ollama"' in block]
    providers = tomllib.loads(block)["providers"]
    registry = make_registry([jackfield_ollama_example], config=providers)
    (instance,) = [name for name in providers if name != "ollama"]
    assert instance in {spec.name for spec in registry.providers()}
    assert registry.models(provider=instance)[0].id == providers[instance]["models"][0]
