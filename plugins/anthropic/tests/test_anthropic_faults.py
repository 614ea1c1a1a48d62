"""The fault modes of docs/faults.md on this plugin's emulator: every fault x streamed or not,
the typed error (or the normal reply), how many requests it took, no handler left running."""

from __future__ import annotations

import asyncio

import attrs
import pytest
from anthropic_helpers import KEY, SONNET, anthropic_registry, complete, reply_to

from jackfield import (
    AuthenticationError,
    PartialResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    Timeouts,
)
from jackfield.testing import FAULT_MODES, FAULTS_KEY, STATS_KEY, RegistryFactory, ServeApp
from jackfield_anthropic.emulator import create_app

ATTEMPTS = 3
REPLY = reply_to("hi")


@attrs.frozen
class Outcome:
    error: type[Exception] | None = None
    says: tuple[str, ...] = ()
    requests: int = 1


def expected(fault: str | None, stream: bool) -> Outcome:
    """What each fault comes to through this plugin (docs/faults.md's table)."""
    if fault in (None, "slow_start", "no_images"):  # no_images: a chat call is not faulted
        return Outcome()
    table: dict[str, Outcome] = {
        "error_then_ok": Outcome(requests=2),
        "rate_limit": Outcome(RateLimitError, ("HTTP 429", "Retry after 120 s")),
        "unavailable": Outcome(ProviderUnavailableError, ("HTTP 503", "Service Unavailable"),
                               ATTEMPTS),
        "forbidden_json": Outcome(AuthenticationError, ("HTTP 403", "Forbidden",
                                                        "JACKFIELD_ANTHROPIC_API_KEY")),
        "challenge_html": Outcome(AuthenticationError, ("HTTP 403", "Just a moment...")),
        "html_200": Outcome(ResponseFormatError, ("Welcome back! Please sign in",)),
        "empty_body": Outcome(ResponseFormatError, (
            "without any event",) if stream else ("JSON",)),
        "stall_after_headers": Outcome(ProviderTimeoutError, ("the reply stalled",)),
        "huge_line": Outcome(ResponseFormatError, ("exceeds the limit of",) if stream
                             else ("expected a JSON reply",)),
        # Streamed: two text deltas ("Hello", " from") reached the caller before the drop.
        "drop_mid_stream": Outcome(PartialResponseError, ("broke off after 10 characters",))
        if stream else Outcome(ProviderUnavailableError, ("dropped",), ATTEMPTS),
        "invalid_lines": Outcome(ResponseFormatError, (
            "an SSE event is not JSON" if stream else "JSON",)),
    }
    assert fault is not None
    return table[fault]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("fault", [None, *FAULT_MODES])
async def test_fault(fault: str | None, stream: bool, serve_app: ServeApp,
                     make_registry: RegistryFactory) -> None:
    app = create_app(api_key=KEY)
    url = await serve_app(app)
    attempts = 1 if fault == "stall_after_headers" else ATTEMPTS  # a stall is not retried
    registry = anthropic_registry(make_registry, url, timeouts=Timeouts(read_idle=0.5),
                                  retry=RetryPolicy(attempts=attempts, backoff=0.01,
                                                    max_backoff=0.02))
    await registry.refresh_models()  # the listing is not faulted; do it before counting
    faults = app[FAULTS_KEY]
    faults.slow_start_delay = 0.1
    faults.set(fault)
    stats = app[STATS_KEY]
    outcome = expected(fault, stream)
    if outcome.error is None:
        reply = await complete(registry, f"anthropic/{SONNET}", "hi", stream=stream)
        assert reply.text == REPLY
    else:
        with pytest.raises(outcome.error) as raised:
            await complete(registry, f"anthropic/{SONNET}", "hi", stream=stream)
        for part in outcome.says:
            assert part in str(raised.value), f"{part!r} not in {raised.value}"
        assert REPLY not in str(raised.value)
    assert stats.by_path["/v1/messages"] == outcome.requests
    for _ in range(100):
        if stats.in_flight == 0:
            break
        await asyncio.sleep(0.02)
    assert stats.in_flight == 0
