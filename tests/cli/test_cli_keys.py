"""`jackfield keys`: set (hidden on a terminal, or piped), used by chat, never printed."""

from __future__ import annotations

import asyncio
import os
import select
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CLI, Emulators, clean_environ, one_error_line

import jackfield_amigochat.emulator

TOKEN = "amigo-key-7f3a91c2e5"


@pytest.fixture
async def guarded(serve_app: Any, tmp_path: Path) -> Emulators:
    """An AmigoChat emulator that lets in only `Bearer TOKEN`; the keys file under tmp_path."""
    app = jackfield_amigochat.emulator.create_app(token=TOKEN)
    environ = clean_environ({"JACKFIELD_AMIGOCHAT_BASE_URL": await serve_app(app),
                             "JACKFIELD_CONFIG_DIR": str(tmp_path)})
    return Emulators(app, app, environ)


def _everything(*results: subprocess.CompletedProcess[str]) -> str:
    return "".join(r.stdout + r.stderr for r in results)


async def test_a_piped_key_is_stored_private_and_used_by_chat(guarded: Emulators,
                                                              tmp_path: Path) -> None:
    refused = await guarded.run("chat", "-m", "amigochat/gpt-4o", "hi")
    assert refused.returncode == 1, refused.stderr
    assert "`jackfield keys set amigochat`" in one_error_line(refused)
    stored = await guarded.run("keys", "set", "amigochat", stdin=f"{TOKEN}\n")
    assert stored.returncode == 0, stored.stderr
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    chat = await guarded.run("chat", "-m", "amigochat/gpt-4o", "hi")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.strip()
    listed = await guarded.run("keys", "list")
    assert listed.stdout == "amigochat token\n"
    path = await guarded.run("keys", "path")
    assert path.stdout.strip() == str(tmp_path / "keys.json")
    config = await guarded.run("--debug", "plugins", "--json")
    assert TOKEN not in _everything(refused, stored, chat, listed, path, config)


async def test_the_environment_wins_over_the_key_and_no_error_shows_either(
        guarded: Emulators) -> None:
    await guarded.run("keys", "set", "amigochat", "token", stdin=TOKEN)
    environ = {**guarded.environ, "JACKFIELD_AMIGOCHAT_TOKEN": "wrong-token-from-env"}
    listed = await guarded.run("keys", "list", environ=environ)
    assert "overridden by JACKFIELD_AMIGOCHAT_TOKEN" in listed.stdout
    failed = await guarded.run("--debug", "chat", "-m", "amigochat/gpt-4o", "hi",
                               environ=environ)
    assert failed.returncode == 1
    assert "401" in failed.stderr or "uthentic" in failed.stderr, failed.stderr
    assert TOKEN not in _everything(listed, failed)
    assert "wrong-token-from-env" not in _everything(failed)


async def test_remove_forgets_the_key(guarded: Emulators, tmp_path: Path) -> None:
    await guarded.run("keys", "set", "amigochat", stdin=TOKEN)
    removed = await guarded.run("keys", "remove", "amigochat", "token")
    assert removed.returncode == 0, removed.stderr
    assert (await guarded.run("keys", "list")).stdout == ""
    again = await guarded.run("keys", "remove", "amigochat")
    assert again.returncode == 2 and "keys list" in one_error_line(again)
    assert TOKEN not in (tmp_path / "keys.json").read_text()


@pytest.mark.parametrize(("argv", "expected"), [
    (["keys", "set", "nosuch"], "no installed provider is named 'nosuch'"),
    (["keys", "set", "aichats", "token"], "keys set aichats cookie"),
    (["keys"], "keys set PROVIDER"),
])
async def test_mistakes_are_one_line_naming_the_fix(guarded: Emulators, argv: list[str],
                                                    expected: str) -> None:
    result = await guarded.run(*argv, stdin="")
    assert result.returncode == 2
    assert expected in one_error_line(result)


async def test_an_empty_value_is_refused(guarded: Emulators, tmp_path: Path) -> None:
    result = await guarded.run("keys", "set", "amigochat", stdin="\n")
    assert result.returncode == 2 and "no value given" in one_error_line(result)
    assert not (tmp_path / "keys.json").exists()


def _type_on_a_terminal(argv: list[str], environ: dict[str, str], line: str) -> str:
    """Run argv on a pseudo-terminal, type line at its prompt; return everything it showed."""
    master, slave = os.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=environ,
                               start_new_session=True)
    os.close(slave)
    shown, typed, deadline = b"", False, time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # the terminal closed: the program ended
                    break
                if not data:
                    break
                shown += data
            if not typed and b"(input hidden)" in shown:
                os.write(master, line.encode() + b"\n")
                typed = True
            if process.poll() is not None and not ready:
                break
        assert process.wait(timeout=10) == 0, shown
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert typed, shown
    return shown.decode(errors="replace")


async def test_on_a_terminal_the_key_is_read_without_echo(guarded: Emulators,
                                                          tmp_path: Path) -> None:
    shown = await asyncio.to_thread(_type_on_a_terminal, [*CLI, "keys", "set", "amigochat"],
                                    guarded.environ, TOKEN)
    assert "amigochat token (input hidden):" in shown
    assert TOKEN not in shown  # not echoed as it was typed
    chat = await guarded.run("chat", "-m", "amigochat/gpt-4o", "hi")
    assert chat.returncode == 0, chat.stderr
