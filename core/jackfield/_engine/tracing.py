"""OpenTelemetry spans for each call and each provider try, from the observer events.

A span per call, named "{gen_ai.operation.name} {gen_ai.request.model}" as the GenAI
semantic conventions ask (it covers every retry and fallback), and a child span per try,
named after the model id the provider is sent, with that provider's `gen_ai.provider.name`
and `server.address`/`server.port`. Attributes use the conventions' names:
`gen_ai.operation.name` ("chat", "embeddings", "generate_content" with `gen_ai.output.type`
"image"), `gen_ai.request.model`, `gen_ai.request.max_tokens`, `gen_ai.request.temperature`,
`gen_ai.response.model`, `gen_ai.response.finish_reasons`, `gen_ai.usage.input_tokens`,
`gen_ai.usage.output_tokens` and `error.type` (the error's class name); jackfield's own are
under `jackfield.` (attempt, retry_in, time_to_first_token). No prompt, reply or error text
is put on a span: only names, counts and types.

The spans are made when the application has set a global TracerProvider (the SDK's, or
`opentelemetry-instrument`'s) before a registry's first call: `Observers` then registers
`Tracing` as a default plugin, called inline so that the call span's parent is the caller's
current span. Nothing is imported, and nothing costs, in an application without
OpenTelemetry. A test (or an application with several providers) registers
`Tracing(tracer_provider)` itself.
"""

from __future__ import annotations

import sys
from typing import Any

import attrs
import pluggy

from jackfield._types.observations import (
    CallCancelled,
    CallFailed,
    CallFinished,
    CallStarted,
    FirstToken,
    ProviderFallback,
    TryFailed,
    TryStarted,
)
from jackfield.hookspecs import hookimpl

__all__ = ["PLUGIN_NAME", "Tracing", "register_if_traced"]

PLUGIN_NAME = "jackfield.tracing"
_OPERATIONS = {"image": "generate_content"}  # the conventions have no image operation


def register_if_traced(manager: pluggy.PluginManager) -> None:
    """Register Tracing in manager if the application has set a global TracerProvider."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None or manager.get_plugin(PLUGIN_NAME) is not None:
        return  # no OpenTelemetry in this process: nothing to import, nothing to pay
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return
    manager.register(Tracing(), name=PLUGIN_NAME)


@attrs.define
class _Spans:
    call: Any
    attempt: Any = None  # the try under way, if any


class Tracing:
    """The core's span-making observer (inline: spans are cheap; the SDK exports them)."""

    _jackfield_inline_observer = True  # observers.INLINE

    def __init__(self, tracer_provider: Any = None) -> None:
        from opentelemetry import trace

        from jackfield import __version__

        self._trace = trace
        self._tracer = trace.get_tracer("jackfield", __version__,
                                        tracer_provider=tracer_provider)
        self._open: dict[int, _Spans] = {}

    @hookimpl
    def jackfield_observe(self, event: Any) -> None:
        """Start, annotate and end the spans of event's call."""
        if isinstance(event, CallStarted):
            self._started(event)
            return
        spans = self._open.get(event.call.id)
        if spans is None:
            return
        if isinstance(event, TryStarted):
            operation = _operation(event.call.operation)
            attributes: dict[str, Any] = {"gen_ai.operation.name": operation,
                                          "gen_ai.provider.name": event.provider,
                                          "gen_ai.request.model": event.model_id,
                                          "jackfield.attempt": event.attempt}
            if event.server_address is not None:
                attributes["server.address"] = event.server_address
                if event.server_port is not None:
                    attributes["server.port"] = event.server_port
            spans.attempt = self._tracer.start_span(
                f"{operation} {event.model_id}", self._trace.set_span_in_context(spans.call),
                kind=self._trace.SpanKind.CLIENT, attributes=attributes)
        elif isinstance(event, TryFailed):
            if spans.attempt is not None:
                if event.retry_in is not None:
                    spans.attempt.set_attribute("jackfield.retry_in", event.retry_in)
                self._failed(spans.attempt, event.error)
                spans.attempt = None
        elif isinstance(event, FirstToken):
            spans.call.set_attribute("jackfield.time_to_first_token", event.time_to_first_token)
        elif isinstance(event, ProviderFallback):
            spans.call.add_event("jackfield.fallback", {"jackfield.from_provider":
                                                        event.from_provider,
                                                        "jackfield.to_provider":
                                                        event.to_provider})
        elif isinstance(event, CallFinished):
            self._finished(self._open.pop(event.call.id), event)
        elif isinstance(event, CallFailed | CallCancelled):
            self._open.pop(event.call.id)
            for span in (spans.attempt, spans.call):
                if span is None:
                    continue
                if isinstance(event, CallFailed):
                    self._failed(span, event.error)
                else:
                    span.set_attribute("jackfield.cancelled", True)
                    span.end()

    def _started(self, event: CallStarted) -> None:
        call = event.call
        operation = _operation(call.operation)
        attributes: dict[str, Any] = {"gen_ai.operation.name": operation,
                                      "gen_ai.request.model": call.model}
        if call.operation == "image":
            attributes["gen_ai.output.type"] = "image"
        if len(call.candidates) == 1:
            attributes["gen_ai.provider.name"] = call.candidates[0]
        if call.max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = call.max_tokens
        if call.temperature is not None:
            attributes["gen_ai.request.temperature"] = call.temperature
        span = self._tracer.start_span(f"{operation} {call.model}",
                                       kind=self._trace.SpanKind.CLIENT, attributes=attributes)
        self._open[call.id] = _Spans(span)

    def _finished(self, spans: _Spans, event: CallFinished) -> None:
        attributes: dict[str, Any] = {"gen_ai.provider.name": event.provider,
                                      "gen_ai.response.model": event.model_id}
        if event.finish_reason is not None:
            attributes["gen_ai.response.finish_reasons"] = (event.finish_reason,)
        usage = event.usage
        if usage is not None and usage.prompt_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = usage.prompt_tokens
        if usage is not None and usage.completion_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = usage.completion_tokens
        for span in (spans.attempt, spans.call):
            if span is not None:
                span.set_attributes(attributes)
                span.end()

    def _failed(self, span: Any, error: BaseException) -> None:
        kind = type(error).__name__
        span.set_attribute("error.type", kind)
        # The type only: an error's text may quote what the provider said about the prompt.
        span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, kind))
        span.end()


def _operation(operation: str) -> str:
    return _OPERATIONS.get(operation, operation)
