"""`jackfield chat` and `jackfield image` in subprocesses, against the emulators."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from cli_helpers import Emulators, held_chat, one_error_line

from jackfield.testing import STATS_KEY


async def test_chat_streams_the_reply_for_a_prompt_from_stdin(emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "aichats/gpt-4", stdin="hello there\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from the AiChats emulator. You said: hello there\n"
    assert emulators.aichats[STATS_KEY].last_json["messagesHistory"][0]["content"].endswith(
        "hello there")


async def test_chat_no_stream_with_system_message_and_typed_options(
        emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "gpt-4o", "--no-stream", "-s", "be brief",
                                 "-o", "temperature=0.25", "-o", "max_tokens=12", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("You said: hi\n")
    sent = emulators.amigochat[STATS_KEY].last_json
    assert sent["temperature"] == 0.25 and sent["max_tokens"] == 12
    assert type(sent["max_tokens"]) is int
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}


async def test_a_bad_option_is_one_line_and_exit_status_2(emulators: Emulators) -> None:
    wrong_type = await emulators.run("chat", "-m", "gpt-4o", "-o", "temperature=hot", "hi")
    assert wrong_type.returncode == 2
    assert "temperature must be a number from 0 to 2, got 'hot'" in one_error_line(wrong_type)
    unknown = await emulators.run("chat", "-m", "gpt-4o", "-o", "top_k=3", "hi")
    assert unknown.returncode == 2
    assert "top_k" in one_error_line(unknown) and "Supported options" in unknown.stderr
    reserved = await emulators.run("chat", "-m", "gpt-4o", "-o", "timeout=3", "hi")
    assert reserved.returncode == 2 and "--timeout" in one_error_line(reserved)
    assert emulators.amigochat[STATS_KEY].requests == 0


async def test_an_unknown_model_is_one_line(emulators: Emulators) -> None:
    result = await emulators.run("chat", "-m", "gpt-4p", "hi")
    assert result.returncode == 2
    line = one_error_line(result)
    assert "Unknown model 'gpt-4p'" in line and "Did you mean" in line


async def test_a_provider_failure_is_one_line_and_debug_shows_the_traceback(
        emulators: Emulators) -> None:
    environ = {k: v for k, v in emulators.environ.items() if k != "JACKFIELD_AICHATS_COOKIE"}
    result = await emulators.run("chat", "-m", "aichats/gpt-4", "hi", environ=environ)
    assert result.returncode == 1
    assert "JACKFIELD_AICHATS_COOKIE" in one_error_line(result)
    debug = await emulators.run("--debug", "chat", "-m", "aichats/gpt-4", "hi",
                                environ=environ)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


async def test_ctrl_c_stops_a_stream_and_closes_the_connection(emulators: Emulators) -> None:
    stats = emulators.aichats[STATS_KEY]
    process = await held_chat(emulators)
    assert stats.in_flight == 1
    process.send_signal(signal.SIGINT)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130
    assert stdout == b"\n" and stderr.decode().strip() == "jackfield: interrupted"
    for _ in range(200):
        if stats.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert stats.in_flight == 0


async def test_image_into_a_directory(emulators: Emulators, tmp_path: Path) -> None:
    result = await emulators.run("image", "-m", "dalle", "--dir", str(tmp_path / "out"),
                                 "a red lighthouse")
    assert result.returncode == 0, result.stderr
    [path] = result.stdout.splitlines()
    assert Path(path) == tmp_path / "out" / "a-red-lighthouse.png"
    assert Path(path).read_bytes().startswith(b"\x89PNG")
    assert "generating with dalle" in result.stderr


async def test_image_to_a_file(emulators: Emulators, tmp_path: Path) -> None:
    target = tmp_path / "cat.png"
    result = await emulators.run("image", "-m", "flux-realism", "--output", str(target), "a cat")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(target)]
    assert target.read_bytes().startswith(b"\x89PNG")


async def test_image_and_chat_refuse_models_of_the_other_kind(emulators: Emulators) -> None:
    image = await emulators.run("image", "-m", "gpt-4o", "x")
    assert image.returncode == 2 and "use `jackfield chat`" in one_error_line(image)
    chat = await emulators.run("chat", "-m", "dalle", "x")
    assert chat.returncode == 2 and "use `jackfield image`" in one_error_line(chat)
