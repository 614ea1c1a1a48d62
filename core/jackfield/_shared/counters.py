"""Per-key request, token and concurrency counters: in Redis when there is one, else local.

- Requests and tokens per minute are counted in a window that opens with the first request
  and lasts WINDOW seconds (`PREFIX:limit:NAME:rpm` / `:tpm`, INCR then PEXPIRE NX, in one
  transaction). Redis counts the time left, so Retry-After is the window's PTTL and the
  instances' clocks need not agree. A window, not a sliding log: up to twice the limit can
  pass around a window's end; the limit is a guard against runaway clients, not billing.
- Calls in flight are leases in a sorted set (`PREFIX:limit:NAME:concurrent`) scored by when
  they expire, taken by one Lua script (drop the expired, count, add if under the limit) so
  that two instances cannot both take the last slot. A process renews its leases every
  LEASE / 3 seconds; one that dies without releasing them frees its slots within LEASE.
- Redis down: every count goes to this process's own windows and leases (limits then hold
  per process), and back to Redis once it answers. A lease taken in Redis is released
  there; if that fails it expires on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from jackfield._shared.store import SharedStore

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LEASE", "WINDOW", "Counters", "Lease"]

WINDOW = 60.0  # seconds: the "per minute" of rpm and tpm
LEASE = 30.0  # seconds a concurrency slot outlives a process that stopped renewing it
# KEYS[1] the lease set; ARGV: lease ttl (ms), limit, member. Redis's own clock scores them.
_ACQUIRE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[1]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""
_RENEW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', ms + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""


@attrs.define
class _Window:
    ends: float
    count: int = 0


@attrs.frozen
class Lease:
    """One call's concurrency slot: where it was taken (Redis or this process)."""

    name: str
    member: str
    shared: bool


class Counters:
    """Counts what each named key uses; `store` None: this process only."""

    def __init__(self, store: SharedStore | None = None) -> None:
        self.store = store
        self._windows: dict[tuple[str, str], _Window] = {}
        self._local_leases: dict[str, set[str]] = {}
        self._shared_leases: dict[str, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None

    # -- requests and tokens per minute ----------------------------------------------------

    def _local(self, name: str, what: str, add: int) -> tuple[int, float]:
        now = time.monotonic()
        window = self._windows.get((name, what))
        if window is None or window.ends <= now:
            window = self._windows[(name, what)] = _Window(now + WINDOW)
        window.count += add
        return window.count, window.ends - now

    async def _shared(self, name: str, what: str, add: int) -> tuple[int, float] | None:
        if self.store is None:
            return None
        key = self.store.key("limit", name, what)

        async def count(redis: Redis) -> Any:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, add)
                pipe.pexpire(key, int(WINDOW * 1000), nx=True)
                pipe.pttl(key)
                return await pipe.execute()

        answer = await self.store.call(count)
        if answer is None:
            return None
        return int(answer[0]), max(0, int(answer[2])) / 1000

    async def add(self, name: str, what: str, amount: int) -> tuple[int, float]:
        """Add amount to name's `what` ("rpm" or "tpm") window; return its count and the
        seconds until it closes. amount 0 only reads it."""
        shared = await self._shared(name, what, amount)
        return shared if shared is not None else self._local(name, what, amount)

    # -- calls in flight -------------------------------------------------------------------

    async def acquire(self, name: str, limit: int) -> Lease | None:
        """Take one of name's `limit` slots; None if all are taken."""
        member = uuid.uuid4().hex
        if self.store is not None:
            key = self.store.key("limit", name, "concurrent")

            async def take(redis: Redis) -> Any:
                return await redis.eval(_ACQUIRE, 1, key, int(LEASE * 1000), limit, member)

            taken = await self.store.call(take)
            if taken is not None:
                if not int(taken):
                    return None
                self._shared_leases.setdefault(name, set()).add(member)
                self._start_renewing()
                return Lease(name, member, shared=True)
        local = self._local_leases.setdefault(name, set())
        if len(local) >= limit:
            return None
        local.add(member)
        return Lease(name, member, shared=False)

    async def release(self, lease: Lease) -> None:
        """Give the slot back (a shared one that cannot be removed expires by itself)."""
        if not lease.shared:
            self._local_leases.get(lease.name, set()).discard(lease.member)
            return
        self._shared_leases.get(lease.name, set()).discard(lease.member)
        assert self.store is not None  # a shared lease came from it
        key = self.store.key("limit", lease.name, "concurrent")

        async def give_back(redis: Redis) -> Any:
            return await redis.zrem(key, lease.member)

        await self.store.call(give_back)

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew())

    async def _renew(self) -> None:
        store = self.store
        assert store is not None
        while any(self._shared_leases.values()):
            await asyncio.sleep(LEASE / 3)
            for name, members in list(self._shared_leases.items()):
                if not members:
                    continue
                key, held = store.key("limit", name, "concurrent"), list(members)

                async def renew(redis: Redis, key: str = key, held: list[str] = held) -> Any:
                    return await redis.eval(_RENEW, 1, key, int(LEASE * 1000), *held)

                await store.call(renew)

    async def aclose(self) -> None:
        """Stop renewing leases."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None


def retry_after(seconds: float) -> str:
    """Return a Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
