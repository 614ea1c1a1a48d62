"""An upstream that quotes our request headers back: no secret reaches any error text or log."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from echoing import SECRET, SECRET_KEY, CookieMock, echoing_app, leaks
from jackfield import (
    AllProvidersFailedError,
    JackfieldError,
    PartialResponseError,
    ProviderError,
    Registry,
    RetryPolicy,
)
from jackfield.provider import CompletionRequest, HttpRequest, ProviderConfig, hookimpl
from mockprovider import MockProvider


def outputs(error: BaseException, caplog: pytest.LogCaptureFixture,
            registry: Registry) -> list[str]:
    """Every text a caller, a log or the health report may show about error."""
    shown = [str(error), repr(error), caplog.text, repr(registry.health())]
    for record in caplog.records:
        shown += [record.getMessage(), record.exc_text or ""]
    causes = [*getattr(error, "errors", ()), error]
    for cause in causes:
        shown += [str(cause), repr(cause)]
        if isinstance(cause, ProviderError):
            shown += [cause.body_excerpt, cause.summary, cause.advice]
        if isinstance(cause, PartialResponseError):
            shown += [str(cause.cause), cause.cause.body_excerpt]
    return shown


def leaked(texts: list[str]) -> list[str]:
    return [text for text in texts if leaks(text)]


async def _broken_stream(registry: Registry) -> PartialResponseError:
    """Read a stream of "echo" that breaks off; return the error it ended with."""
    stream = await registry.complete("echo", "hi", stream=True)
    with pytest.raises(PartialResponseError) as caught:
        async with stream:
            async for _chunk in stream:
                pass
    return caught.value


@pytest.mark.parametrize(("status", "shape"), [
    (401, "json"), (403, "text"), (500, "json"), (400, "json"), (400, "text"),
    (200, "json"),  # a 200 the parser rejects, quoting the body it got
])
async def test_an_echoed_header_is_masked_in_every_error_text(
        status: int, shape: str, serve_app: Any, make_registry: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = await serve_app(echoing_app(status, shape=shape))
    registry = make_registry([CookieMock()], config={"mock": {"base_url": url, "token": SECRET}},
                             retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.02))
    with pytest.raises(ProviderError) as caught:
        await registry.complete("echo", "hi")
    assert caught.value.status == (None if status == 200 else status)
    assert leaked(outputs(caught.value, caplog, registry)) == []
    assert "***" in str(caught.value)  # the echo is still quoted, its secrets masked


async def test_a_stream_broken_by_an_echo_is_masked(
        serve_app: Any, make_registry: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = await serve_app(echoing_app(200, shape="sse"))
    registry = make_registry([CookieMock()], config={"mock": {"base_url": url, "token": SECRET}})
    error = await _broken_stream(registry)
    assert leaked(outputs(error, caplog, registry)) == []


async def test_every_provider_failing_with_an_echo_is_masked(
        serve_app: Any, make_registry: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    first, second = await serve_app(echoing_app(401)), await serve_app(echoing_app(503))
    registry = make_registry(
        [MockProvider(), MockProvider("other")],
        config={"mock": {"base_url": first, "token": SECRET},
                "other": {"base_url": second, "token": SECRET_KEY}},
        retry=RetryPolicy(attempts=1))
    with pytest.raises(AllProvidersFailedError) as caught:
        await registry.complete("echo", "hi")
    assert len(caught.value.errors) == 2
    assert leaked(outputs(caught.value, caplog, registry)) == []


async def test_a_plugin_error_quoting_a_secret_is_masked(
        serve_app: Any, make_registry: Any, caplog: pytest.LogCaptureFixture) -> None:
    class Careless(MockProvider):
        @hookimpl
        def jackfield_build_request(self, request: CompletionRequest,
                                    config: ProviderConfig) -> HttpRequest:
            raise KeyError(f"no route for token {config.get('token')}")

    caplog.set_level(logging.DEBUG)
    registry = make_registry([Careless()], config={"mock": {"token": SECRET}})
    with pytest.raises(JackfieldError) as caught:
        await registry.complete("echo", "hi")
    assert leaked(outputs(caught.value, caplog, registry)) == []


async def test_a_stream_quoting_a_header_value_alone_is_masked(
        serve_app: Any, make_registry: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Mid-stream, a quoted credential with no header name or key shape around it is known
    only from the headers the try sent; an open stream keeps those that may carry one."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"text": "hello "}\n\n')
        quoted = json.dumps({"why": f"the key {request.headers['X-Api-Key']} is revoked"})
        await response.write(f"data: {quoted}\n\n".encode())
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    url = await serve_app(app)
    registry = make_registry([CookieMock()], config={"mock": {"base_url": url, "token": SECRET}})
    error = await _broken_stream(registry)
    assert "revoked" in str(error)  # the reply is quoted, its key masked
    assert leaked(outputs(error, caplog, registry)) == []
