"""`jackfield serve --probe-every SECONDS`: probe rounds in the background, shown in /health
and, with --metrics, in /metrics.

One task per app, started when the app starts and cancelled (and awaited) when it shuts
down, before the registry closes: a round cut short closes its connections and leaves no
task behind. Each round is registry.probe() with the same budget and rate rules as
`jackfield probe`; the next round starts `every` seconds after one ends, so rounds never
overlap, however slow a service is.

Metrics: `ProbeSchedule.observers` are called with each round's ProbeReport; with
`serve --metrics` the app's Metrics count each result there (`jackfield_probes_total` by
provider, model and status), in one place and never twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable

from aiohttp import web

from jackfield._engine.probe_book import ProbeReport
from jackfield._engine.registry import Registry
from jackfield._errors import JackfieldError

__all__ = ["PROBING_KEY", "ProbeSchedule", "add_probing"]

log = logging.getLogger("jackfield")


class ProbeSchedule:
    """Probe rounds every `every` seconds over one registry."""

    def __init__(self, registry: Registry, every: float, *, budget: int, rate: float,
                 timeout: float = 15.0, images: bool = False) -> None:
        if not (isinstance(every, int | float) and math.isfinite(every) and every > 0):
            raise ValueError(f"every must be a positive number of seconds, got {every!r}")
        self.registry, self.every = registry, float(every)
        self.budget, self.rate, self.timeout, self.images = budget, rate, timeout, images
        self.rounds = 0
        self.last: ProbeReport | None = None
        self.observers: list[Callable[[ProbeReport], None]] = []  # metrics go here
        self._task: asyncio.Task[None] | None = None

    async def round(self) -> ProbeReport:
        """Run one round now; tell the observers."""
        report = await self.registry.probe(budget=self.budget, rate=self.rate,
                                           timeout=self.timeout, images=self.images)
        self.rounds += 1
        self.last = report
        for observer in self.observers:
            observer(report)
        return report

    async def _run(self) -> None:
        while True:
            try:
                report = await self.round()
            except JackfieldError as error:
                # A round that could not start (a route naming a model nobody lists, say):
                # said, and tried again next time; a service's failure is a result instead.
                log.warning("a probe round failed: %s", error)
            else:
                for warning in report.warnings:
                    log.warning("%s", warning)
            await asyncio.sleep(self.every)

    async def start(self, _app: web.Application) -> None:
        """Start the rounds (on_startup)."""
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name="jackfield-probes")

    async def stop(self, _app: web.Application) -> None:
        """Cancel the rounds and wait for the task to end (on_shutdown, and on_cleanup)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    @property
    def running(self) -> bool:
        """Return True while the rounds go on."""
        return self._task is not None and not self._task.done()


PROBING_KEY = web.AppKey("jackfield_probing", ProbeSchedule)


def add_probing(app: web.Application, every: float, *, budget: int, rate: float,
                timeout: float = 15.0, images: bool = False) -> ProbeSchedule:
    """Probe app's registry every `every` seconds while app runs; return the schedule."""
    from jackfield._server.call import REGISTRY_KEY

    schedule = ProbeSchedule(app[REGISTRY_KEY], every, budget=budget, rate=rate,
                             timeout=timeout, images=images)
    app[PROBING_KEY] = schedule
    from jackfield._server.metrics import METRICS_KEY  # cheap: prometheus-client comes later

    metrics = app.get(METRICS_KEY)
    if metrics is not None:  # serve --metrics: each round's outcomes are counted there
        schedule.observers.append(metrics.count_probes)
    app.on_startup.append(schedule.start)
    # on_shutdown runs before on_cleanup closes the registry: no round outlives it.
    app.on_shutdown.insert(0, schedule.stop)
    app.on_cleanup.insert(0, schedule.stop)
    return schedule
