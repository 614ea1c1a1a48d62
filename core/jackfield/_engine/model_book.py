"""The models each provider has right now: its static list, or what its service said.

A plugin with `jackfield_discover_models` is asked (through the core's transport) when its
list is older than the policy's ttl, and again when a call names a model nobody lists (at
most once per `retry` seconds). Whatever the service does — no answer, an error, garbage —
the last known list stays and the problem becomes a warning, never a failed call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from jackfield._errors import AuthenticationError, JackfieldError
from jackfield._secrets import mask_known
from jackfield._settings.checks import duration
from jackfield._settings.config import ProviderConfig
from jackfield._types.specs import ModelSpec, ProviderSpec

if TYPE_CHECKING:
    import asyncio

__all__ = ["DiscoveryPolicy", "ModelBook", "allowed_models"]

log = logging.getLogger("jackfield")

Fetch = Callable[[str], Awaitable[Sequence[ModelSpec] | None]]


@attrs.frozen
class DiscoveryPolicy:
    """How long a service's model list is kept, and how long asking for it may take."""

    # Seconds a discovered list stays fresh; 0 asks before every call that needs it.
    ttl: float = attrs.field(default=300.0, validator=duration(zero=True))
    # Seconds the service has to answer the listing request (connect included).
    timeout: float = attrs.field(default=10.0, validator=duration())
    # Seconds before asking again after a failure, and the least time between two asks
    # that a call naming an unlisted model triggers.
    retry: float = attrs.field(default=15.0, validator=duration(zero=True))


def allowed_models(spec: ProviderSpec, models: Sequence[ModelSpec], config: ProviderConfig,
                   ) -> tuple[tuple[ModelSpec, ...], list[str]]:
    """Apply the provider's `models` allow-list; return the models and what it could not find.

    A pass-through provider serves an allowed id that its listing lacks (the user named it);
    any other provider cannot, and the id is reported.
    """
    if config.models is None:
        return tuple(models), []
    by_id = {model.id: model for model in models}
    kept, missing = [], []
    for model_id in config.models:
        target = spec.aliases.get(model_id, model_id)
        if target in by_id:
            kept.append(by_id[target])
        elif spec.pass_through:
            kept.append(spec.unlisted(model_id))
        else:
            missing.append(model_id)
    return tuple(dict.fromkeys(kept)), missing


@attrs.define
class _Entry:
    spec: ProviderSpec  # the plugin's spec with the allow-list applied: what routing sees
    asked: float | None = None  # when the service was last asked (success or not)
    failed: bool = False
    warning: str | None = None
    unconfigured: bool = False  # the last ask was refused before any I/O (no key set)


