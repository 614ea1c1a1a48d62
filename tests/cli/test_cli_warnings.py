"""What a call accepted but did not send: one stderr line each after the reply (and in --json
and the log); --strict refuses it before anything is sent; complete()'s own parameters by -o."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Emulators, one_error_line

from jackfield.testing import STATS_KEY

REPLY = "Hello from the AiChats emulator. You said: hi"
TEMPERATURE = ("jackfield: warning: temperature was accepted but not sent: aichats/gpt-4 does "
               "not honour it.")
SEED = "jackfield: warning: seed was accepted but not sent: aichats/gpt-4 does not support it."
EXACT = {"type": "chat", "messagesHistory": [{"from": "you", "content": "hi"}]}


@pytest.mark.parametrize("mode", [(), ("--no-stream",)])
async def test_each_warning_is_one_stderr_line_after_the_reply(emulators: Emulators,
                                                               mode: tuple[str, ...]) -> None:
    result = await emulators.run("chat", "-m", "aichats/gpt-4", *mode, "-o", "temperature=0.2",
                                 "-o", "seed=7", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{REPLY}\n"
    assert result.stderr.splitlines() == [TEMPERATURE, SEED]
    assert emulators.aichats[STATS_KEY].last_json == EXACT


async def test_json_output_and_the_log_hold_the_warnings(emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "aichats/gpt-4", "--json", "-o",
                                 "temperature=0.2", "hi")
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert (data["text"], data["reasoning"]) == (REPLY, "")
    assert data["warnings"] == [TEMPERATURE.removeprefix("jackfield: warning: ")]
    logged = await emulators.run("logs", "--json", "-n", "1")
    assert json.loads(logged.stdout)[0]["warnings"] == data["warnings"]


async def test_a_model_that_honours_the_parameter_gives_no_warning(
        emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", "-o", "temperature=0.2", "hi")
    assert result.returncode == 0 and result.stderr == ""
    assert emulators.amigochat[STATS_KEY].last_json["temperature"] == 0.2


async def test_strict_refuses_before_anything_is_sent(emulators: Emulators,
                                                      tmp_path: Path) -> None:
    result = await emulators.run("chat", "-m", "aichats/gpt-4", "--strict", "-o",
                                 "temperature=0.2", "hi")
    assert result.returncode == 2
    line = one_error_line(result)
    assert "temperature was accepted but not sent" in line and "Strict mode refuses" in line
    out = tmp_path / "out"
    result = await emulators.run("image", "-m", "dalle", "--strict", "-o", "size=1024x1024",
                                 "--dir", str(out), "a cat")
    assert result.returncode == 2 and "size" in result.stderr.splitlines()[-1]
    assert emulators.aichats[STATS_KEY].requests == 0
    assert list(out.iterdir()) == []
    plain = await emulators.run("chat", "-m", "aichats/gpt-4", "--strict", "hi")
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, f"{REPLY}\n", "")


async def test_stop_as_a_json_list_is_applied(emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "aichats/gpt-4", "-o",
                                 'stop=["nowhere", "emulator"]', "hi")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.strip() == "Hello from the AiChats"


@pytest.mark.parametrize(("option", "says"), [
    ("n=2", "prints one"), ("strict=true", "use --strict"),
    ('tools=[{"type": "function", "function": {"name": "f"}}]', "cannot run tools"),
    ("tool_choice=auto", "cannot run tools"),
])
async def test_what_the_command_line_cannot_show_is_refused(emulators: Emulators, option: str,
                                                            says: str) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", "-o", option, "hi")
    assert result.returncode == 2 and says in one_error_line(result)
    assert emulators.amigochat[STATS_KEY].requests == 0


async def test_image_n_saves_every_image(emulators: Emulators, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = await emulators.run("image", "-m", "dalle", "-o", "n=2", "--dir", str(out),
                                 "a cat")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(out / "a-cat.png"), str(out / "a-cat-2.png")]
    assert emulators.aichats[STATS_KEY].requests == 4  # two calls, each with its download
