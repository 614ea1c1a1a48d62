"""One event loop's HTTP sessions: one keep-alive pool per provider, closed when the loop ends."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp

from jackfield._http import fetch_policy

__all__ = ["LoopSessions", "busy"]


class LoopSessions:
    """One event loop's sessions, one per provider; closed when the loop ends.

    asyncio.run() finalizes every async generator still suspended before it closes its
    loop (loop.shutdown_asyncgens()); the generator started here waits for that moment to
    close the sessions, so a registry left open at the end of asyncio.run neither leaks
    sockets nor breaks the next loop that uses it.
    """

    def __init__(self, pool_size: int) -> None:
        self._pool_size = pool_size
        # (provider, public_only): a public provider's downloads have their own pool, whose
        # resolver refuses internal addresses; its main requests keep theirs.
        self._by_provider: dict[tuple[str, bool], aiohttp.ClientSession] = {}
        self._guard: AsyncGenerator[None, None] | None = None
        self.closed = False

    def get(self, provider: str, public_only: bool = False) -> aiohttp.ClientSession:
        session = self._by_provider.get((provider, public_only))
        if session is None or session.closed:
            if self._guard is None:
                self._guard = self._close_at_loop_end()
                _start(self._guard)
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, limit_per_host=0, keepalive_timeout=30,
                resolver=fetch_policy.PublicOnlyResolver() if public_only else None)
            # trust_env=False: proxies come from jackfield's own configuration only.
            session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                            auto_decompress=True)
            self._by_provider[(provider, public_only)] = session
        return session

    async def _close_at_loop_end(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            self.closed = True
            sessions, self._by_provider = list(self._by_provider.values()), {}
            for session in sessions:
                await session.close()

    async def aclose(self) -> None:
        """Close every session now (on the loop they belong to)."""
        guard, self._guard = self._guard, None
        if guard is not None:
            await guard.aclose()

    def forget(self) -> None:
        """Drop the sessions of a loop that closed without finalizing them.

        Their sockets went with the loop: nothing can be closed any more.
        """
        self._by_provider.clear()
        self._guard = None
        self.closed = True


def _start(generator: AsyncGenerator[None, None]) -> None:
    """Run generator up to its first yield, now (its first step never suspends)."""
    step = generator.__anext__()
    try:
        step.send(None)
    except StopIteration:
        return
    raise AssertionError("the guard suspended before its first yield")  # pragma: no cover


def busy(session: aiohttp.ClientSession) -> int:
    """Return how many connections of session's pool are in use (0 if unknown)."""
    # aiohttp has no public count; this is read only once a call has already failed.
    acquired = getattr(session.connector, "_acquired", ())
    return len(acquired)
