"""`jackfield serve --workers 2` as real processes: one port, SIGTERM with a stream in flight
(it finishes within the grace; past it, it ends with an error event), exit 0; a worker that
dies is reported."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from jackfield.testing import new_app

CLI = [sys.executable, "-m", "jackfield"]


class SlowUpstream:
    """An OpenAI-compatible service whose streams send one chunk, then wait for `gate`."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.streams = 0
        self.app = new_app()
        self.app.router.add_get("/v1/models", self.models)
        self.app.router.add_post("/v1/chat/completions", self.chat)

    async def models(self, _request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": "slow", "object": "model", "created": 0, "owned_by": "test"}]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        self.streams += 1

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {"id": "c", "object": "chat.completion.chunk", "model": body["model"],
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": "first"})
        await self.gate.wait()
        await send({"content": " last"}, "stop")
        await response.write(b"data: [DONE]\n\n")
        return response


@pytest.fixture
async def upstream(serve_app: Any) -> tuple[SlowUpstream, str]:
    service = SlowUpstream()
    return service, await serve_app(service.app)


@pytest.fixture
async def serve(upstream: tuple[SlowUpstream, str], tmp_path: Path,
                ) -> AsyncIterator[Any]:
    """`process, url = await serve("--grace", "5")`: serve --workers 2 over the upstream."""
    started: list[asyncio.subprocess.Process] = []
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
    environ |= {"JACKFIELD_LOAD_PLUGINS": "jackfield-openai", "PYTHONUNBUFFERED": "1",
                "JACKFIELD_OPENAI_BASE_URL": f"{upstream[1]}/v1",
                "JACKFIELD_OPENAI_API_KEY": "sk-test-upstream",
                "JACKFIELD_CONFIG_DIR": str(tmp_path / "config"),
                "JACKFIELD_CACHE_DIR": str(tmp_path / "cache"),
                "JACKFIELD_LOGS": str(tmp_path / "logs.db")}

    async def start(*args: str) -> tuple[asyncio.subprocess.Process, str]:
        process = await asyncio.create_subprocess_exec(
            *CLI, "serve", "--port", "0", "--workers", "2", "--no-access-log", *args,
            env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        started.append(process)
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/v1 .*2 workers", line)
        assert match, line
        return process, match.group(1)

    yield start
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.communicate()


def workers_of(process: asyncio.subprocess.Process) -> list[int]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    return [int(pid) for pid in children.split()]


async def first_chunk(session: aiohttp.ClientSession, url: str
                      ) -> tuple[aiohttp.ClientResponse, list[Any]]:
    body = {"model": "openai/slow", "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}
    response = await session.post(f"{url}/v1/chat/completions", json=body)
    assert response.status == 200
    line = await asyncio.wait_for(response.content.readline(), 30)
    return response, [json.loads(line[len(b"data: "):])]


async def rest_of(response: aiohttp.ClientResponse, events: list[Any]) -> list[Any]:
    async for line in response.content:
        if line.startswith(b"data: "):
            data = line[len(b"data: "):].strip()
            events.append("[DONE]" if data == b"[DONE]" else json.loads(data))
    response.release()
    return events


async def refusing(url: str) -> None:
    """Return once the port refuses connections: the server has stopped accepting."""
    port = int(url.rsplit(":", 1)[1])
    for _ in range(600):  # 30 s at most
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server kept accepting connections after SIGTERM")


async def test_sigterm_lets_a_stream_finish_within_the_grace_and_exits_0(
        serve: Any, upstream: tuple[SlowUpstream, str]) -> None:
    process, url = await serve("--grace", "30")
    assert len(workers_of(process)) == 2
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/health") as reply:
            assert reply.status == 200
        response, events = await first_chunk(session, url)
        process.send_signal(signal.SIGTERM)
        await refusing(url)  # no new connections; the stream in flight goes on
        upstream[0].gate.set()
        events = await asyncio.wait_for(rest_of(response, events), 30)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr
    assert events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1]
                   if e["choices"]) == "first last"
    assert b"Traceback" not in stderr


async def test_a_stream_past_the_grace_ends_with_an_error_event_and_exit_0(
        serve: Any) -> None:
    process, url = await serve("--grace", "0.5")
    async with aiohttp.ClientSession() as session:
        response, events = await first_chunk(session, url)
        process.send_signal(signal.SIGTERM)
        events = await asyncio.wait_for(rest_of(response, events), 30)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr
    assert events[0]["choices"][0]["delta"]["content"] == "first"
    assert events[-1]["error"]["code"] == "server_shutting_down"
    assert "[DONE]" not in events


async def test_a_worker_that_dies_at_once_is_reported_and_the_server_exits_1(
        serve: Any) -> None:
    process, _ = await serve()
    victim, survivor = workers_of(process)
    os.kill(victim, signal.SIGKILL)  # well within RESTART_AFTER of its start
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    text = stderr.decode()
    assert f"(pid {victim}) died with status -9" in text and "stopping the server" in text
    assert not Path(f"/proc/{survivor}").exists() or b"zombie" in Path(
        f"/proc/{survivor}/status").read_bytes().lower()


async def test_metrics_of_every_worker_add_up_on_any_worker_s_scrape(
        serve: Any, upstream: tuple[SlowUpstream, str]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    service, _ = upstream
    service.gate.set()  # the streams run to their end at once
    process, url = await serve("--metrics")
    first, second = workers_of(process)

    async def calls(count: int) -> None:
        for _ in range(count):  # a connection each, accepted by whichever worker runs
            async with aiohttp.ClientSession() as session:
                response, events = await first_chunk(session, url)
                assert (await rest_of(response, events))[-1] == "[DONE]"

    async def counted(expected: float) -> float:
        """Scrape until the count is expected (a call is counted just after its reply)."""
        found = -1.0
        for _ in range(100):  # 10 s at most
            async with aiohttp.ClientSession() as session, \
                    session.get(f"{url}/metrics") as reply:
                assert reply.status == 200
                text = await reply.text()
            found = sum(sample.value for family in text_string_to_metric_families(text)
                        for sample in family.samples
                        if sample.name == "jackfield_requests_total"
                        and sample.labels.get("route") == "/v1/chat/completions")
            if found == expected:
                break
            await asyncio.sleep(0.1)
        return found

    # Each worker in turn is stopped, so that the other takes every call meanwhile: 2 calls
    # go to the second, then 3 to the first, which answers the last scrape for both.
    os.kill(first, signal.SIGSTOP)
    try:
        await calls(2)
        assert await counted(2) == 2
    finally:
        os.kill(first, signal.SIGCONT)
    os.kill(second, signal.SIGSTOP)
    try:
        await calls(3)
        assert await counted(5) == 5
    finally:
        os.kill(second, signal.SIGCONT)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 60) == 0
