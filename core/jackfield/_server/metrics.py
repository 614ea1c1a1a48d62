"""`jackfield serve --metrics`: Prometheus metrics at GET /metrics, fed by the observer events.

`Metrics` is the core's own observer (a default plugin registered in the server's
registry, called inline: a counter costs a microsecond) plus a middleware for what only
the server knows (the route, the HTTP status). It needs `prometheus-client`, the
`jackfield[metrics]` extra; without it `create_app(metrics=True)` refuses to start,
naming the extra, and without `metrics=True` there is no /metrics route at all.

Labels never carry a key or a prompt: routes are patterns, providers are the registry's,
errors are class names, and a model (the client's text) is its own name only if the
registry lists it (a model, a provider/model, an alias or a route group); any other name,
such as a pass-through id, counts as "other", so a client cannot grow the label set.

With several worker processes (`serve --workers N`), call `prepare_multiprocess(dir)` in the
parent before any worker starts (and before prometheus_client is imported anywhere): each
worker then writes its values into files under dir, and a scrape of any worker adds up
every worker's. The metrics are counters and histograms only, so a worker that exits needs
no clean-up (its counts stay in the sums, as Prometheus expects of counters).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import pathlib
import sys
import time
from typing import Any

import attrs
from aiohttp import web
from aiohttp.typedefs import Middleware

from jackfield._engine.registry import Registry
from jackfield._errors import ConfigurationError
from jackfield._server.errors import Handler
from jackfield._types.observations import (
    CallCancelled,
    CallFailed,
    CallFinished,
    CallStarted,
    ProviderFallback,
    TryFailed,
)
from jackfield.hookspecs import hookimpl

__all__ = ["METRICS_KEY", "MULTIPROC_ENV", "Metrics", "prepare_multiprocess"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
EXTRA_ADVICE = "pip install 'jackfield[metrics]' (it adds prometheus-client)"
PLUGIN_NAME = "jackfield.metrics"
OTHER = "other"  # every model name the registry does not list
_LATENCY = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_FIRST_TOKEN = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_OVERHEAD = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
_KNOWN_TTL = 30.0  # seconds before an unlisted name makes the model set be read again


@attrs.define
class _Seen:
    """What the observer learned about the call of the request being answered."""

    model: str = ""
    provider: str = ""


# Set by the middleware for each request; the inline observer runs in the same task.
_REQUEST: contextvars.ContextVar[_Seen | None] = contextvars.ContextVar(
    "jackfield_metrics_request", default=None)


def _client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise ConfigurationError(f"metrics need prometheus-client: {EXTRA_ADVICE}.") from None
    return prometheus_client


def prepare_multiprocess(directory: str | os.PathLike[str]) -> pathlib.Path:
    """Make directory the workers' shared metrics directory: created if missing, emptied of
    an earlier run's files, and set as PROMETHEUS_MULTIPROC_DIR for the processes started
    after this. Call it in the parent before any worker starts; return the directory."""
    values = sys.modules.get("prometheus_client.values")
    path = pathlib.Path(directory).resolve()
    if values is not None and os.environ.get(MULTIPROC_ENV) != str(path):
        # prometheus_client picks its value store when it is imported: too late now.
        raise ConfigurationError("prepare_multiprocess() must run before prometheus_client "
                                 "is imported in this process")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # counts of an earlier run would be added in
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    return path


class Metrics:
    """The server's metrics: an inline observer of its registry's calls and a middleware."""

    _jackfield_inline_observer = True  # observers.INLINE: counted in the call's task

    def __init__(self) -> None:
        prom = _client()
        self._prom = prom
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # Per worker, metrics are written to files (no registry); else to this app's own.
        self.collectors = None if self.multiprocess else prom.CollectorRegistry()
        self._known: frozenset[str] = frozenset()
        self._known_at = -_KNOWN_TTL
        self._registry: Registry | None = None
        # Each label set's child, looked up once: labels() costs more than the count itself.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

        def make(kind: str, name: str, doc: str, labels: tuple[str, ...],
                 **extra: Any) -> Any:
            return getattr(prom, kind)(f"jackfield_{name}", doc, labels,
                                       registry=self.collectors, **extra)

        self.requests = make("Counter", "requests", "HTTP requests by route, model, provider "
                             "and status", ("route", "model", "provider", "status"))
        self.request_seconds = make("Histogram", "request_duration_seconds",
                                    "HTTP request latency by route", ("route",),
                                    buckets=_LATENCY)
        self.calls = make("Counter", "calls", "Calls by operation, model, provider and "
                          "outcome (ok, cancelled or the error's type)",
                          ("operation", "model", "provider", "outcome"))
        self.call_seconds = make("Histogram", "call_duration_seconds",
                                 "Latency of the calls that delivered their reply",
                                 ("operation", "model", "provider"), buckets=_LATENCY)
        self.first_token = make("Histogram", "time_to_first_token_seconds",
                                "Time from a call's start to its first piece of content",
                                ("model", "provider"), buckets=_FIRST_TOKEN)
        self.overhead = make("Histogram", "overhead_seconds", "The gateway's own time per "
                             "call before each try's request went out", ("operation",),
                             buckets=_OVERHEAD)
        self.tokens = make("Counter", "tokens", "Tokens the providers counted, by type "
                           "(prompt, completion)", ("model", "provider", "type"))
        self.retries = make("Counter", "retries", "Failed tries retried on the same "
                            "provider", ("provider",))
        self.try_failures = make("Counter", "try_failures", "Failed tries by error type",
                                 ("provider", "error"))
        self.fallbacks = make("Counter", "fallbacks", "Calls moved on to the next "
                              "provider", ("from_provider", "to_provider"))
        self.cooldowns = make("Counter", "cooldowns", "Failures that put a provider on "
                              "cooldown", ("provider",))
        self.probes = make("Counter", "probes", "Probes of `serve --probe-every` by provider, "
                           "model and outcome", ("provider", "model", "status"))

    def _at(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:  # bounded: every label's values are (see the module's docstring)
            child = self._children[key] = metric.labels(*labels)
        return child

    def count_probes(self, report: Any) -> None:
        """A ProbeSchedule observer: count each result of a round (a ProbeReport) by its
        provider, model and status (works, failing, needs_credentials, ...)."""
        for result in report.results:
            self._at(self.probes, result.provider, result.model or "-", result.status).inc()

    # -- the observer ------------------------------------------------------------------------

    def attach(self, registry: Registry) -> None:
        """Observe registry's calls (a default plugin of its plugin manager)."""
        self._registry = registry
        manager = registry.plugin_manager
        if manager.get_plugin(PLUGIN_NAME) is None:
            manager.register(self, name=PLUGIN_NAME)

    def detach(self) -> None:
        """Stop observing the registry (its owner may keep using it)."""
        if self._registry is not None:
            manager = self._registry.plugin_manager
            if manager.get_plugin(PLUGIN_NAME) is self:
                manager.unregister(self, name=PLUGIN_NAME)
            self._registry = None

    def _model(self, name: str) -> str:
        """Return name if the registry lists it, else OTHER (bounded label values)."""
        if self._registry is None:
            return OTHER
        if name in self._known:
            return name
        now = time.monotonic()
        if now - self._known_at >= _KNOWN_TTL:
            self._known_at = now
            self._known = frozenset(
                name for model in self._registry.models(include_routes=True)
                for alias in (model.id, *model.aliases)
                for name in (alias, f"{model.provider}/{alias}" if model.provider else alias))
        return name if name in self._known else OTHER

    @hookimpl
    def jackfield_observe(self, event: Any) -> None:
        """Count event (called inline, in the call's own task)."""
        if isinstance(event, TryFailed):
            self._at(self.try_failures, event.provider, type(event.error).__name__).inc()
            if event.retry_in is not None:
                self._at(self.retries, event.provider).inc()
            if event.cooldown is not None:
                self._at(self.cooldowns, event.provider).inc()
            return
        if isinstance(event, ProviderFallback):
            self._at(self.fallbacks, event.from_provider, event.to_provider).inc()
            return
        call = event.call
        seen = _REQUEST.get()
        if isinstance(event, CallStarted):
            if seen is not None:
                seen.model = self._model(call.model)
            return
        model = self._model(call.model)
        if isinstance(event, CallFinished):
            self._finished(event, model)
            provider, outcome = event.provider, "ok"
        elif isinstance(event, CallFailed | CallCancelled):
            provider = event.provider or ""
            outcome = ("cancelled" if isinstance(event, CallCancelled)
                       else type(event.error).__name__)
        else:
            return  # TryStarted, FirstToken: counted with the call's end
        self._at(self.calls, call.operation, model, provider, outcome).inc()
        if seen is not None and provider:
            seen.provider = provider

    def _finished(self, event: CallFinished, model: str) -> None:
        operation, provider = event.call.operation, event.provider
        self._at(self.call_seconds, operation, model, provider).observe(event.duration)
        if event.time_to_first_token is not None:
            self._at(self.first_token, model, provider).observe(event.time_to_first_token)
        if event.overhead is not None:
            self._at(self.overhead, operation).observe(event.overhead)
        usage = event.usage
        if usage is not None:
            if usage.prompt_tokens:
                self._at(self.tokens, model, provider, "prompt").inc(usage.prompt_tokens)
            if usage.completion_tokens:
                self._at(self.tokens, model, provider, "completion").inc(usage.completion_tokens)

    # -- the server's side -------------------------------------------------------------------

    def middleware(self) -> Middleware:
        """Return the middleware counting each request by route, model, provider, status."""

        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            began = time.perf_counter()
            seen = _Seen()
            token = _REQUEST.set(seen)
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as error:
                status = error.status
                raise
            except asyncio.CancelledError:
                status = 499  # the client went away, as the access log counts it
                raise
            finally:
                _REQUEST.reset(token)
                resource = request.match_info.route.resource
                route = resource.canonical if resource is not None else "(no route)"
                self._at(self.requests, route, seen.model, seen.provider, str(status)).inc()
                self._at(self.request_seconds, route).observe(time.perf_counter() - began)

        return count

    def exposition(self) -> bytes:
        """Return the metrics in Prometheus' text format (every worker's, in multiprocess
        mode)."""
        prom = self._prom
        if self.collectors is not None:
            return bytes(prom.generate_latest(self.collectors))
        from prometheus_client import multiprocess

        gathered = prom.CollectorRegistry()
        multiprocess.MultiProcessCollector(gathered)  # type: ignore[no-untyped-call]
        return bytes(prom.generate_latest(gathered))

    async def handler(self, request: web.Request) -> web.Response:
        """GET /metrics."""
        response = web.Response(body=self.exposition())
        response.headers["Content-Type"] = self._prom.CONTENT_TYPE_LATEST
        return response


# The server app's Metrics, when it has them (probe rounds are counted there too).
METRICS_KEY = web.AppKey("jackfield_metrics", Metrics)


