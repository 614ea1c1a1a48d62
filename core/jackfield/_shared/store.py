"""The Redis connection of `jackfield serve --redis`: every call bounded, an outage survived.

Each call to Redis goes through SharedStore.call(), which gives it at most `timeout` seconds
(0.25 by default). A call that fails or times out marks the store down: the warning is logged
once for the whole outage, `/health` shows it, and until a background probe (a PING every
`probe_interval` seconds) gets an answer again, call() returns None at once without touching
the network, so the requests being served pay nothing for the outage and run on each
process's local state. When the probe succeeds the store is up again, one line says so, and
the syncers resume sharing. Nothing that holds a secret goes into Redis: keys are made of
the prefix, provider names and server-key names, values are counts and instance labels, and
the URL (which may carry a password) is shown only with its password redacted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from jackfield._types.requests import redact_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_PREFIX", "DEFAULT_TIMEOUT", "REDIS_URL_ENV", "SharedStore"]

log = logging.getLogger("jackfield._server")  # the server's, masked as it is
REDIS_URL_ENV = "JACKFIELD_REDIS_URL"
DEFAULT_PREFIX = "jackfield"
DEFAULT_TIMEOUT = 0.25  # seconds one Redis call may take before the request goes on without it
_T = TypeVar("_T")


def _instance_label() -> str:
    """Who wrote a value: host and process id (for a person reading Redis; never a secret)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SharedStore:
    """One process's client of the shared Redis, with its outage state."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX,
                 timeout: float = DEFAULT_TIMEOUT, probe_interval: float = 1.0) -> None:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"the Redis URL must start with redis://, rediss:// or unix://, "
                             f"got {redact_url(url)!r}")
        if not timeout > 0 or not probe_interval > 0:
            raise ValueError("the Redis timeout and probe interval must be positive")
        self.url = url
        self.shown_url = redact_url(url)
        self.prefix = prefix
        self.timeout = timeout
        self.probe_interval = probe_interval
        self.instance = _instance_label()
        self.up = True  # optimistic: the first call finds out
        self.down_since: float | None = None
        self.last_failure: str | None = None  # the error's class name: no text, no URL
        self.outages = 0
        self._client: Redis | None = None
        self._probe: asyncio.Task[None] | None = None
        self.on_resume: list[Callable[[], None]] = []  # e.g. a syncer re-publishing its state
        from redis.exceptions import RedisError  # only a server with a Redis URL imports it

        # What an unreachable, dying or slow Redis raises (redis-py's own errors included).
        self._failures: tuple[type[BaseException], ...] = (
            TimeoutError, OSError, asyncio.IncompleteReadError, RedisError)

    def key(self, *parts: str) -> str:
        """Return the Redis key prefix:part:part (names only, never a secret)."""
        return ":".join((self.prefix, *parts))

    def client(self) -> Redis:
        """Return the client (made on first use; it connects on its first command)."""
        if self._client is None:
            from redis.asyncio import Redis  # only a server with a Redis URL imports it

            # No socket timeout: call() bounds every command itself, and redis-py sends under
            # asyncio.wait_for when one is set (its default is 5 s), which on 3.11 loses a
            # cancel that lands as the send completes (the pump that never ended, in CI).
            # The connect timeout is an asyncio.timeout, which keeps it. No retries of its
            # own: the next request, or the probe, is the retry.
            self._client = Redis.from_url(
                self.url, socket_timeout=None, socket_connect_timeout=self.timeout,
                retry_on_timeout=False, retry=None, health_check_interval=0,
                decode_responses=True)
        return self._client

    async def call(self, operation: Callable[[Redis], Awaitable[_T]]) -> _T | None:
        """Run operation against Redis within the timeout; None if the store is down or the
        call failed (which marks it down: the caller goes on with local state)."""
        if not self.up:
            return None
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for returns the answer when the
            # caller is cancelled as it lands, and the cancel is lost: a syncer's task then
            # never ends, and its aclose() waits for it for ever.
            async with asyncio.timeout(self.timeout):
                return await operation(self.client())
        except self._failures as error:
            self._went_down(error)
        return None

    def _went_down(self, error: BaseException) -> None:
        if self.up:
            self.up = False
            self.down_since = time.time()
            self.outages += 1
            self.last_failure = type(error).__name__
            log.warning("Redis at %s is not answering (%s): serving on this process's own "
                        "state until it is back", self.shown_url, self.last_failure)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_up())

    async def _probe_until_up(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await self._reset_client()
                async with asyncio.timeout(self.timeout):
                    answered = await self.client().ping()
                if answered:
                    break
            except self._failures:
                continue  # still down
        down_for = time.time() - (self.down_since or time.time())
        self.up, self.down_since = True, None
        log.warning("Redis at %s answers again after %.1f s: sharing resumes",
                    self.shown_url, down_for)
        for resume in self.on_resume:
            resume()

    async def _reset_client(self) -> None:
        # A pool that lived through an outage may hold half-dead connections: start afresh.
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def status(self) -> dict[str, Any]:
        """Return what /health shows of the store (no URL password, no error text)."""
        report: dict[str, Any] = {"url": self.shown_url, "status": "ok" if self.up else
                                  "unavailable", "outages": self.outages}
        if not self.up:
            report["down_seconds"] = round(time.time() - (self.down_since or time.time()), 1)
            report["error"] = self.last_failure
        return report

    async def aclose(self) -> None:
        """Stop the probe and close the connections."""
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
            self._probe = None
        await self._reset_client()
