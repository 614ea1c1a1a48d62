"""One Registry across event loops, and failures the core causes labelled as the core's."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from jackfield import (
    ConfigurationError,
    PartialResponseError,
    PluginError,
    ProviderUnavailableError,
    Registry,
    ResponseFormatError,
    RetryPolicy,
)
from jackfield.testing import serve_app
from mockprovider import MockProvider, MockServer

ONCE = RetryPolicy(attempts=1)


@pytest.fixture
def mock_url_in_thread() -> Iterator[str]:
    """The mock service on its own event loop in a thread, so tests may run asyncio.run."""
    ready: list[str] = []
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        async with serve_app(MockServer().app) as url:
            ready.append(url)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield ready[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def _registry(url: str) -> Registry:
    return Registry([MockProvider()], config={"mock": {"base_url": url}}, environ={},
                    retry=ONCE)


async def _chat(registry: Registry, text: str) -> str:
    reply = await registry.complete("echo", text)
    stream = await registry.complete("echo", text, stream=True)
    async with stream:
        streamed = await stream.text()
    assert streamed == reply.text
    return reply.text


def test_one_registry_serves_asyncio_run_after_asyncio_run(mock_url_in_thread: str) -> None:
    registry = _registry(mock_url_in_thread)
    # No aclose() in between: the first loop's sessions close as that loop ends.
    assert asyncio.run(_chat(registry, "one")) == "You said: one"
    assert asyncio.run(_chat(registry, "two")) == "You said: two"
    assert asyncio.run(_chat(registry, "three")) == "You said: three"
    asyncio.run(registry.aclose())


def test_one_registry_serves_threads_with_a_loop_each(mock_url_in_thread: str) -> None:
    registry = _registry(mock_url_in_thread)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        async def calls() -> None:
            for turn in range(5):
                results.append(await _chat(registry, f"{number}.{turn}"))

        try:
            asyncio.run(calls())
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == sorted(f"You said: {n}.{t}" for n in range(3) for t in range(5))
    asyncio.run(registry.aclose())


async def test_aclose_under_an_open_stream_is_not_called_a_plugin_bug(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    stream = await mock_registry.complete("echo", "hello there friend", stream=True)
    mock_server.gate.set()
    assert (await stream.__anext__()).text == "You"
    await mock_registry.aclose()
    mock_server.gate.set()
    with pytest.raises(PartialResponseError) as caught:
        async for _ in stream:
            mock_server.gate.set()
    await stream.aclose()
    assert isinstance(caught.value.cause, ProviderUnavailableError)
    assert "the registry was closed (aclose()) while this call was running" in str(caught.value)
    assert "bug in the plugin" not in str(caught.value)


async def test_an_invalid_request_url_names_the_base_url_setting(make_registry: Any) -> None:
    registry = make_registry([MockProvider()], base_urls={"mock": "http://127.0.0.1:99999"},
                             retry=ONCE)
    with pytest.raises(ConfigurationError) as caught:
        await registry.complete("echo", "hi")
    assert "'http://127.0.0.1:99999/chat' is not a valid http(s) URL" in str(caught.value)
    assert "base URL setting" in str(caught.value)


async def test_an_invalid_url_in_a_reply_is_the_reply_s_fault(serve_app: Any,
                                                             make_registry: Any) -> None:
    app = web.Application()

    async def image(request: web.Request) -> web.Response:
        return web.json_response({"url": "http://127.0.0.1:99999/img.png"})

    app.router.add_post("/image", image)
    registry = make_registry([MockProvider()], base_urls={"mock": await serve_app(app)},
                             retry=ONCE)
    with pytest.raises(ResponseFormatError) as caught:
        await registry.complete("painter", "a cat")
    # Refused by the fetch policy first, or by aiohttp (relabelled by dispatch): either way
    # the reply's fault, not the plugin's.
    assert not isinstance(caught.value, PluginError)
    assert "127.0.0.1" in str(caught.value) and "bug in the plugin" not in str(caught.value)


async def test_an_invalid_request_url_is_shown_without_credentials(make_registry: Any) -> None:
    registry = make_registry([MockProvider()], retry=ONCE,
                             base_urls={"mock": "http://user:hunter2@127.0.0.1:99999"})
    with pytest.raises(ConfigurationError) as caught:
        await registry.complete("echo", "hi")
    assert "'http://127.0.0.1:99999/chat'" in str(caught.value)
    assert "hunter2" not in str(caught.value)
