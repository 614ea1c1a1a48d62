"""The fault controller itself: times=N, start-up settings, scope, and the stall's ending."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import jackfield_aichats
import jackfield_amigochat
from jackfield import (
    Limits,
    ProviderError,
    ProviderUnavailableError,
    ResponseFormatError,
    RetryPolicy,
    StalledResponseError,
    Timeouts,
)
from jackfield.testing import FAULTS_ENV, FAULTS_KEY, STATS_KEY, Faults, new_app
from jackfield_aichats.emulator import create_app as aichats_app
from jackfield_amigochat.emulator import create_app as amigochat_app

COOKIE = {"cookie": "session=fault-controls"}
FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02)


async def aichats(serve_app: Any, make_registry: Any, app: web.Application | None = None,
                  **kwargs: Any) -> tuple[web.Application, Any]:
    app = app if app is not None else aichats_app()
    url = await serve_app(app)
    kwargs.setdefault("retry", FAST)
    registry = make_registry([jackfield_aichats], base_urls={"aichats": url},
                             config={"aichats": COOKIE}, **kwargs)
    return app, registry


async def amigochat(serve_app: Any, make_registry: Any,
                    **kwargs: Any) -> tuple[web.Application, Any]:
    app = amigochat_app()
    url = await serve_app(app)
    kwargs.setdefault("retry", FAST)
    return app, make_registry([jackfield_amigochat], base_urls={"amigochat": url}, **kwargs)


async def test_times_limits_a_fault_to_the_next_requests(serve_app: Any,
                                                         make_registry: Any) -> None:
    app, registry = await aichats(serve_app, make_registry)
    faults = app[FAULTS_KEY]
    faults.set("unavailable", times=2)
    completion = await registry.complete("gpt-4", "hi")
    assert completion.text.startswith("Hello from the AiChats emulator")
    assert app[STATS_KEY].requests == 3  # two 503s, then the answer
    assert faults.applied == {"unavailable": 2}
    assert faults.fault is None  # used up: answers are normal again


async def test_error_then_ok_fails_times_requests(serve_app: Any, make_registry: Any) -> None:
    app, registry = await amigochat(
        serve_app, make_registry, retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.02))
    app[FAULTS_KEY].set("error_then_ok", times=2)
    with pytest.raises(ProviderUnavailableError, match=r"HTTP 500"):
        await registry.complete("gpt-4o-mini", "hi")
    assert app[STATS_KEY].requests == 2
    completion = await registry.complete("gpt-4o-mini", "hi")  # the third request is ok
    assert completion.text.startswith("Hello from the AmigoChat emulator")


async def test_create_app_fault_argument(serve_app: Any, make_registry: Any) -> None:
    app, registry = await aichats(serve_app, make_registry, app=aichats_app(fault="unavailable:1"))
    assert (await registry.complete("gpt-4", "hi")).text
    assert app[STATS_KEY].requests == 2
    assert app[FAULTS_KEY].applied == {"unavailable": 1}


def test_environment_variable_sets_the_first_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    assert amigochat_app()[FAULTS_KEY].fault is None
    monkeypatch.setenv(FAULTS_ENV, "rate_limit:2")
    faults = amigochat_app()[FAULTS_KEY]
    assert (faults.fault, faults.remaining) == ("rate_limit", 2)
    assert aichats_app(fault="")[FAULTS_KEY].fault is None  # the argument beats the environment
    faults = new_app(environ={FAULTS_ENV: "huge_line"})[FAULTS_KEY]
    assert (faults.fault, faults.remaining) == ("huge_line", None)


@pytest.mark.parametrize("spec", ["no_such_fault", "rate_limit:x", "rate_limit:0"])
def test_bad_fault_names_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=r"fault|times"):
        Faults().set_from_spec(spec)
    with pytest.raises(ValueError):
        new_app(environ={FAULTS_ENV: spec})


@pytest.mark.parametrize("plugin", ["aichats", "amigochat"])
async def test_image_downloads_are_not_faulted(plugin: str, serve_app: Any,
                                               make_registry: Any) -> None:
    start = aichats if plugin == "aichats" else amigochat
    app, registry = await start(serve_app, make_registry)
    completion = await registry.complete("dalle" if plugin == "aichats" else "flux-realism", "a")
    app[FAULTS_KEY].set("unavailable")
    async with (aiohttp.ClientSession() as session,
                session.get(completion.images[0].url) as response):
        assert response.status == 200
        assert await response.read() == completion.images[0].data
    assert app[FAULTS_KEY].applied == {}


async def test_a_stall_is_not_retried_so_it_surfaces_within_idle_plus_a_second(
        serve_app: Any, make_registry: Any) -> None:
    idle = 0.3
    app, registry = await aichats(serve_app, make_registry, timeouts=Timeouts(read_idle=idle),
                                  retry=RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02))
    app[FAULTS_KEY].set("stall_after_headers")
    stream = await registry.complete("gpt-4", "hi", stream=True)
    started = time.monotonic()
    with pytest.raises(StalledResponseError, match="stalled"):
        await stream.text()
    elapsed = time.monotonic() - started
    assert idle * 0.9 <= elapsed < idle + 1, elapsed
    assert app[STATS_KEY].requests == 1


async def test_the_total_timeout_bounds_every_retry_together(
        serve_app: Any, make_registry: Any) -> None:
    app, registry = await aichats(serve_app, make_registry,
                                  retry=RetryPolicy(attempts=50, backoff=0.1, max_backoff=0.1))
    app[FAULTS_KEY].set("unavailable")
    started = time.monotonic()
    with pytest.raises(ProviderError):
        await registry.complete("gpt-4", "hi", timeout=0.5)
    assert time.monotonic() - started < 0.5 + 0.3
    assert 2 <= app[STATS_KEY].requests < 50


async def test_a_stall_ends_when_the_client_goes_even_without_handler_cancellation() -> None:
    app = aichats_app(fault="stall_after_headers")
    app[FAULTS_KEY].stall_seconds = 30
    runner = web.AppRunner(app, handler_cancellation=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        body = {"type": "chat", "messagesHistory": [{"from": "you", "content": "hi"}]}
        headers = {"cookie": "a=b", "origin": "x", "referer": "http://x/chat/"}
        async with aiohttp.ClientSession() as session:
            response = await session.post(f"http://127.0.0.1:{port}/chat/send2/", json=body,
                                          headers=headers)
            assert response.status == 200  # the headers came; the body never does
            assert app[STATS_KEY].in_flight == 1
            response.close()
        for _ in range(50):
            if app[STATS_KEY].in_flight == 0:
                break
            await asyncio.sleep(0.02)
        assert app[STATS_KEY].in_flight == 0
    finally:
        await runner.cleanup()


async def test_huge_line_is_one_line_of_five_mebibytes(serve_app: Any) -> None:
    app = amigochat_app(fault="huge_line")
    url = await serve_app(app)
    async with (aiohttp.ClientSession() as session,
                session.post(f"{url}/v1/chat/completions", json={"stream": True}) as response):
        body = await response.read()
        assert response.content_type == "text/event-stream"
    assert body == b"data: " + b"x" * (5 * 1024 * 1024) + b"\n\n"


async def test_a_non_streamed_huge_reply_hits_the_reply_limit(serve_app: Any,
                                                             make_registry: Any) -> None:
    # AmigoChat's stream=false reply is one JSON body, bounded by max_reply_bytes, not by the
    # line limit: with a reply limit below the 5 MiB line, that limit is what stops it.
    app, registry = await amigochat(serve_app, make_registry,
                                    limits=Limits(max_reply_bytes=1024 * 1024))
    app[FAULTS_KEY].set("huge_line")
    with pytest.raises(ResponseFormatError, match="reply exceeds the limit of 1048576 bytes"):
        await registry.complete("gpt-4o-mini", "hi")
    assert app[STATS_KEY].requests == 1
