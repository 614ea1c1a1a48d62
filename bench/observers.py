"""What observing a call costs: client CPU per call with no observer, a plugin's observer,
`serve --metrics`'s observer and OpenTelemetry spans, on the same short call.

Starts the AmigoChat emulator in its own process (bench/emulator_server.py), then measures
`Registry.complete()` at concurrency 64 with each setting, interleaved round by round (the
observer thread's CPU is in the process's CPU time, so it is counted). Needs the metrics
and otel extras and opentelemetry-sdk (the dev extra has them). A diagnostic: it reaches
into private names on purpose.
Usage: python bench/observers.py [--calls 3000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections.abc import Sequence
from typing import Any

from harness.procs import emulator
from layers import CALLS, CONCURRENCY, MESSAGES, ROUNDS, cpu_per_call
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from jackfield import Registry
from jackfield._engine.tracing import Tracing
from jackfield._server.metrics import Metrics
from jackfield.provider import hookimpl


class NoOpObserver:
    """A plugin's observer that does nothing: the cost of the events and the queue alone."""

    @hookimpl
    def jackfield_observe(self, event: Any) -> None:
        del event


class Dropped(SpanExporter):
    """An exporter that drops every span: the cost of making them, not of shipping them."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def observed(url: str, setting: str) -> Registry:
    registry = Registry.discover(config={"amigochat": {"base_url": url}}, environ={})
    if setting == "plugin observer (thread)":
        registry.plugin_manager.register(NoOpObserver())
    elif setting == "serve --metrics observer":
        Metrics().attach(registry)
    elif setting == "OpenTelemetry spans (SDK)":
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Dropped()))
        registry.plugin_manager.register(Tracing(provider))
    return registry


async def measure(url: str, calls: int, rounds: int) -> dict[str, float]:
    """Return the median CPU per call of every setting."""
    settings = ["no observer", "plugin observer (thread)", "serve --metrics observer",
                "OpenTelemetry spans (SDK)"]
    registries = {setting: observed(url, setting) for setting in settings}
    samples: dict[str, list[float]] = {setting: [] for setting in settings}

    def caller(registry: Registry) -> Any:
        async def complete() -> None:
            await registry.complete("gpt-4o-mini", MESSAGES)
        return complete

    try:
        for registry in registries.values():
            await caller(registry)()  # warm every path before measuring
        for round_number in range(rounds):
            shift = round_number % len(settings)
            for setting in settings[shift:] + settings[:shift]:
                samples[setting].append(await cpu_per_call(caller(registries[setting]), calls))
    finally:
        for registry in registries.values():
            await registry.aclose()
    return {setting: statistics.median(values) for setting, values in samples.items()}


def main() -> None:
    """Start the emulator, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS, help="calls per setting and round")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    with emulator() as (url, _pid):
        results = asyncio.run(measure(url, args.calls, args.rounds))
    print(f"client CPU per call, median of {args.rounds} rounds of {args.calls} calls "
          f"at c={CONCURRENCY}")
    base = results["no observer"]
    for setting, value in results.items():
        print(f"  {setting:28} {value:6.0f} us  ({value - base:+.0f} us)")


if __name__ == "__main__":
    main()