class ModelBook:
    """The current ProviderSpec of every provider, and when to ask the services again."""

    def __init__(self, specs: Mapping[str, ProviderSpec], configs: Mapping[str, ProviderConfig],
                 discovering: Iterable[str], policy: DiscoveryPolicy,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._static = dict(specs)
        self._configs = configs
        self.discovering = frozenset(discovering)
        self._entries = {name: self._entry(name, spec.models) for name, spec in specs.items()}
        self._locks: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Lock] = {}
        self._answers: dict[str, int] = {}  # provider -> how many asks have ended
        self.version = 0  # bumped whenever a provider's models change

    def _entry(self, name: str, models: Sequence[ModelSpec], *, listed: bool = False) -> _Entry:
        """Return the entry for models (listed: what the service said, else the static list,
        which a discovering provider's allow-list may well go beyond until it is asked)."""
        spec = self._static[name]
        kept, missing = allowed_models(spec, models, self._configs[name])
        entry = _Entry(spec.with_models(kept))
        if missing and (listed or name not in self.discovering):
            entry.warning = (f"{name}: the allow-list names {', '.join(missing)}, which "
                             f"{'its service does not list' if listed else 'it does not have'}")
        return entry

    def specs(self) -> dict[str, ProviderSpec]:
        """Return every provider's current spec."""
        return {name: entry.spec for name, entry in self._entries.items()}

    def warnings(self) -> dict[str, str]:
        """Return provider -> why its list may be out of date (the last problem)."""
        return {name: entry.warning for name, entry in self._entries.items() if entry.warning}

    def all_asked(self) -> bool:
        """Return True once every discovering provider's service was asked (answered or not)."""
        return all(self._entries[name].asked is not None for name in self.discovering)

    def expire(self, name: str, model_id: str) -> None:
        """Make name's list stale when its service says it has no model_id, which it listed:
        the next call asks again instead of sending the model the service no longer has."""
        entry = self._entries.get(name)
        if (name not in self.discovering or entry is None or entry.asked is None
                or entry.failed or not any(m.id == model_id for m in entry.spec.models)):
            return  # not listed (a pass-through id): asking would not change what is sent
        entry.asked = min(entry.asked, self._clock() - self.policy.ttl)

    def failed(self, name: str) -> bool:
        """Return True if the last ask of name's service failed."""
        entry = self._entries.get(name)
        return entry is not None and entry.failed

    def unconfigured(self, name: str) -> bool:
        """Return True if name's service could not be asked as configured (no key set)."""
        entry = self._entries.get(name)
        return entry is not None and entry.unconfigured

    def stale(self, names: Iterable[str] | None = None) -> list[str]:
        """Return the discovering providers (of names) whose list is due for a refresh."""
        now = self._clock()
        due = []
        for name in self.discovering if names is None else names:
            entry = self._entries.get(name)
            if entry is None or name not in self.discovering:
                continue
            wait = self.policy.retry if entry.failed else self.policy.ttl
            if entry.asked is None or now - entry.asked >= wait:
                due.append(name)
        return sorted(due)

    def askable(self, names: Iterable[str] | None = None) -> list[str]:
        """Return the discovering providers not asked within the last `retry` seconds."""
        now = self._clock()
        return sorted(name for name in (self.discovering if names is None else names)
                      if name in self.discovering
                      and ((asked := self._entries[name].asked) is None
                           or now - asked >= self.policy.retry))

    async def refresh(self, names: Iterable[str], fetch: Fetch) -> bool:
        """Ask each named provider's service, side by side; return True if a list changed.

        Concurrent callers of one loop share one request per provider: a caller that waited
        for another's answer (one that came after this caller began) does not ask again.
        Which providers are due is the caller's choice (stale(), askable(), all).
        """
        chosen = [name for name in names if name in self.discovering]
        if not chosen:
            return False
        import asyncio  # here: building a registry (`jackfield models`) must not pay for it

        version = self.version
        # The answers counted now, when this caller begins: gather runs each ask later, and
        # an ask refused before any I/O (no key set) ends within the turn of the caller
        # that made it, before any other caller's ask would begin and see it.
        seen = {name: self._answers.get(name, 0) for name in chosen}
        await asyncio.gather(*(self._refresh_one(name, fetch, seen[name]) for name in chosen))
        return self.version != version

    async def _refresh_one(self, name: str, fetch: Fetch, seen: int) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        for old in [key for key in self._locks if key[0].is_closed()]:
            del self._locks[old]
        lock = self._locks.setdefault((loop, name), asyncio.Lock())
        async with lock:
            if self._answers.get(name, 0) != seen:
                # Answered while this caller waited: every caller shares it (a call naming a
                # model nobody lists, refresh_models()), or n of them at once would ask n
                # times in a row. Counted, not timed: a coarse clock cannot tell them apart.
                return
            await self._ask(name, fetch)  # cancelled: the next waiter asks in its place
            self._answers[name] = self._answers.get(name, 0) + 1

    async def _ask(self, name: str, fetch: Fetch) -> None:
        import asyncio

        entry = self._entries[name]
        problem: str | None = None
        unconfigured = False
        found: Sequence[ModelSpec] | None = None
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for may drop a cancel.
            async with asyncio.timeout(self.policy.timeout):
                found = await fetch(name)
        except TimeoutError:
            problem = f"no answer within the discovery timeout of {self.policy.timeout:g} s"
        except AuthenticationError as error:
            problem = str(error)
            # Refused before anything was sent (no key configured, say): a setting to change,
            # not a service to ask again soon — that waits for the ttl, as a listing does.
            unconfigured = error.status is None
        except JackfieldError as error:
            problem = str(error)
        entry.asked = self._clock()
        if problem is not None:
            entry.failed, entry.unconfigured = not unconfigured, unconfigured
            shown = mask_known(problem)
            entry.warning = (f"{name}: its models could not be listed, the last known list "
                             f"is used: {shown}")
            log.warning("%s", entry.warning)
            return
        entry.failed = False
        if found is None:
            entry.warning = None
            return  # no discovery with this configuration: the static list stays
        unique: dict[str, ModelSpec] = {}
        duplicates = sorted({model.id for model in found
                             if unique.setdefault(model.id, model) is not model})
        fresh = self._entry(name, tuple(unique.values()), listed=True)
        fresh.asked, fresh.failed = entry.asked, False
        if duplicates:
            twice = f"the service lists {', '.join(duplicates)} more than once"
            fresh.warning = f"{fresh.warning}; {twice}" if fresh.warning else f"{name}: {twice}"
        # ModelSpec.extra is left out of equality: a list that changed only there must
        # reach the router too, or calls would go on with the old extra.
        if fresh.spec != entry.spec or [dict(m.extra) for m in fresh.spec.models] != [
                dict(m.extra) for m in entry.spec.models]:
            self.version += 1
        self._entries[name] = fresh
