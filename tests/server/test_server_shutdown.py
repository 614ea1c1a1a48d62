"""Stopping the server: calls in flight get the grace period, then end with an error they see."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from jackfield import Registry
from jackfield._server import create_app
from jackfield._server.listen import serving
from mockprovider import MockServer

USER = [{"role": "user", "content": "hi there"}]
JSON = {"content-type": "application/json"}


async def stream_events(url: str, started: asyncio.Event) -> list[Any]:
    """Stream a chat; return its events (JSON or '[DONE]') once the server ends the body."""
    body = {"model": "echo", "messages": USER, "stream": True}
    events: list[Any] = []
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/chat/completions", json=body, headers=JSON) as response:
        assert response.status == 200
        async for line in response.content:
            if line.startswith(b"data: "):
                data = line[len(b"data: "):].strip()
                events.append("[DONE]" if data == b"[DONE]" else json.loads(data))
                started.set()
    return events


async def test_a_stream_still_open_after_the_grace_ends_with_an_error_event(
        strict_registry: Registry, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()  # the first word only; then the provider waits (its read_idle: 0.5 s)
    started = asyncio.Event()
    async with serving(create_app(strict_registry, grace=0.3)) as url:
        client = asyncio.create_task(stream_events(url, started))
        await asyncio.wait_for(started.wait(), 5)
    stopped = time.monotonic()
    events = await asyncio.wait_for(client, 5)
    assert time.monotonic() - stopped < 3
    assert events[0]["choices"][0]["delta"]["content"] == "You"
    assert events[-1]["error"]["code"] == "server_shutting_down"
    assert "[DONE]" not in events


async def test_a_call_that_ends_within_the_grace_is_answered_in_full(
        strict_registry: Registry, mock_server: MockServer) -> None:
    mock_server.stall = 0.3  # within the grace period and the registry's 0.5 s read_idle
    started = asyncio.Event()
    async with serving(create_app(strict_registry, grace=5)) as url:
        client = asyncio.create_task(stream_events(url, started))
        await asyncio.sleep(0.1)  # the request is in flight, its first chunk not yet come
    events = await asyncio.wait_for(client, 5)
    assert events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1]
                   if isinstance(e, dict) and e["choices"]) == "You said: hi there"


async def test_a_call_before_its_first_chunk_after_the_grace_is_a_503(
        strict_registry: Registry, mock_server: MockServer) -> None:
    # The provider's first chunk comes past the 0.2 s grace (within the 0.5 s read_idle).
    mock_server.stall = 0.45

    async def call(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
        async with session.post(f"{url}/v1/chat/completions", headers=JSON,
                                json={"model": "echo", "messages": USER,
                                      "stream": True}) as response:
            return response.status, await response.json()

    async with aiohttp.ClientSession() as session:
        async with serving(create_app(strict_registry, grace=0.2)) as url:
            request = asyncio.create_task(call(session, url))
            await asyncio.sleep(0.1)  # the call is in flight
        status, reply = await asyncio.wait_for(request, 5)
    assert status == 503 and reply["error"]["code"] == "server_shutting_down"
