"""Telling observers (`jackfield_observe(event)`) what each call does, and how they are told.

The events (`_types/observations.py`) hold names, counts, durations and the masked typed
error, never a prompt, a reply or a credential, because observers ship them to backends
the caller does not control. An observer that wants the text of a call wraps the hooks
instead, knowingly.

How observers are called, and why:
- A plugin's `jackfield_observe` runs on one observer thread per registry, fed by a bounded
  queue (`QUEUE_SIZE` events). The call only puts the event on the queue: an observer that
  is slow, blocks on I/O or hangs stalls that thread, never a call or the event loop. When
  the queue is full the event is dropped and counted (`Observers.dropped`, logged). A
  thread, not an asyncio task: a plain function that blocks would stall a task's loop too.
- The core's own observers (`/metrics`, OpenTelemetry spans) are called synchronously, in
  the call's own task: they are cheap (a counter, a span handed to the SDK's batch
  processor) and tracing needs the caller's context to parent its spans.
- An observer's exception is logged and swallowed; the call never sees it.
- No observer registered: `Observers.watch()` returns None and the call path only tests
  for None (no event is made, no clock read).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import pluggy

from jackfield._errors import JackfieldError
from jackfield._types.events import Finish, Image, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from jackfield._types.observations import (
    CallCancelled,
    CallFailed,
    CallFinished,
    CallInfo,
    CallStarted,
    FirstToken,
    ProviderFallback,
    TryFailed,
    TryStarted,
)

__all__ = ["INLINE", "QUEUE_SIZE", "CallWatch", "Observers"]

log = logging.getLogger("jackfield")
QUEUE_SIZE = 10_000
# A plugin object with this attribute set to True is called in the call's task, not on the
# observer thread: the core's metrics and tracing only (they must never block).
INLINE = "_jackfield_inline_observer"
_CONTENT = (TextDelta, ReasoningDelta, ToolCallDelta, Image)
_OPERATIONS = {"chat": "chat", "image": "image", "embedding": "embeddings"}
_ids = itertools.count(1)


class Observers:
    """One registry's observers: the inline ones called at once, the others on a thread."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        if "opentelemetry.trace" in sys.modules:  # the application may trace: spans too
            from jackfield._engine.tracing import register_if_traced

            register_if_traced(manager)
        self._hook = manager.hook.jackfield_observe
        self._split: tuple[tuple[Any, ...], list[Any], list[Any]] = ((), [], [])
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._failed: set[tuple[str, str]] = set()
        self.dropped = 0  # events a full queue could not take

    def watch(self, name: str, calls: Sequence[Any], stream: bool,
              began: float | None) -> CallWatch | None:
        """Return the watch of a call about to run, or None when nobody observes."""
        impls = self._hook.get_hookimpls()
        if not impls:
            return None
        if tuple(impls) != self._split[0]:
            inline = [i for i in impls if getattr(i.plugin, INLINE, False)]
            self._split = (tuple(impls), inline, [i for i in impls if i not in inline])
        return CallWatch(self, _info(name, calls, stream), began)

    def emit(self, event: Any) -> None:
        """Tell every observer about event, without ever raising or blocking."""
        _, inline, threaded = self._split
        for impl in inline:
            self._call(impl, event)
        if not threaded:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="jackfield-observers",
                                            daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait((threaded, event))
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("jackfield observers are not keeping up: %d events dropped "
                            "(an observer is slow or hangs)", self.dropped)

    def _call(self, impl: Any, event: Any) -> None:
        try:
            impl.function(event) if impl.argnames else impl.function()
        # Deliberately broad: an observer's bug must never break or slow a call. It is
        # logged (with its traceback the first time per observer and error type).
        except Exception as error:
            key = (impl.plugin_name, type(error).__name__)
            log.warning("observer %s failed on %s: %s: %s", impl.plugin_name,
                        type(event).__name__, type(error).__name__, error,
                        exc_info=key not in self._failed)
            self._failed.add(key)

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                impls, event = item
                for impl in impls:
                    self._call(impl, event)
            finally:
                self._queue.task_done()

    async def aclose(self, timeout: float = 1.0) -> None:
        """Let the observer thread see the events queued (waiting timeout seconds at most,
        without blocking the loop), then stop it."""
        if self._thread is None:
            return
        end = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < end:
            await asyncio.sleep(0.002)
        try:
            self._queue.put_nowait(None)
        except queue.Full:  # an observer hangs: its daemon thread is left to the process
            log.warning("a jackfield observer did not finish in %g s", timeout)
        self._thread = None


