"""Provider cooldowns and failure counts shared between instances, the HealthBook kept local.

The HealthBook (jackfield._engine.health) is asked synchronously on every call, so it stays
in the process; this module keeps it in step with Redis in the background:

- Out: the book's listener queues each HealthEvent (no I/O on the call's path); a pump task
  writes it. A failure adds one to `PREFIX:health:failures:PROVIDER` (expiring after
  FAILURE_MEMORY seconds without another); when that shared count reaches the policy's
  `failures`, or this process's own book began a cooldown, `PREFIX:health:cooldown:PROVIDER`
  is set (the instance's label as its value) to expire with the cooldown, and the book
  cools down at once even if its own count was lower. A success deletes both keys: the
  provider works again, for everyone.
- In: every `poll_interval` seconds (0.5 by default) one pipelined round trip reads the
  remaining time (PTTL) of each provider's cooldown key: the book adopts a cooldown it did
  not have, and drops one whose key is gone (another instance's call succeeded). Redis
  counts the remaining time, so the instances' clocks need not agree.

So a provider that fails through one instance is cooling down in every other within one
poll interval plus two Redis round trips (0.5 s + 2 x the 0.25 s timeout at worst; usually
a few ms over the poll). While Redis is down each process runs on its own book as without
Redis, events are not queued for later; when Redis is back, the cooldowns still under way
here are written again. Values are counts and instance labels; no error text is shared.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jackfield._engine.health import HealthBook, HealthEvent
from jackfield._shared.store import SharedStore

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_POLL_INTERVAL", "FAILURE_MEMORY", "HealthSync"]

DEFAULT_POLL_INTERVAL = 0.5
FAILURE_MEMORY = 600  # seconds a shared failure count lasts without another failure
_QUEUE_LIMIT = 10_000  # events waiting to be written: past it the oldest go (Redis is slow)


class HealthSync:
    """Shares one HealthBook's cooldowns through a SharedStore."""

    def __init__(self, store: SharedStore, book: HealthBook,
                 providers: Callable[[], list[str]], *,
                 poll_interval: float = DEFAULT_POLL_INTERVAL) -> None:
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        self.store, self.book, self.poll_interval = store, book, poll_interval
        self._providers = providers
        self._events: collections.deque[HealthEvent] = collections.deque(maxlen=_QUEUE_LIMIT)
        self._wake = asyncio.Event()
        self._shared: set[str] = set()  # providers whose cooldown this book knows is in Redis
        self._tasks: list[asyncio.Task[None]] = []
        self.polls = 0  # finished polls, for tests that wait for the next one

    def _note(self, event: HealthEvent) -> None:
        """The book's listener: queue the event for the pump (runs inline in a call)."""
        self._events.append(event)
        self._wake.set()

    def start(self) -> None:
        """Listen to the book and start the pump and the poll (in the running loop)."""
        self.book.listeners.append(self._note)
        self.store.on_resume.append(self._republish)
        self._tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._poll())]

    async def aclose(self) -> None:
        """Stop listening and stop the tasks."""
        with contextlib.suppress(ValueError):
            self.book.listeners.remove(self._note)
        with contextlib.suppress(ValueError):
            self.store.on_resume.remove(self._republish)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _keys(self, provider: str) -> tuple[str, str]:
        return (self.store.key("health", "failures", provider),
                self.store.key("health", "cooldown", provider))

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._events:
                await self._write(self._events.popleft())

    async def _write(self, event: HealthEvent) -> None:
        failures, cooldown = self._keys(event.provider)
        policy = self.book.policy
        if event.kind == "success":
            async def forget(redis: Redis) -> Any:
                return await redis.delete(failures, cooldown)

            if await self.store.call(forget) is not None:
                self._shared.discard(event.provider)
            return

        async def count(redis: Redis) -> Any:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.incr(failures)
                pipe.expire(failures, FAILURE_MEMORY)
                return await pipe.execute()

        counted = await self.store.call(count)
        if counted is None or not policy.seconds:
            return
        shared_count = int(counted[0])
        if event.kind != "cooldown" and shared_count < policy.failures:
            return
        if event.kind != "cooldown":  # the others' failures and this one make enough
            self.book.adopt_cooldown(event.provider, policy.seconds)
        await self._publish(event.provider, policy.seconds)

    async def _publish(self, provider: str, seconds: float) -> None:
        _, cooldown = self._keys(provider)

        async def cool(redis: Redis) -> Any:
            return await redis.set(cooldown, self.store.instance, px=max(1, int(seconds * 1000)))

        if await self.store.call(cool) is not None:
            self._shared.add(provider)

    async def _poll(self) -> None:
        while True:
            await self.read_cooldowns()
            self.polls += 1
            await asyncio.sleep(self.poll_interval)

    async def read_cooldowns(self) -> None:
        """Adopt the cooldowns Redis has and this book has not; drop those it no longer has."""
        providers = self._providers()
        if not providers:
            return

        async def remaining(redis: Redis) -> Any:
            async with redis.pipeline(transaction=False) as pipe:
                for provider in providers:
                    pipe.pttl(self._keys(provider)[1])
                return await pipe.execute()

        answers = await self.store.call(remaining)
        if answers is None:
            return  # Redis is down: the book goes on alone
        for provider, milliseconds in zip(providers, answers, strict=True):
            if int(milliseconds) > 0:
                self.book.adopt_cooldown(provider, int(milliseconds) / 1000)
                self._shared.add(provider)
            elif provider in self._shared:  # gone: expired, or a call somewhere succeeded
                self._shared.discard(provider)
                self.book.drop_cooldown(provider)

    def _republish(self) -> None:
        """Redis is back: write the cooldowns this book began while it was away."""
        cooling = [(name, entry.cooldown_remaining) for name, entry in
                   self.book.snapshot(self._providers()).items() if entry.cooling_down]
        for name, seconds in cooling:
            if name not in self._shared:
                self._tasks.append(asyncio.create_task(self._publish(name, seconds)))
