"""`jackfield chat` with no prompt on a terminal: the interactive session, through a pty."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cli_helpers import Emulators
from terminal import SGR, Terminal, plain, session_environ

from jackfield.testing import FAULTS_KEY, STATS_KEY
from jackfield_aichats.emulator import CONTROLS_KEY

Start = Callable[..., Terminal]


@pytest.fixture
async def start(emulators: Emulators, tmp_path: Path) -> AsyncIterator[Start]:
    """Start `jackfield chat ARGS` on a pseudo-terminal; every one is killed at the end."""
    started: list[Terminal] = []

    def run(*args: str, **extra: str) -> Terminal:
        terminal = Terminal(["chat", *args], session_environ(emulators.environ, tmp_path,
                                                             extra))
        started.append(terminal)
        return terminal

    yield run
    for terminal in started:
        terminal.close()


def hold_after_first_piece(emulators: Emulators) -> None:
    """Make the AiChats emulator send each reply's first piece, then hold the rest."""
    held = asyncio.Event()  # never set

    async def pacer(index: int) -> None:
        if index > 0:
            await held.wait()

    emulators.aichats[CONTROLS_KEY].pacer = pacer


async def eventually(check: Callable[[], bool], seconds: float = 3) -> None:
    """Wait until check() holds (the emulator's counts change on its own schedule)."""
    for _ in range(int(seconds * 100)):
        if check():
            return
        await asyncio.sleep(0.01)
    assert check()


def user_messages(sent: dict[str, object]) -> list[object]:
    messages = sent["messages"]
    assert isinstance(messages, list)
    return [(m["role"], m["content"]) for m in messages]


async def test_two_turns_send_the_conversation_back_and_ctrl_d_exits_0(
        start: Start, emulators: Emulators, tmp_path: Path) -> None:
    terminal = start("-m", "gpt-4o")
    await terminal.expect("/help for the commands")
    await terminal.turn("hello there", "You said: hello there")
    await terminal.turn("and again", "You said: and again")
    sent = emulators.amigochat[STATS_KEY].last_json
    assert user_messages(sent) == [
        ("user", "hello there"),
        ("assistant",
         "Hello from the AmigoChat emulator (gpt-4o-2024-11-20). You said: hello there"),
        ("user", "and again")]
    await terminal.prompt()
    terminal.child.sendcontrol("d")
    assert await terminal.finish() == 0
    # Line-editing history lives beside JACKFIELD_LOGS, private to the user.
    history = tmp_path / "chat-history"
    assert "hello there" in history.read_text() and "and again" in history.read_text()
    assert history.stat().st_mode & 0o077 == 0


async def test_ctrl_c_cancels_the_reply_in_flight_and_the_session_goes_on(
        start: Start, emulators: Emulators) -> None:
    stats = emulators.aichats[STATS_KEY]
    terminal = start("-m", "aichats/gpt-4")
    await terminal.turn("first", "You said: first")
    hold_after_first_piece(emulators)
    await terminal.turn("second", "Hello")  # the first piece came; the rest is held back
    assert stats.in_flight == 1
    terminal.child.sendintr()
    await terminal.expect("(cancelled)")
    await eventually(lambda: stats.in_flight == 0)  # the upstream connection was closed
    emulators.aichats[CONTROLS_KEY].pacer = None
    await terminal.send("third")
    # AiChats takes the conversation as one text, which its emulator echoes.
    reply = await terminal.expect("User: third Assistant:")
    assert "User: first Assistant: Hello" in reply
    assert "second" not in reply  # the cancelled turn is not kept
    await terminal.send("/exit")
    assert await terminal.finish() == 0


async def test_model_and_system_commands(start: Start, emulators: Emulators) -> None:
    terminal = start("-m", "gpt-4o")
    await terminal.turn("/system be brief", "system message: be brief")
    await terminal.turn("hi", "You said: hi")
    assert user_messages(emulators.amigochat[STATS_KEY].last_json)[0] == ("system", "be brief")
    # A wrong name is one error line; the session goes on with the model it had.
    await terminal.turn("/model gpt-4p", "Unknown model 'gpt-4p'")
    await terminal.turn("/model dalle", "use `jackfield image`")
    await terminal.turn("/model aichats/gpt-4", "model: aichats/gpt-4")
    await terminal.turn("who are you", "AiChats emulator. You said: System: be brief")
    assert emulators.aichats[STATS_KEY].requests == 1
    assert emulators.amigochat[STATS_KEY].requests == 1
    await terminal.turn("/help", "/multi")
    await terminal.send("/exit")
    assert await terminal.finish() == 0


