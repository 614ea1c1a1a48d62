"""OpenTelemetry spans: one per call, one per try as its children, the GenAI semantic
conventions' attribute names, no prompt; made on their own once the app set a provider."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from observekit import MeteredProvider
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jackfield import CooldownPolicy, ProviderUnavailableError, Registry, RetryPolicy
from jackfield._engine.tracing import Tracing
from mockprovider import MockServer

HERE = pathlib.Path(__file__).resolve().parent
FAST_RETRY = RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01, jitter=False)
PROMPT = "tell nobody this prompt"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
async def traced(mock_server: MockServer, serve_app: Any, make_registry: Any,
                 provider: TracerProvider) -> Registry:
    registry: Registry = make_registry([MeteredProvider()],
                                       base_urls={"mock": await serve_app(mock_server.app)},
                                       retry=FAST_RETRY)
    registry.plugin_manager.register(Tracing(provider))
    return registry


def by_name(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return sorted(exporter.get_finished_spans(), key=lambda span: span.start_time or 0)


def no_text_in(spans: list[ReadableSpan]) -> None:
    for span in spans:
        shown = json.dumps({**dict(span.attributes or {}), "name": span.name,
                            "status": span.status.description or ""}, default=str)
        assert "nobody" not in shown and "You said" not in shown


async def test_a_call_and_its_try_carry_the_genai_attributes(
        traced: Registry, exporter: InMemorySpanExporter, provider: TracerProvider) -> None:
    parent_tracer = provider.get_tracer("the application")
    with parent_tracer.start_as_current_span("handle request") as parent:
        completion = await traced.complete("mock/echo", PROMPT, temperature=0.25)
    call, attempt = (span for span in by_name(exporter) if span.name != "handle request")
    assert call.name == "chat mock/echo" and attempt.name == "chat echo"
    assert call.kind == attempt.kind == trace.SpanKind.CLIENT
    assert call.parent is not None and call.parent.span_id == parent.get_span_context().span_id
    assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
    assert completion.usage is not None
    assert dict(call.attributes or {}) == {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "mock/echo",
        "gen_ai.provider.name": "mock", "gen_ai.request.temperature": 0.25,
        "gen_ai.response.model": "echo", "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": completion.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": completion.usage.completion_tokens,
        "jackfield.time_to_first_token": pytest.approx(
            call.attributes["jackfield.time_to_first_token"])}  # type: ignore[index]
    attributes = dict(attempt.attributes or {})
    assert attributes["server.address"] == "127.0.0.1"
    assert isinstance(attributes["server.port"], int) and attributes["jackfield.attempt"] == 1
    assert attributes["gen_ai.request.model"] == attributes["gen_ai.response.model"] == "echo"
    assert call.status.status_code == trace.StatusCode.UNSET
    no_text_in([call, attempt])


async def test_a_retried_then_failed_call_marks_each_try_with_its_error_type(
        traced: Registry, exporter: InMemorySpanExporter, mock_server: MockServer) -> None:
    mock_server.fail += [(503, {}, '{"error": "' + PROMPT + '"}')] * 2
    with pytest.raises(ProviderUnavailableError):
        await traced.complete("mock/echo", PROMPT, max_tokens=5)
    call, *tries = sorted(by_name(exporter), key=lambda span: span.parent is not None)
    assert [span.attributes["jackfield.attempt"] for span in tries] == [1, 2]  # type: ignore[index]
    assert tries[0].attributes["jackfield.retry_in"] == 0.01  # type: ignore[index]
    assert "jackfield.retry_in" not in (tries[1].attributes or {})
    for span in (call, *tries):
        assert span.attributes["error.type"] == "ProviderUnavailableError"  # type: ignore[index]
        assert span.status.status_code == trace.StatusCode.ERROR
    assert all(span.parent is not None and span.parent.span_id == call.context.span_id
               for span in tries)
    no_text_in([call, *tries])


async def test_a_fallback_is_an_event_of_the_call_with_a_try_per_provider(
        serve_app: Any, make_registry: Any, provider: TracerProvider,
        exporter: InMemorySpanExporter) -> None:
    first, second = MockServer(), MockServer()
    registry = make_registry([MeteredProvider("one"), MeteredProvider("two")],
                             base_urls={"one": await serve_app(first.app),
                                        "two": await serve_app(second.app)},
                             retry=FAST_RETRY, cooldown=CooldownPolicy(failures=5))
    registry.plugin_manager.register(Tracing(provider))
    first.fail.append((401, {}, "{}"))
    await registry.complete("echo", "hi")
    call, *tries = sorted(by_name(exporter), key=lambda span: span.parent is not None)
    assert [span.attributes["gen_ai.provider.name"] for span in tries] == ["one", "two"]  # type: ignore[index]
    assert tries[0].attributes["error.type"] == "AuthenticationError"  # type: ignore[index]
    assert call.attributes["gen_ai.provider.name"] == "two"  # type: ignore[index]
    assert [(e.name, dict(e.attributes or {})) for e in call.events] == [
        ("jackfield.fallback", {"jackfield.from_provider": "one", "jackfield.to_provider": "two"})]


async def test_a_stream_left_early_ends_its_spans(
        traced: Registry, exporter: InMemorySpanExporter) -> None:
    async with await traced.complete("mock/echo", "one two three", stream=True) as stream:
        await stream.__anext__()
    spans = by_name(exporter)
    assert len(spans) == 2 and all(span.attributes["jackfield.cancelled"] for span in spans)  # type: ignore[index]


# An application that set up OpenTelemetry before its calls: spans come on their own.
APP = textwrap.dedent("""
    import asyncio, json, sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    exporter = InMemorySpanExporter()
    if sys.argv[1] == "traced":
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    from jackfield import Registry
    from jackfield.testing import serve_app
    from mockprovider import MockServer
    from observekit import MeteredProvider

    async def main():
        async with serve_app(MockServer().app) as url:
            registry = Registry([MeteredProvider()], config={"mock": {"base_url": url}},
                                environ={})
            async with registry:
                await registry.complete("mock/echo", "hi")
                names = sorted(registry.plugin_manager.list_name_plugin())
        print(json.dumps({"spans": sorted(s.name for s in exporter.get_finished_spans()),
                          "tracing": any(n == "jackfield.tracing" for n, _ in names)}))
    asyncio.run(main())
""")


@pytest.mark.parametrize(("mode", "expected"), [
    ("traced", {"spans": ["chat echo", "chat mock/echo"], "tracing": True}),
    ("untraced", {"spans": [], "tracing": False}),  # imported, but no provider set
])
def test_spans_come_once_the_application_set_a_tracer_provider(
        mode: str, expected: dict[str, Any]) -> None:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    done = subprocess.run([sys.executable, "-c", APP, mode], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == expected
