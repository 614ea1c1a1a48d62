"""Graceful shutdown: calls in flight get a grace period, then end with an error the client sees.

aiohttp waits up to its runner's shutdown_timeout (60 s by default) for handlers, then cuts
the connections: a streaming client sees a truncated body, not an error. Here the app's
on_shutdown waits at most `grace` seconds for the calls in flight, then cancels the rest; the
middleware turns that cancellation into a 503, or into a final error event for a stream
whose 200 has gone out, so every client learns why its call ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from aiohttp import web

from jackfield._server.errors import RESPONSE_KEY, ApiError, Handler, error_response, error_shape

__all__ = ["DEFAULT_GRACE", "Drain"]

log = logging.getLogger("jackfield._server")
DEFAULT_GRACE = 10.0
# After the grace period, the time the interrupted handlers get to write their last words.
_LAST_WORDS = 2.0
_SHUTTING_DOWN = ApiError(503, "server_error", "server_shutting_down",
                          "The server is shutting down; retry the call once it is back.")


class Drain:
    """The requests in flight, and how to end them when the server stops."""

    def __init__(self, grace: float = DEFAULT_GRACE) -> None:
        if not (math.isfinite(grace) and grace >= 0):
            raise ValueError(f"grace must be a number of seconds >= 0, got {grace}")
        self.grace = grace
        self._tasks: set[asyncio.Task[object]] = set()
        self._interrupted: set[asyncio.Task[object]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @web.middleware
    async def track(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count the request as in flight; answer for it if the shutdown interrupts it."""
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to track or cancel
            return await handler(request)
        self._tasks.add(task)
        self._idle.clear()
        try:
            return await handler(request)
        except asyncio.CancelledError:
            # Only our own cancel is answered; if the client went away too, nobody listens.
            if task not in self._interrupted or task.uncancel() > 0:
                raise
            return await self._last_words(request)
        finally:
            self._tasks.discard(task)
            if not self._tasks:
                self._idle.set()

    async def _last_words(self, request: web.Request) -> web.StreamResponse:
        response: web.StreamResponse | None = request.get(RESPONSE_KEY)
        if response is None or not response.prepared:
            return error_response(_SHUTTING_DOWN, request)
        with contextlib.suppress(ConnectionError):  # the client may be gone by now
            # The stream's own format: an Anthropic stream ends with its `error` event.
            await response.write(error_shape(request).event_bytes(_SHUTTING_DOWN))
            await response.write_eof()
        return response

    async def on_shutdown(self, _app: web.Application) -> None:
        """Wait up to the grace period for the calls in flight; then end the rest."""
        if self._tasks:
            log.info("waiting up to %.0f s for %d calls in flight", self.grace, len(self._tasks))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.grace):  # not wait_for: it may lose a cancel
                    await self._idle.wait()
        if not self._tasks:
            return
        log.warning("ending %d calls still in flight after the %.0f s grace period",
                    len(self._tasks), self.grace)
        self._interrupted = set(self._tasks)
        for task in self._interrupted:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_LAST_WORDS):
                await self._idle.wait()