async def test_multi_line_input_by_command_and_by_trailing_backslash(
        start: Start, emulators: Emulators) -> None:
    terminal = start("-m", "gpt-4o")
    await terminal.prompt()
    terminal.child.send("never sent")
    await terminal.expect("never sent")
    terminal.child.sendintr()  # Ctrl-C at the prompt drops the line; the session goes on
    await terminal.send("/multi")
    await terminal.send("line one", prompt="...")
    await terminal.send("line two", prompt="...")
    await terminal.send("!end", prompt="...")
    await terminal.expect("You said: line one")
    assert user_messages(emulators.amigochat[STATS_KEY].last_json)[-1] == (
        "user", "line one\nline two")
    await terminal.send("first half \\")
    await terminal.send("second half", prompt="...")
    await terminal.expect("You said: first half")
    assert user_messages(emulators.amigochat[STATS_KEY].last_json)[-1] == (
        "user", "first half \nsecond half")
    assert emulators.amigochat[STATS_KEY].requests == 2
    await terminal.prompt()
    terminal.child.sendcontrol("d")
    assert await terminal.finish() == 0


async def test_no_color_leaves_out_every_colour(start: Start) -> None:
    coloured = start("-m", "gpt-4o")
    await coloured.turn("hi", "You said: hi")
    await coloured.send("/exit")
    assert await coloured.finish() == 0
    assert any(code not in (b"", b"0") for code in SGR.findall(coloured.raw))
    uncoloured = start("-m", "gpt-4o", NO_COLOR="1")
    await uncoloured.turn("hi", "You said: hi")
    await uncoloured.turn("/nonsense", "unknown command /nonsense")
    await uncoloured.send("/exit")
    assert await uncoloured.finish() == 0
    # The editor still moves the cursor and resets attributes, but sets none: no colour.
    assert set(SGR.findall(uncoloured.raw)) <= {b"", b"0"}, uncoloured.raw


async def test_piped_stdin_stays_one_shot(emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", stdin="hello\n/exit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("You said: hello\n/exit\n")
    assert "/help" not in result.stderr
    assert emulators.amigochat[STATS_KEY].requests == 1


async def test_each_turn_is_logged_and_c_continues_the_session(
        start: Start, emulators: Emulators) -> None:
    terminal = start("-m", "aichats/gpt-4")
    await terminal.turn("first", "You said: first")
    hold_after_first_piece(emulators)
    await terminal.turn("second", "Hello")
    terminal.child.sendintr()
    await terminal.expect("(cancelled)")
    emulators.aichats[CONTROLS_KEY].pacer = None
    await terminal.send("/exit")
    assert await terminal.finish() == 0
    logs = await emulators.run("logs", "--json", "-n", "10", environ=terminal.environ)
    assert logs.returncode == 0, logs.stderr
    entries = sorted(json.loads(logs.stdout), key=lambda entry: entry["id"])
    assert [(e["prompt"], e["error"]) for e in entries] == [
        ("first", None), ("second", "interrupted")]
    assert len({e["cid"] for e in entries}) == 1

    again = start("-c")  # the model comes from the conversation
    await again.expect(f"continuing conversation {entries[0]['cid']}")
    reply = await again.turn("third", "User: third Assistant:")
    assert "User: first Assistant: Hello" in reply
    await again.send("/exit")
    assert await again.finish() == 0
    logs = await emulators.run("logs", "--json", "-n", "10", environ=terminal.environ)
    assert {e["cid"] for e in json.loads(logs.stdout)} == {entries[0]["cid"]}


async def test_no_log_writes_neither_the_log_nor_the_history(
        start: Start, tmp_path: Path) -> None:
    terminal = start("-m", "gpt-4o", "--no-log")
    await terminal.turn("private words", "You said: private words")
    await terminal.send("/exit")
    assert await terminal.finish() == 0
    assert not (tmp_path / "logs.db").exists()
    assert not (tmp_path / "chat-history").exists()


async def test_a_failed_turn_is_one_line_and_the_session_goes_on(
        start: Start, emulators: Emulators) -> None:
    emulators.amigochat[FAULTS_KEY].set("forbidden_json", times=1)
    terminal = start("-m", "gpt-4o")
    await terminal.turn("hi", "jackfield: ")
    await terminal.turn("hi again", "You said: hi again")
    await terminal.send("/exit")
    assert await terminal.finish() == 0
    shown = plain(terminal.raw)
    [error] = [line for line in shown.splitlines() if line.startswith("jackfield: ")]
    assert "amigochat" in error.lower() and "Traceback" not in shown


async def test_ctrl_c_before_the_first_piece_cancels_too(
        start: Start, emulators: Emulators) -> None:
    faults, stats = emulators.amigochat[FAULTS_KEY], emulators.amigochat[STATS_KEY]
    faults.slow_start_delay = 20.0  # far longer than the test waits
    faults.set("slow_start", times=1)
    terminal = start("-m", "gpt-4o")
    await terminal.send("hi")
    await eventually(lambda: stats.in_flight == 1)  # the request is waiting for its headers
    terminal.child.sendintr()
    await terminal.expect("(cancelled)")
    await eventually(lambda: stats.in_flight == 0)
    await terminal.turn("hi again", "You said: hi again")
    await terminal.send("/exit")
    assert await terminal.finish() == 0
