"""Timeouts, size limits and the retry policy: the knobs of the transport, with their defaults."""

from __future__ import annotations

import random

import attrs

__all__ = ["Limits", "RetryPolicy", "Timeouts"]


@attrs.frozen
class Timeouts:
    """Seconds to wait: to connect, between two reads of a reply, and for the whole call."""

    connect: float = 10.0
    read_idle: float = 60.0
    total: float | None = 600.0


@attrs.frozen
class Limits:
    """Size caps (an oversized reply is a ResponseFormatError) and the connection pool size."""

    max_event_bytes: int = 1024 * 1024  # one line / SSE event
    max_reply_bytes: int = 32 * 1024 * 1024  # a whole reply body, image downloads included
    max_connections: int = 100  # open connections in the pool; more calls wait for one


@attrs.frozen
class RetryPolicy:
    """How often and how long to wait before trying a provider again."""

    attempts: int = 3  # tries per provider, the first included
    backoff: float = 0.5  # first delay; doubles each retry
    max_backoff: float = 8.0
    max_retry_after: float = 30.0  # a longer Retry-After is not waited for: the error surfaces
    jitter: bool = True

    def delay(self, retry_number: int, retry_after: float | None = None) -> float | None:
        """Return seconds to wait before retry number retry_number (1-based), or None to stop."""
        if retry_number >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        ceiling = min(self.max_backoff, self.backoff * 2 ** (retry_number - 1))
        # Full jitter spreads clients that failed together (AWS architecture blog's advice).
        return random.uniform(ceiling / 2, ceiling) if self.jitter else ceiling
