"""The fault matrix of docs/faults.md: every plugin x streamed/non-streamed x fault -> outcome.

Each case runs the plugin's own emulator on loopback with one fault mode set, calls it through
a registry with fast retries and a 0.5 s read-idle timeout, and checks the documented outcome:
the error type and what its message says (or the exact reply), how many requests the emulator
saw (retried or not), and that no handler is left running on the emulator afterwards.
If you change an outcome here, change the table in docs/faults.md with it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from aiohttp import web

import jackfield_aichats
import jackfield_amigochat
from jackfield import (
    AuthenticationError,
    Completion,
    PartialResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    Timeouts,
)
from jackfield.testing import FAULT_MODES, FAULTS_KEY, STATS_KEY
from jackfield_aichats.emulator import create_app as aichats_app
from jackfield_amigochat.emulator import create_app as amigochat_app

READ_IDLE = 0.5
SLOW_START = 0.25  # well within READ_IDLE
ATTEMPTS = 3
LINE_LIMIT = "exceeds the limit of 1048576 bytes"  # Limits().max_event_bytes


@attrs.frozen
class Provider:
    """One plugin under test: how to run its emulator and what it answers to "hi"."""

    name: str
    module: object
    create_app: Callable[[], web.Application]
    chat_path: str
    image_path: str
    chat_model: str
    image_model: str
    reply: str
    config: dict[str, str]
    credentials: str  # the setting an AuthenticationError must name


PROVIDERS = {
    "aichats": Provider(
        "aichats", jackfield_aichats, aichats_app, "/chat/send2/", "/chat/send2/", "gpt-4",
        "dalle", "Hello from the AiChats emulator. You said: hi",
        {"cookie": "session=fault-matrix"}, "JACKFIELD_AICHATS_COOKIE",
    ),
    "amigochat": Provider(
        "amigochat", jackfield_amigochat, amigochat_app, "/v1/chat/completions",
        "/v1/images/generations", "gpt-4o-mini", "flux-realism",
        "Hello from the AmigoChat emulator (gpt-4o-mini). You said: hi", {},
        "JACKFIELD_AMIGOCHAT_TOKEN",
    ),
}


@attrs.frozen
class Outcome:
    """What a call meets: an error (None: the normal reply) saying `says`, after `requests`."""

    error: type[Exception] | None = None
    says: tuple[str, ...] = ()
    requests: int = 1
    delivered: str = ""  # streamed text the caller got before the error


def expected(fault: str | None, provider: Provider, stream: bool) -> Outcome:
    """Return the documented outcome (docs/faults.md) of one cell of the matrix."""
    amigo = provider.name == "amigochat"
    if fault in (None, "slow_start"):
        return Outcome()
    if fault == "error_then_ok":
        return Outcome(requests=2)
    if fault == "rate_limit":  # Retry-After 120 s is above the 30 s cap: not waited for
        return Outcome(RateLimitError, ("rate limited", "HTTP 429", "Retry after 120 s"))
    if fault == "unavailable":
        return Outcome(ProviderUnavailableError, ("HTTP 503", "Service Unavailable"), ATTEMPTS)
    if fault == "forbidden_json":
        return Outcome(AuthenticationError,
                       ("HTTP 403", "refused our credentials", "Forbidden", provider.credentials))
    if fault == "challenge_html":
        return Outcome(AuthenticationError,
                       ("HTTP 403", "an HTML page titled 'Just a moment...'", "bot-challenge",
                        provider.credentials))
    if fault == "html_200":
        return Outcome(ResponseFormatError,
                       ("an HTML page titled 'Welcome back! Please sign in' instead of a reply",
                        "a bot challenge or a login page"))
    if fault == "empty_body":
        if not amigo:
            return Outcome(ResponseFormatError, ("carries no `data:` line", "an empty body"))
        return Outcome(ResponseFormatError,
                       ("ended without any chat chunk or [DONE]",) if stream
                       else ("expected a JSON reply",))
    if fault == "stall_after_headers":  # run with attempts=1: timeouts are retried
        return Outcome(ProviderTimeoutError, ("the reply stalled", f"no data for {READ_IDLE:g} s"))
    if fault == "huge_line":
        if amigo and not stream:  # one JSON body: bounded by max_reply_bytes (32 MiB), not lines
            return Outcome(ResponseFormatError, ("expected a JSON reply",))
        return Outcome(ResponseFormatError, (LINE_LIMIT, "Limits(max_event_bytes=...)"))
    if fault == "drop_mid_stream":
        if stream:
            return Outcome(PartialResponseError,
                           ("broke off after 10 characters", "connection dropped mid-reply",
                            "it was not retried"), delivered="Hello from")
        return Outcome(ProviderUnavailableError, ("connection dropped mid-reply",), ATTEMPTS)
    if fault == "invalid_lines":
        if not amigo:
            return Outcome(ResponseFormatError, ("a line of the reply is not UTF-8",))
        return Outcome(ResponseFormatError,
                       ("an SSE event is not JSON",) if stream else ("expected a JSON reply",))
    if fault == "no_images":
        return Outcome(ResponseFormatError,
                       ("an image in the reply has no 'url'",) if amigo
                       else ("the image reply has no 'data' list of images",))
    raise AssertionError(f"no documented outcome for {fault!r}")


async def no_handler_left(app: web.Application) -> None:
    """Wait (briefly) until every emulator handler has ended; fail if one is still running."""
    stats = app[STATS_KEY]
    for _ in range(100):
        if stats.in_flight == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{stats.in_flight} emulator handler(s) still running")


async def call(registry: Any, model: str, stream: bool, got: list[str]) -> Completion:
    """Run one call; streamed text pieces are appended to got as they arrive."""
    if not stream:
        completion: Completion = await registry.complete(model, "hi")
        return completion
    chunks = await registry.complete(model, "hi", stream=True)
    async with chunks:
        async for chunk in chunks:
            if chunk.text:
                got.append(chunk.text)
    return chunks.completion


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("plugin", sorted(PROVIDERS))
@pytest.mark.parametrize("fault", [None, *FAULT_MODES])
async def test_fault_matrix(fault: str | None, plugin: str, stream: bool, serve_app: Any,
                            make_registry: Any) -> None:
    provider = PROVIDERS[plugin]
    app = provider.create_app()
    faults = app[FAULTS_KEY]
    faults.slow_start_delay = SLOW_START
    faults.set(fault)
    url = await serve_app(app)
    # Timeouts are retried: the stall is measured on one attempt (see test_faults_controls.py).
    attempts = 1 if fault == "stall_after_headers" else ATTEMPTS
    registry = make_registry(
        [provider.module], base_urls={plugin: url}, config={plugin: provider.config},
        retry=RetryPolicy(attempts=attempts, backoff=0.01, max_backoff=0.02),
        timeouts=Timeouts(read_idle=READ_IDLE),
    )
    image = fault == "no_images"
    model = provider.image_model if image else provider.chat_model
    path = provider.image_path if image else provider.chat_path
    outcome = expected(fault, provider, stream)
    got: list[str] = []

    started = time.monotonic()
    if outcome.error is None:
        completion = await call(registry, model, stream, got)
        assert completion.text == provider.reply
        assert completion.provider == plugin
        if stream:
            assert "".join(got) == provider.reply
    else:
        with pytest.raises(outcome.error) as raised:
            await call(registry, model, stream, got)
        message = str(raised.value)
        for part in outcome.says:
            assert part in message, f"{part!r} not in {message!r}"
        assert "".join(got) == outcome.delivered
        assert provider.reply not in message  # error text is never the answer, nor vice versa
    elapsed = time.monotonic() - started

    stats = app[STATS_KEY]
    assert stats.by_path.get(path, 0) == outcome.requests, stats.by_path
    assert stats.requests == outcome.requests, stats.by_path  # nothing else was fetched
    if fault is not None:
        assert faults.applied[fault] >= 1
    if fault == "rate_limit":
        assert isinstance(raised.value, RateLimitError)
        assert raised.value.retry_after == 120
    if fault == "drop_mid_stream" and stream:
        assert isinstance(raised.value, PartialResponseError)
        assert raised.value.delivered_chars == len(outcome.delivered)
        assert isinstance(raised.value.cause, ProviderUnavailableError)
    if fault == "stall_after_headers":
        assert READ_IDLE * 0.9 <= elapsed < READ_IDLE + 1, elapsed
    if fault == "slow_start":
        assert elapsed >= SLOW_START
    await no_handler_left(app)
