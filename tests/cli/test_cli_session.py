"""`jackfield chat` with no prompt on a terminal: the interactive session, through a pty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cli_helpers import Emulators
from terminal import SGR, Terminal, session_environ

from jackfield.testing import STATS_KEY
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


def user_messages(sent: dict[str, object]) -> list[object]:
    messages = sent["messages"]
    assert isinstance(messages, list)
    return [(m["role"], m["content"]) for m in messages]


async def test_two_turns_send_the_conversation_back_and_ctrl_d_exits_0(
        start: Start, emulators: Emulators, tmp_path: Path) -> None:
    terminal = start("-m", "gpt-4o")
    await terminal.expect("/help for the commands")
    await terminal.send("hello there")
    await terminal.expect("You said: hello there")
    await terminal.send("and again")
    await terminal.expect("You said: and again")
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
    held = asyncio.Event()  # never set: the emulator holds every piece after the first

    async def pacer(index: int) -> None:
        if index > 0:
            await held.wait()

    stats = emulators.aichats[STATS_KEY]
    terminal = start("-m", "aichats/gpt-4")
    await terminal.send("first")
    await terminal.expect("You said: first")
    emulators.aichats[CONTROLS_KEY].pacer = pacer
    await terminal.send("second")
    await terminal.expect("Hello")  # the first piece came; the rest is held back
    assert stats.in_flight == 1
    terminal.child.sendintr()
    await terminal.expect("(cancelled)")
    for _ in range(300):
        if stats.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert stats.in_flight == 0  # the upstream connection was closed
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
    await terminal.send("/system be brief")
    await terminal.expect("system message: be brief")
    await terminal.send("hi")
    await terminal.expect("You said: hi")
    assert user_messages(emulators.amigochat[STATS_KEY].last_json)[0] == ("system", "be brief")
    await terminal.send("/model gpt-4p")
    await terminal.expect("Unknown model 'gpt-4p'")  # one error line; the session goes on
    await terminal.send("/model dalle")
    await terminal.expect("use `jackfield image`")
    await terminal.send("/model aichats/gpt-4")
    await terminal.expect("model: aichats/gpt-4")
    await terminal.send("who are you")
    await terminal.expect("Hello from the AiChats emulator. You said: System: be brief")
    assert emulators.aichats[STATS_KEY].requests == 1
    assert emulators.amigochat[STATS_KEY].requests == 1
    await terminal.send("/help")
    await terminal.expect("/multi")
    await terminal.send("/exit")
    assert await terminal.finish() == 0


async def test_multi_line_input_by_command_and_by_trailing_backslash(
        start: Start, emulators: Emulators) -> None:
    terminal = start("-m", "gpt-4o")
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
    await terminal.prompt()
    terminal.child.sendcontrol("d")
    assert await terminal.finish() == 0


async def test_no_color_leaves_out_every_colour(start: Start) -> None:
    coloured = start("-m", "gpt-4o")
    await coloured.send("hi")
    await coloured.expect("You said: hi")
    await coloured.send("/exit")
    assert await coloured.finish() == 0
    assert any(code not in (b"", b"0") for code in SGR.findall(coloured.raw))
    plain = start("-m", "gpt-4o", NO_COLOR="1")
    await plain.send("hi")
    await plain.expect("You said: hi")
    await plain.send("/nonsense")
    await plain.expect("unknown command /nonsense")
    await plain.send("/exit")
    assert await plain.finish() == 0
    # The editor still moves the cursor and resets attributes, but sets none: no colour.
    assert set(SGR.findall(plain.raw)) <= {b"", b"0"}, plain.raw


async def test_piped_stdin_stays_one_shot(emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", stdin="hello\n/exit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("You said: hello\n/exit\n")
    assert "/help" not in result.stderr
    assert emulators.amigochat[STATS_KEY].requests == 1
