"""jackfield_observe(event): what a call tells its observers, in order, and that an observer
that raises or hangs never breaks or slows a call."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from observekit import MeteredProvider, Recorder

import jackfield
from jackfield import (
    AuthenticationError,
    CallCancelled,
    CallFailed,
    CallFinished,
    CallStarted,
    FirstToken,
    ProviderFallback,
    ProviderUnavailableError,
    Registry,
    RetryPolicy,
    TryFailed,
    TryStarted,
    Usage,
)
from jackfield.provider import hookimpl
from mockprovider import MockServer

FAST_RETRY = RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01, jitter=False)


@pytest.fixture
async def observed(mock_server: MockServer, serve_app: Any,
                   make_registry: Any) -> tuple[Registry, Recorder]:
    url = await serve_app(mock_server.app)
    registry = make_registry([MeteredProvider()], base_urls={"mock": url}, retry=FAST_RETRY)
    recorder = Recorder()
    registry.plugin_manager.register(recorder)
    return registry, recorder


async def test_a_good_call_is_started_tried_and_finished_with_usage_and_durations(
        observed: tuple[Registry, Recorder]) -> None:
    registry, recorder = observed
    completion = await registry.complete("mock/echo", "hello there", max_tokens=7,
                                         temperature=0.5)
    await registry.aclose()  # the observers see every event before aclose() returns
    assert recorder.kinds() == ["CallStarted", "TryStarted", "FirstToken", "CallFinished"]
    started, tried, first, finished = recorder.events
    assert isinstance(started, CallStarted) and isinstance(tried, TryStarted)
    assert isinstance(first, FirstToken) and isinstance(finished, CallFinished)
    call = started.call
    assert (call.operation, call.model, call.stream, call.candidates) == (
        "chat", "mock/echo", False, ("mock",))
    # As the model is sent them: the mock's model takes no max_tokens (a warning says so).
    assert (call.max_tokens, call.temperature) == (None, 0.5)
    assert [w.param for w in completion.warnings] == ["max_tokens"]
    assert all(event.call is call for event in recorder.events)
    assert (tried.provider, tried.model_id, tried.attempt) == ("mock", "echo", 1)
    assert tried.server_address == "127.0.0.1" and isinstance(tried.server_port, int)
    assert finished.usage == completion.usage == Usage(2, 1, 3)
    assert (finished.provider, finished.model_id, finished.finish_reason, finished.tries) == (
        "mock", "echo", "stop", 1)
    assert finished.overhead is not None and finished.time_to_first_token is not None
    assert 0 < finished.overhead < finished.time_to_first_token <= finished.duration < 5
    assert first.time_to_first_token == finished.time_to_first_token
    assert started.at <= tried.at <= first.at <= finished.at


async def test_a_retried_try_says_when_the_retry_comes(
        observed: tuple[Registry, Recorder], mock_server: MockServer) -> None:
    registry, recorder = observed
    mock_server.fail.append((503, {}, '{"error": "busy"}'))
    await registry.complete("mock/echo", "hi")
    await registry.aclose()
    assert recorder.kinds() == ["CallStarted", "TryStarted", "TryFailed", "TryStarted",
                                "FirstToken", "CallFinished"]
    failed, retried, finished = recorder.events[2], recorder.events[3], recorder.events[-1]
    assert isinstance(failed, TryFailed) and isinstance(failed.error, ProviderUnavailableError)
    assert (failed.attempt, failed.retry_in, failed.cooldown) == (1, 0.01, None)
    assert failed.duration > 0
    assert (retried.provider, retried.attempt) == ("mock", 2)
    assert finished.tries == 2


async def test_a_fallback_names_both_providers_and_the_cooldown(
        serve_app: Any, make_registry: Any) -> None:
    first, second = MockServer(), MockServer()
    urls = [await serve_app(first.app), await serve_app(second.app)]
    registry = make_registry([MeteredProvider("one"), MeteredProvider("two")],
                             base_urls={"one": urls[0], "two": urls[1]}, retry=FAST_RETRY,
                             cooldown=jackfield.CooldownPolicy(failures=1, seconds=30))
    recorder = Recorder()
    registry.plugin_manager.register(recorder)
    first.fail.append((401, {}, '{"error": "bad key"}'))
    completion = await registry.complete("echo", "hi")
    await registry.aclose()
    assert completion.provider == "two"
    assert recorder.kinds() == ["CallStarted", "TryStarted", "TryFailed", "ProviderFallback",
                                "TryStarted", "FirstToken", "CallFinished"]
    failed, moved = recorder.events[2], recorder.events[3]
    assert failed.provider == "one" and isinstance(failed.error, AuthenticationError)
    assert (failed.retry_in, failed.cooldown) == (None, 30)
    assert isinstance(moved, ProviderFallback)
    assert (moved.from_provider, moved.to_provider, moved.error) == ("one", "two", failed.error)
    assert recorder.events[0].call.candidates == ("one", "two")
    assert recorder.events[-1].provider == "two"


async def test_a_stream_tells_its_first_token_before_the_caller_reads_on(
        observed: tuple[Registry, Recorder]) -> None:
    registry, recorder = observed
    stream = await registry.complete("mock/echo", "one two three four", stream=True)
    assert recorder.events == []  # nothing happens before the stream is read
    chunks = [await stream.__anext__()]
    assert recorder.seen.wait(2)  # told on the observer thread while the stream is open
    deadline = time.monotonic() + 2
    while "FirstToken" not in recorder.kinds() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert recorder.kinds() == ["CallStarted", "TryStarted", "FirstToken"]
    chunks += [chunk async for chunk in stream]
    await registry.aclose()
    finished = recorder.events[-1]
    assert isinstance(finished, CallFinished) and finished.call.stream
    assert finished.usage == Usage(4, len(chunks), 4 + len(chunks))
    assert finished.time_to_first_token == recorder.events[2].time_to_first_token
    assert finished.time_to_first_token is not None
    assert finished.time_to_first_token <= finished.duration


async def test_a_stream_left_early_is_cancelled_not_finished(
        observed: tuple[Registry, Recorder]) -> None:
    registry, recorder = observed
    async with await registry.complete("mock/echo", "one two three", stream=True) as stream:
        await stream.__anext__()
    await registry.aclose()
    assert recorder.kinds()[-1] == "CallCancelled"
    assert isinstance(recorder.events[-1], CallCancelled)
    assert recorder.events[-1].provider == "mock"


async def test_a_failure_is_told_with_its_typed_error(
        observed: tuple[Registry, Recorder], mock_server: MockServer) -> None:
    registry, recorder = observed
    mock_server.fail += [(503, {}, '{"error": "busy"}')] * 2
    with pytest.raises(ProviderUnavailableError) as raised:
        await registry.complete("mock/echo", "hi")
    await registry.aclose()
    assert recorder.kinds() == ["CallStarted", "TryStarted", "TryFailed", "TryStarted",
                                "TryFailed", "CallFailed"]
    failed = recorder.events[-1]
    assert isinstance(failed, CallFailed) and failed.error is raised.value
    assert failed.tries == 2 and failed.provider is None
    assert recorder.events[-2].retry_in is None  # the last try: no retry follows


async def test_input_refused_before_any_io_is_no_call(
        observed: tuple[Registry, Recorder]) -> None:
    registry, recorder = observed
    with pytest.raises(jackfield.InvalidRequestError):
        await registry.complete("mock/echo", "hi", temperature="hot")
    await registry.aclose()
    assert recorder.events == []


async def test_embeddings_are_observed_as_their_operation(
        serve_app: Any, make_registry: Any) -> None:
    from discovering import DiscoveringProvider, started

    service = await started(serve_app, ["emb-1"])
    registry = make_registry([DiscoveringProvider()], base_urls={"disc": service.url})
    recorder = Recorder()
    registry.plugin_manager.register(recorder)
    found = await registry.embed("emb-1", ["a", "b"])
    await registry.aclose()
    assert recorder.kinds() == ["CallStarted", "TryStarted", "CallFinished"]
    assert recorder.events[0].call.operation == "embeddings"
    assert recorder.events[-1].usage == found.usage


class Raising:
    @hookimpl
    def jackfield_observe(self, event: Any) -> None:
        raise RuntimeError(f"observer bug on {type(event).__name__}")


class Hanging:
    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    def jackfield_observe(self, event: Any) -> None:
        self.release.wait(30)  # an observer stuck on its backend


async def test_an_observer_that_raises_is_logged_and_the_call_goes_on(
        observed: tuple[Registry, Recorder], caplog: pytest.LogCaptureFixture) -> None:
    registry, recorder = observed
    registry.plugin_manager.register(Raising(), name="raising-observer")
    caplog.set_level(logging.WARNING, "jackfield")
    completion = await registry.complete("mock/echo", "hi")
    await registry.aclose()
    assert completion.text == "You said: hi"
    assert recorder.kinds()[-1] == "CallFinished"  # the other observer still hears all
    failures = [r for r in caplog.records if "observer raising-observer failed" in r.message]
    assert len(failures) == 4 and "RuntimeError: observer bug on CallStarted" in (
        failures[0].message)
    assert failures[0].exc_info and not failures[1].exc_info  # one traceback, not four


async def test_an_observer_that_hangs_slows_no_call_and_full_queue_drops_are_counted(
        observed: tuple[Registry, Recorder], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from jackfield._engine import observers

    registry, _ = observed
    await registry.complete("mock/echo", "warm up")
    quiet = time.perf_counter()
    await registry.complete("mock/echo", "warm up")
    quiet = time.perf_counter() - quiet
    hanging = Hanging()
    registry.plugin_manager.register(hanging)
    monkeypatch.setattr(observers, "QUEUE_SIZE", 8)
    await registry.aclose()  # a new caller, with the small queue
    caplog.set_level(logging.WARNING, "jackfield")
    try:
        began = time.perf_counter()
        for _ in range(10):
            assert (await registry.complete("mock/echo", "hi")).text == "You said: hi"
        took = (time.perf_counter() - began) / 10
        dropped = registry._get_caller().observers.dropped
    finally:
        hanging.release.set()
    assert took < max(10 * quiet, 0.5)  # the hang did not come into the calls
    # 10 calls made 40 events: the stuck thread holds one and the queue 8; the rest dropped.
    assert dropped == 40 - 1 - 8
    assert "jackfield observers are not keeping up: 1 events dropped" in caplog.text
    await registry.aclose()
