"""`jackfield emulate` and `jackfield serve` as real processes, stopped with Ctrl-C."""

from __future__ import annotations

import asyncio
import re
import shlex
import signal
import socket
from collections.abc import AsyncIterator

import openai
import pytest
from cli_helpers import CLI, Emulators, clean_environ


@pytest.fixture
async def spawn() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Processes started by the test; any still running at the end are killed."""
    processes: list[asyncio.subprocess.Process] = []
    yield processes
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.communicate()


async def start(processes: list[asyncio.subprocess.Process], *args: str,
                environ: dict[str, str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *CLI, *args, env=environ, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    processes.append(process)
    return process


async def read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), 30)).decode()


async def interrupt(process: asyncio.subprocess.Process) -> str:
    """Press Ctrl-C; return what the process said on stderr once it has exited with 0."""
    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr
    return stderr.decode()


async def test_emulate_prints_exports_that_work(
        spawn: list[asyncio.subprocess.Process]) -> None:
    process = await start(spawn, "emulate", environ=clean_environ())
    assert (await read_line(process)).startswith("# jackfield emulators")
    exports = {}
    while len(exports) < 3:
        line = await read_line(process)
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = shlex.split(value, comments=True)[0]
    assert set(exports) == {"JACKFIELD_AICHATS_BASE_URL", "JACKFIELD_AICHATS_COOKIE",
                            "JACKFIELD_AMIGOCHAT_BASE_URL"}
    assert exports["JACKFIELD_AICHATS_BASE_URL"].startswith("http://127.0.0.1:")
    chat = await asyncio.create_subprocess_exec(
        *CLI, "chat", "-m", "aichats/gpt-4", "ping", env=clean_environ(exports),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(chat.communicate(), 30)
    assert chat.returncode == 0, stderr
    assert stdout.decode().endswith("You said: ping\n")
    assert "stopped" in await interrupt(process)


async def test_serve_answers_the_openai_client(
        emulators: Emulators, spawn: list[asyncio.subprocess.Process]) -> None:
    environ = emulators.environ | {"JACKFIELD_API_KEY": "k" * 32}
    process = await start(spawn, "serve", "--port", "0", environ=environ)
    banner = await read_line(process)
    match = re.search(r"(http://127\.0\.0\.1:\d+/v1) \(API key required\)", banner)
    assert match, banner
    async with openai.AsyncOpenAI(base_url=match.group(1), api_key="k" * 32,
                                  max_retries=0) as client:
        models = await client.models.list()
        assert {m.owned_by for m in models.data} == {"aichats", "amigochat"}
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text.endswith("You said: hi")
    assert "stopped" in await interrupt(process)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "example.org"])
async def test_serve_refuses_a_public_address_without_a_key(host: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", "--host", host, env=clean_environ(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    line = stderr.decode().strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"refusing to serve on {host} without an API key" in line
    assert "JACKFIELD_API_KEY" in line


async def test_serve_on_a_busy_port_is_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            *CLI, "serve", "--port", str(port), env=clean_environ(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in stderr.decode()
    assert len(stderr.decode().splitlines()) == 1


async def test_emulate_refuses_an_unknown_fault_in_one_line() -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI, "emulate", "--fault", "gremlins", env=clean_environ(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2 and stdout == b""
    assert "unknown fault 'gremlins'" in stderr.decode() and "rate_limit" in stderr.decode()
