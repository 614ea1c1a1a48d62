"""One provider's busy connections never starve another's calls; a queued call fails in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from jackfield import (
    ConfigurationError,
    Limits,
    ProviderTimeoutError,
    Registry,
    RetryPolicy,
    Timeouts,
)
from jackfield.testing import STATS_KEY, new_app
from mockprovider import MockProvider, MockServer

HELD = 120  # more streams than the pool of 100 holds: the last 20 queue
ONCE = RetryPolicy(attempts=1)


def holding_app() -> web.Application:
    """A provider whose streams send their headers, then nothing (until the client leaves)."""
    app = new_app()

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(30)  # cancelled when the client goes away (handler_cancellation)
        return response

    app.router.add_post("/chat", chat)
    return app


async def _hold(registry: Registry, count: int) -> list[asyncio.Task[Any]]:
    """Start count streams of provider "slow" that wait for a first chunk that never comes."""
    async def one() -> None:
        stream = await registry.complete("slow/echo", "hi", stream=True)
        async with stream:
            await stream.__anext__()

    return [asyncio.create_task(one()) for _ in range(count)]


async def _until(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
async def two_providers(serve_app: Any, make_registry: Any) -> AsyncIterator[Any]:
    """A registry over "slow" (streams that hold their connection) and "mock" (healthy)."""
    slow = holding_app()
    healthy = MockServer()
    urls = {"slow": await serve_app(slow), "mock": await serve_app(healthy.app)}
    registry = make_registry([MockProvider("slow"), MockProvider()], base_urls=urls, retry=ONCE,
                             timeouts=Timeouts(connect=0.5, read_idle=20, total=30))
    tasks: list[asyncio.Task[Any]] = []
    yield registry, slow, tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_held_streams_of_one_provider_do_not_delay_another(two_providers: Any) -> None:
    registry, slow, tasks = two_providers
    tasks += await _hold(registry, HELD)
    await _until(lambda: slow[STATS_KEY].in_flight == 100)  # the pool of "slow" is full
    started = asyncio.get_running_loop().time()
    completion = await asyncio.wait_for(registry.complete("mock/echo", "still there?"), 2)
    assert completion.text == "You said: still there?"
    assert asyncio.get_running_loop().time() - started < 2


async def test_a_call_queued_behind_a_full_pool_fails_within_its_connect_timeout(
        two_providers: Any) -> None:
    registry, slow, tasks = two_providers
    tasks += await _hold(registry, 100)
    await _until(lambda: slow[STATS_KEY].in_flight == 100)
    started = asyncio.get_running_loop().time()
    with pytest.raises(ProviderTimeoutError) as caught:
        await asyncio.wait_for(registry.complete("slow/echo", "hi"), 5)
    assert asyncio.get_running_loop().time() - started < 2  # connect=0.5, no retry
    message = str(caught.value)
    assert "all 100 connections of its pool stayed busy" in message
    assert "Limits(max_connections_per_provider=...)" in message


async def test_max_connections_per_provider_sizes_each_pool(serve_app: Any,
                                                            make_registry: Any) -> None:
    slow = holding_app()
    registry = make_registry([MockProvider("slow")], base_urls={"slow": await serve_app(slow)},
                             retry=ONCE, limits=Limits(max_connections_per_provider=3),
                             timeouts=Timeouts(connect=0.3, read_idle=20, total=30))
    tasks = await _hold(registry, 3)
    try:
        await _until(lambda: slow[STATS_KEY].in_flight == 3)
        with pytest.raises(ProviderTimeoutError, match="all 3 connections"):
            await registry.complete("slow/echo", "hi")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await _until(lambda: slow[STATS_KEY].in_flight == 0)  # cancelled streams let go


@pytest.mark.parametrize("value", [0, -1, 2.5, "many", True])
def test_max_connections_per_provider_is_validated(value: Any) -> None:
    with pytest.raises(ConfigurationError,
                       match=r"Limits\.max_connections_per_provider must be a whole number"):
        Limits(max_connections_per_provider=value)
