"""The command line's small pieces, in process: option values, file names, hosts, prompts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from jackfield._cli.commands import is_loopback, read_prompt
from jackfield._cli.common import parse_option
from jackfield._cli.image_files import image_paths
from jackfield._types.events import Image


@pytest.mark.parametrize(("text", "expected"), [
    ("temperature=0.2", ("temperature", 0.2)),
    ("max_tokens=12", ("max_tokens", 12)),
    ("flag=true", ("flag", True)),
    ("seed=null", ("seed", None)),
    ("stop=END", ("stop", "END")),
    ('code="12"', ("code", "12")),
    ("x=NaN", ("x", "NaN")),
    ("x=[1, 2]", ("x", "[1, 2]")),
    ("expr=a=b", ("expr", "a=b")),
    (" key = 3", ("key", 3)),
    # complete()'s own parameters take JSON lists and objects; a provider's options do not.
    ('stop=["END", "\\n\\n"]', ("stop", ["END", "\n\n"])),
    ('response_format={"type": "json_object"}', ("response_format", {"type": "json_object"})),
    ("stop=[unclosed", ("stop", "[unclosed")),
])
def test_option_values_are_typed_json_or_text(text: str, expected: object) -> None:
    assert parse_option(text) == expected


def test_image_paths_for_a_file_and_for_a_directory(tmp_path: Path) -> None:
    png, jpeg = Image(data=b"x", mime_type="image/png"), Image(data=b"x", mime_type="image/jpeg")
    target = str(tmp_path / "out.png")
    assert image_paths([png, jpeg], "p", target, None) == [tmp_path / "out.png",
                                                           tmp_path / "out-2.png"]
    assert image_paths([jpeg], "p", str(tmp_path / "bare"), None) == [tmp_path / "bare.jpg"]
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a-red-square.png").write_bytes(b"taken")
    assert image_paths([png, png], "A red, square!", None, str(tmp_path / "pics")) == [
        tmp_path / "pics" / "a-red-square-2.png", tmp_path / "pics" / "a-red-square-3.png"]
    assert image_paths([png], "???", None, str(tmp_path / "new" / "dir")) == [
        tmp_path / "new" / "dir" / "image.png"]


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False),
    ("", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_prompt_from_argument_or_stdin() -> None:
    assert read_prompt("hi", io.StringIO("ignored")) == "hi"
    assert read_prompt(None, io.StringIO("from stdin\n\n")) == "from stdin"
    assert read_prompt("-", io.StringIO("dash")) == "dash"
    with pytest.raises(Exception, match="prompt is empty"):
        read_prompt(None, io.StringIO("  \n"))


def test_cli_modules_do_not_import_each_other() -> None:
    """main and commands share jackfield._cli.common; commands never imports main."""
    import ast
    from pathlib import Path

    import jackfield._cli

    folder = Path(jackfield._cli.__file__).parent

    def imported(name: str, *, top_level: bool) -> set[str]:
        tree = ast.parse((folder / f"{name}.py").read_text())
        nodes = tree.body if top_level else list(ast.walk(tree))
        return {node.module for node in nodes
                if isinstance(node, ast.ImportFrom) and node.module} | {
            f"jackfield._cli.{alias.name}" for node in nodes
            if isinstance(node, ast.ImportFrom) and node.module == "jackfield._cli"
            for alias in node.names}

    assert "jackfield._cli.main" not in imported("commands", top_level=False)
    assert "jackfield._cli.commands" not in imported("main", top_level=True)
    assert "__main__" not in (folder / "main.py").read_text()


class _Stop(Exception):
    """Raised by the stand-in create_app once it has seen its arguments."""


async def test_serve_hands_every_server_bound_to_create_app(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import jackfield._server
    from jackfield._cli import serve as cli_serve
    from jackfield._cli.main import build_parser

    seen: dict[str, object] = {}

    def fake_create_app(**kwargs: object) -> None:
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(jackfield._server, "create_app", fake_create_app)
    args = build_parser().parse_args(["serve", "--write-timeout", "7", "--body-timeout", "8",
                                      "--grace", "2"])
    with pytest.raises(_Stop):
        await cli_serve.serve(args)
    assert (seen["write_timeout"], seen["body_timeout"], seen["grace"]) == (7.0, 8.0, 2.0)


def test_serve_refuses_a_write_timeout_that_is_not_positive(
        capsys: pytest.CaptureFixture[str]) -> None:
    from jackfield._cli.main import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["serve", "--write-timeout", "0"])
    assert stopped.value.code == 2 and "--write-timeout" in capsys.readouterr().err
