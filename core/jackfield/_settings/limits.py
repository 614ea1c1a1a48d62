"""Timeouts, size limits and the retry policy: the knobs of the transport, with their defaults."""

from __future__ import annotations

import random
from typing import Any

import attrs

from jackfield._settings.checks import duration, flag, optional_duration, whole

__all__ = ["Limits", "RetryPolicy", "Timeouts"]


@attrs.frozen
class Timeouts:
    """Seconds to wait: to connect, between two reads of a reply, and for the whole call."""

    connect: float = attrs.field(default=10.0, validator=duration())
    read_idle: float = attrs.field(default=60.0, validator=duration())
    total: float | None = attrs.field(default=600.0, validator=optional_duration)


def _optional_whole(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:  # None stands for another field's value
        whole(instance, attribute, value)


@attrs.frozen
class Limits:
    """Size caps (an oversized reply is a ResponseFormatError) and the connection pool sizes."""

    # One line / SSE event.
    max_event_bytes: int = attrs.field(default=1024 * 1024, validator=whole)
    # A whole reply body, image downloads included.
    max_reply_bytes: int = attrs.field(default=32 * 1024 * 1024, validator=whole)
    # Open connections in each provider's pool (unless max_connections_per_provider is set).
    max_connections: int = attrs.field(default=100, validator=whole)
    # Images one reply may download; a reply naming more is a ResponseFormatError.
    max_images: int = attrs.field(default=32, validator=whole)
    # All follow-up downloads of one call together (each is also under max_reply_bytes).
    max_call_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=whole)
    # Each provider has a pool of its own, so that calls one provider keeps busy (slow
    # streams, clients that do not read) cannot starve another. A call that finds its
    # provider's pool full waits up to the connect timeout, then fails with
    # ProviderTimeoutError. None: max_connections.
    max_connections_per_provider: int | None = attrs.field(default=None, validator=_optional_whole)


@attrs.frozen
class RetryPolicy:
    """How often and how long to wait before trying a provider again."""

    # Tries per provider, the first included: 0 would never call anyone.
    attempts: int = attrs.field(default=3, validator=whole)
    backoff: float = attrs.field(default=0.5, validator=duration(zero=True))  # doubles each retry
    max_backoff: float = attrs.field(default=8.0, validator=duration(zero=True))
    # A longer Retry-After is not waited for: the error surfaces.
    max_retry_after: float = attrs.field(default=30.0, validator=duration(zero=True))
    jitter: bool = attrs.field(default=True, validator=flag)

    def delay(self, retry_number: int, retry_after: float | None = None) -> float | None:
        """Return seconds to wait before retry number retry_number (1-based), or None to stop."""
        if retry_number >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        ceiling = min(self.max_backoff, self.backoff * 2 ** (retry_number - 1))
        # Full jitter spreads clients that failed together (AWS architecture blog's advice).
        return random.uniform(ceiling / 2, ceiling) if self.jitter else ceiling
