"""`jackfield emulate` and `jackfield serve` as real processes, stopped with Ctrl-C."""

from __future__ import annotations

import asyncio
import re
import shlex
import signal
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from cli_helpers import CLI, Emulators, clean_environ

from jackfield.testing import FAULTS_KEY


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
    """Press Ctrl-C; return what the process said on stderr once it has exited with 130."""
    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130, stderr  # 128 + SIGINT, as the README says
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


async def test_ctrl_c_on_serve_ends_calls_in_flight_after_the_grace_and_exits_130(
        emulators: Emulators, spawn: list[asyncio.subprocess.Process]) -> None:
    faults = emulators.aichats[FAULTS_KEY]
    faults.set("stall_after_headers")  # the upstream answers 200 and then nothing
    process = await start(spawn, "serve", "--port", "0", "--grace", "0.5",
                          "--allowed-host", "jackfield.test",
                          environ=emulators.environ | {"JACKFIELD_ALLOWED_HOSTS": "b.test,c.test"})
    match = re.search(r"(http://127\.0\.0\.1:\d+)/v1", await read_line(process))
    assert match
    url = match.group(1)

    async def call(session: aiohttp.ClientSession) -> tuple[int, Any]:
        body = {"model": "aichats/gpt-4", "stream": True,
                "messages": [{"role": "user", "content": "hi"}]}
        async with session.post(f"{url}/v1/chat/completions", json=body) as response:
            return response.status, await response.json()

    async with aiohttp.ClientSession() as session:
        for host, expected in [("jackfield.test", 200), ("c.test", 200), ("evil.example", 403)]:
            async with session.get(f"{url}/health", headers={"Host": host}) as response:
                assert response.status == expected, host
        in_flight = asyncio.create_task(call(session))
        for _ in range(100):  # 10 s at most for the call to reach the upstream
            if faults.applied:
                break
            await asyncio.sleep(0.1)
        assert faults.applied == {"stall_after_headers": 1}
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 130, stderr
        assert time.monotonic() - started < 5  # the grace, 2 s for last words, start-up noise
        status, reply = await asyncio.wait_for(in_flight, 5)
    assert status == 503 and reply["error"]["code"] == "server_shutting_down"
    assert "Traceback" not in stderr.decode() and "stopped" in stderr.decode()
