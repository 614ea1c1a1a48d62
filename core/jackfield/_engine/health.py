"""Provider health: failure counts and the cooldown that skips a provider that keeps failing.

The book is local and synchronous (dispatch asks it on every call). What it records is also
told to its listeners, as a HealthEvent, so that others can act on it without slowing the
call: jackfield._shared.health_sync shares cooldowns through Redis (and brings other
instances' cooldowns back with adopt_cooldown()), and metrics can count cooldowns started.
A listener runs inline: it must only note the event (queue it), never do I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

from jackfield._secrets import mask_known
from jackfield._settings.checks import duration, whole

__all__ = ["CooldownPolicy", "HealthBook", "HealthEvent", "HealthListener", "ProviderHealth"]


@attrs.frozen
class CooldownPolicy:
    """After `failures` failed calls in a row, skip the provider for `seconds`."""

    failures: int = attrs.field(default=3, validator=whole)
    seconds: float = attrs.field(default=30.0, validator=duration(zero=True))


@attrs.define
class ProviderHealth:
    """What one provider's recent calls did."""

    provider: str
    successes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    cooldown_remaining: float = 0.0

    @property
    def cooling_down(self) -> bool:
        """Return True while the provider is being skipped."""
        return self.cooldown_remaining > 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return attrs.asdict(self) | {"cooling_down": self.cooling_down}


@attrs.frozen
class HealthEvent:
    """What the book just recorded: a success, a failure, or a failure that began (or
    renewed) a cooldown of `cooldown_seconds`. `consecutive` is the count after it."""

    provider: str
    kind: Literal["success", "failure", "cooldown"]
    consecutive: int
    cooldown_seconds: float = 0.0


HealthListener = Callable[[HealthEvent], None]


class HealthBook:
    """Records outcomes per provider and says which providers are cooling down."""

    def __init__(self, policy: CooldownPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or CooldownPolicy()
        self._clock = clock
        self._entries: dict[str, ProviderHealth] = {}
        self._until: dict[str, float] = {}
        self.listeners: list[HealthListener] = []

    def _tell(self, event: HealthEvent) -> None:
        for listener in self.listeners:
            listener(event)

    def _entry(self, provider: str) -> ProviderHealth:
        if provider not in self._entries:
            self._entries[provider] = ProviderHealth(provider)
        return self._entries[provider]

    def record_success(self, provider: str) -> None:
        """Note a call that delivered its reply; ends any cooldown."""
        entry = self._entry(provider)
        entry.successes += 1
        entry.consecutive_failures = 0
        self._until.pop(provider, None)
        if self.listeners:  # the event (a frozen attrs object, ~1 µs) only for someone to tell
            self._tell(HealthEvent(provider, "success", 0))

    def record_failure(self, provider: str, error: BaseException) -> None:
        """Note a failed call (after its retries); start a cooldown after too many in a row."""
        entry = self._entry(provider)
        entry.failures += 1
        entry.consecutive_failures += 1
        # The error was masked where the call failed; this catches any other caller's error.
        entry.last_error = mask_known(str(error))
        cooling = entry.consecutive_failures >= self.policy.failures
        if cooling:
            self._until[provider] = self._clock() + self.policy.seconds
        self._tell(HealthEvent(provider, "cooldown" if cooling else "failure",
                               entry.consecutive_failures,
                               self.policy.seconds if cooling else 0.0))

    def adopt_cooldown(self, provider: str, seconds: float) -> None:
        """Cool the provider down for `seconds` from now, as another instance found it
        failing (a longer cooldown already under way is kept); listeners are not told."""
        until = self._clock() + seconds
        if until > self._until.get(provider, -float("inf")):
            self._until[provider] = until

    def drop_cooldown(self, provider: str) -> None:
        """End the provider's cooldown, as another instance's call to it succeeded."""
        self._until.pop(provider, None)

    def is_cooling(self, provider: str) -> bool:
        """Return True if the provider should be skipped when another choice exists."""
        until = self._until.get(provider)
        return until is not None and self._clock() < until

    def snapshot(self, providers: list[str]) -> dict[str, ProviderHealth]:
        """Return the health of each named provider (zeros for those never called)."""
        now = self._clock()
        result = {}
        for name in providers:
            entry = attrs.evolve(self._entry(name))
            entry.cooldown_remaining = max(0.0, self._until.get(name, now) - now)
            result[name] = entry
        return result
