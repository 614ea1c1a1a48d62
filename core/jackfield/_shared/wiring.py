"""Putting the shared state into a server app: the store, the counters, the health syncer.

create_app() calls attach(); with no Redis URL the counters are this process's own and the
HealthBook is not synced, as before Redis existed here.
"""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from jackfield._engine.registry import Registry
from jackfield._shared.counters import Counters
from jackfield._shared.health_sync import DEFAULT_POLL_INTERVAL, HealthSync
from jackfield._shared.store import DEFAULT_PREFIX, DEFAULT_TIMEOUT, SharedStore

__all__ = ["SHARED_KEY", "SharedState", "attach", "shared_status"]


@attrs.define
class SharedState:
    """One app's shared state: the store (None: no Redis), the counters, the syncer."""

    store: SharedStore | None
    counters: Counters
    sync: HealthSync | None = None


SHARED_KEY = web.AppKey("jackfield_shared", SharedState)


def attach(app: web.Application, registry: Registry, redis_url: str | None, *,
           prefix: str = DEFAULT_PREFIX, timeout: float = DEFAULT_TIMEOUT,
           poll_interval: float = DEFAULT_POLL_INTERVAL) -> SharedState:
    """Give app its shared state (started with the app, closed at its cleanup)."""
    store = SharedStore(redis_url, prefix=prefix, timeout=timeout) if redis_url else None
    state = app[SHARED_KEY] = SharedState(store, Counters(store))
    if store is None:
        return state

    async def start(_app: web.Application) -> None:
        # The registry's own book: the one dispatch records into and asks (private to the
        # engine, which offers no other handle on it; the syncer only uses its public hooks).
        book = registry._health
        state.sync = HealthSync(store, book, lambda: [spec.name for spec in registry.providers()],
                                poll_interval=poll_interval)
        state.sync.start()

    async def stop(_app: web.Application) -> None:
        if state.sync is not None:
            await state.sync.aclose()
        await state.counters.aclose()
        await store.aclose()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return state


def shared_status(app: web.Application) -> dict[str, Any] | None:
    """Return the Redis entry of /health (None when the server has no Redis)."""
    state = app.get(SHARED_KEY)
    if state is None or state.store is None:
        return None
    return state.store.status()