def _info(name: str, calls: Sequence[Any], stream: bool) -> CallInfo:
    first = calls[0].request
    params = getattr(first, "params", None)
    return CallInfo(next(_ids), _OPERATIONS.get(first.model.kind, first.model.kind), name,
                    stream, tuple(c.request.provider for c in calls),
                    getattr(params, "max_tokens", None), getattr(params, "temperature", None),
                    time.time())


def _address(base_url: str) -> tuple[str | None, int | None]:
    try:
        parts = urlsplit(base_url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None, None
    return parts.hostname, port  # never the userinfo a URL may carry


class CallWatch:
    """One observed call's clock and counts; the call path calls it only when it exists."""

    def __init__(self, observers: Observers, info: CallInfo, began: float | None) -> None:
        self.observers, self.info = observers, info
        now = time.perf_counter()
        # The core's work before the call ran (checks, routing): counted as overhead.
        self._setup = 0.0 if began is None else now - began
        self._t0 = now
        self._try = ("", "", 0, now)  # provider, model id, attempt, when it began
        self._overhead = self._setup
        self.tries = 0
        self.first: float | None = None
        self.usage: Usage | None = None
        self.finish: str | None = None
        self.provider: str | None = None

    def _now(self) -> float:
        return time.perf_counter() - self._t0

    def try_started(self, call: Any, attempt: int) -> None:
        provider, model = call.request.provider, call.request.model.id
        self.tries += 1
        self._try = (provider, model, attempt, time.perf_counter())
        host, port = _address(call.config.base_url or "")
        self.observers.emit(TryStarted(self.info, time.time(), provider, model, attempt,
                                       host, port))

    def sending(self) -> None:
        """The try's request is built: what came before it was the core's own work."""
        self._overhead += time.perf_counter() - self._try[3]

    def saw(self, event: Any) -> None:
        if self.first is None and isinstance(event, _CONTENT):
            self.first = self._now()
            self.provider = self._try[0]
            self.observers.emit(FirstToken(self.info, time.time(), self._try[0], self._try[1],
                                           self.first))
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Finish):
            self.finish = event.reason

    def try_failed(self, error: JackfieldError, retry_in: float | None = None,
                   cooldown: float | None = None) -> None:
        provider, model, attempt, began = self._try
        self.usage = self.finish = None  # a failed try's counts are not the reply's
        self.observers.emit(TryFailed(self.info, time.time(), provider, model, attempt, error,
                                      time.perf_counter() - began, retry_in, cooldown))

    def fell_back(self, to_provider: str, error: JackfieldError) -> None:
        self.observers.emit(ProviderFallback(self.info, time.time(), self._try[0],
                                             to_provider, error))

    async def follow(self, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Yield the call's events, telling the observers how the call began and ended."""
        # Started at the first read: a stream never read neither starts nor ends. Its clock
        # leaves out the time between complete() returning and that first read.
        self._t0 = time.perf_counter() - self._setup
        self.observers.emit(CallStarted(self.info, self.info.started_at))
        try:
            async for item in events:
                yield item
        except GeneratorExit:
            self._cancelled()
            raise
        except asyncio.CancelledError:
            self._cancelled()
            raise
        except Exception as error:
            self.observers.emit(CallFailed(self.info, time.time(), error, self._now(),
                                           self.tries, self.provider))
            raise
        else:
            provider, model, *_ = self._try
            self.observers.emit(CallFinished(self.info, time.time(), provider, model,
                                             self._now(), self.tries, self.usage, self.finish,
                                             self.first, self._overhead))
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    def _cancelled(self) -> None:
        self.observers.emit(CallCancelled(self.info, time.time(), self._now(), self.tries,
                                          self.provider))
