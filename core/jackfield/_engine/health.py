"""Provider health: failure counts and the cooldown that skips a provider that keeps failing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs

from jackfield._secrets import mask_known
from jackfield._settings.checks import duration, whole

__all__ = ["CooldownPolicy", "HealthBook", "ProviderHealth"]


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


class HealthBook:
    """Records outcomes per provider and says which providers are cooling down."""

    def __init__(self, policy: CooldownPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or CooldownPolicy()
        self._clock = clock
        self._entries: dict[str, ProviderHealth] = {}
        self._until: dict[str, float] = {}

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

    def record_failure(self, provider: str, error: BaseException) -> None:
        """Note a failed call (after its retries); start a cooldown after too many in a row."""
        entry = self._entry(provider)
        entry.failures += 1
        entry.consecutive_failures += 1
        # The error was masked where the call failed; this catches any other caller's error.
        entry.last_error = mask_known(str(error))
        if entry.consecutive_failures >= self.policy.failures:
            self._until[provider] = self._clock() + self.policy.seconds

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
