"""Transport behaviour: retries, error mapping, timeouts, proxies, fallback."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from aiohttp import web
from aioresponses import aioresponses

from jackfield import (
    AllProvidersFailedError,
    AuthenticationError,
    Limits,
    PartialResponseError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    Registry,
    ResponseFormatError,
    RetryPolicy,
    Timeouts,
)
from jackfield._http.statuses import parse_retry_after
from jackfield._http.transport import Transport
from jackfield._settings.limits import RetryPolicy as Policy
from jackfield.provider import HttpRequest
from mockprovider import MockProvider, MockServer

FAST = RetryPolicy(backoff=0.01, max_backoff=0.02)


async def test_5xx_is_retried_until_it_succeeds(mock_registry: Registry,
                                                mock_server: MockServer) -> None:
    mock_server.fail += [(500, {}, "{}"), (503, {}, "{}")]
    assert (await mock_registry.complete("echo", "hi")).text == "You said: hi"
    assert len(mock_server.seen) == 3


async def test_retry_after_is_honoured(mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.fail.append((429, {"Retry-After": "0.2"}, "{}"))
    started = asyncio.get_running_loop().time()
    assert (await mock_registry.complete("echo", "hi")).text == "You said: hi"
    assert asyncio.get_running_loop().time() - started >= 0.2


async def test_too_long_retry_after_surfaces_as_rate_limit(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.fail.append((429, {"Retry-After": "3600"}, '{"message": "slow down"}'))
    with pytest.raises(RateLimitError) as caught:
        await mock_registry.complete("echo", "hi")
    assert caught.value.retry_after == 3600 and "Retry after 3600 s" in str(caught.value)
    assert len(mock_server.seen) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_never_retried(mock_registry: Registry, mock_server: MockServer,
                                               status: int) -> None:
    mock_server.fail += [(status, {}, '{"message": "no"}')] * 3
    with pytest.raises(ProviderError) as caught:
        await mock_registry.complete("echo", "hi")
    assert caught.value.status == status
    assert len(mock_server.seen) == 1


async def test_retries_are_budgeted(mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.fail += [(503, {}, "{}")] * 5
    with pytest.raises(ProviderUnavailableError, match="HTTP 503"):
        await mock_registry.complete("echo", "hi")
    assert len(mock_server.seen) == 3  # RetryPolicy().attempts


async def test_html_challenge_page_is_an_authentication_error(
        mock_registry: Registry, mock_server: MockServer) -> None:
    page = "<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>"
    mock_server.fail.append((403, {}, page))
    with pytest.raises(AuthenticationError, match=r"HTML page titled 'Just a moment\.\.\.'"):
        await mock_registry.complete("echo", "hi")


async def test_refused_connection_is_unavailable(make_registry: Any) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    registry = make_registry([MockProvider()], base_urls={"mock": f"http://127.0.0.1:{port}"},
                             retry=FAST)
    with pytest.raises(ProviderUnavailableError, match="could not connect"):
        await registry.complete("echo", "hi")


async def test_stalled_stream_times_out_within_the_idle_timeout(
        mock_server: MockServer, serve_app: Any, make_registry: Any) -> None:
    mock_server.stall = 30
    url = await serve_app(mock_server.app)
    registry = make_registry([MockProvider()], base_urls={"mock": url},
                             timeouts=Timeouts(read_idle=0.3), retry=RetryPolicy(attempts=1))
    started = asyncio.get_running_loop().time()
    with pytest.raises(ProviderTimeoutError, match="stalled"):
        await (await registry.complete("echo", "hi", stream=True)).text()
    assert asyncio.get_running_loop().time() - started < 1.3


async def test_per_call_total_timeout(mock_server: MockServer, serve_app: Any,
                                      make_registry: Any) -> None:
    mock_server.stall = 30
    url = await serve_app(mock_server.app)
    registry = make_registry([MockProvider()], base_urls={"mock": url},
                             retry=RetryPolicy(attempts=1))
    with pytest.raises(ProviderTimeoutError):
        await (await registry.complete("echo", "hi", stream=True, timeout=0.3)).text()


async def test_failure_after_content_is_partial_never_retried(
        serve_app: Any, make_registry: Any) -> None:
    calls = 0

    async def half(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"text": "Hello"}\n\n')
        await response.write(b'data: {"text": " wor')
        assert request.transport is not None
        request.transport.close()  # drop the connection mid-event
        return response

    app = web.Application()
    app.router.add_post("/chat", half)
    url = await serve_app(app)
    registry = make_registry([MockProvider()], base_urls={"mock": url}, retry=FAST)
    stream = await registry.complete("echo", "hi", stream=True)
    received = []
    with pytest.raises(PartialResponseError) as caught:
        async for chunk in stream:
            received.append(chunk.text)
    assert received == ["Hello"]
    assert caught.value.delivered_chars == 5 and "5 characters" in str(caught.value)
    assert calls == 1


async def test_non_streamed_call_retries_a_mid_reply_drop(
        serve_app: Any, make_registry: Any) -> None:
    calls = 0

    async def flaky(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        body = b'{"text": "Hello"}'
        response = web.StreamResponse(headers={"content-type": "application/json",
                                               "content-length": str(len(body))})
        await response.prepare(request)
        if calls == 1:  # promise the whole body, send half, hang up
            await response.write(body[:8])
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(body)
        return response

    app = web.Application()
    app.router.add_post("/chat", flaky)
    url = await serve_app(app)
    registry = make_registry([MockProvider()], base_urls={"mock": url}, retry=FAST)
    # Non-streamed calls deliver nothing until the end, so a drop can still be retried.
    completion = await registry.complete("echo", "hi", stream=False)
    assert completion.text == "Hello" and calls == 2


async def test_fallback_to_the_next_provider_before_content(
        serve_app: Any, make_registry: Any) -> None:
    down, up = MockServer(), MockServer()
    down.fail += [(503, {}, "{}")] * 3
    registry = make_registry([MockProvider("alpha"), MockProvider("beta")], retry=FAST,
                             base_urls={"alpha": await serve_app(down.app),
                                        "beta": await serve_app(up.app)})
    completion = await registry.complete("echo", "hi")
    assert completion.provider == "beta" and completion.text == "You said: hi"


async def test_all_providers_failing_lists_every_error(
        serve_app: Any, make_registry: Any) -> None:
    first, second = MockServer(), MockServer()
    first.fail += [(503, {}, "{}")] * 3
    second.fail.append((401, {}, '{"message": "bad key"}'))
    registry = make_registry([MockProvider("alpha"), MockProvider("beta")], retry=FAST,
                             base_urls={"alpha": await serve_app(first.app),
                                        "beta": await serve_app(second.app)})
    with pytest.raises(AllProvidersFailedError) as caught:
        await registry.complete("echo", "hi")
    assert [type(e) for e in caught.value.errors] == [ProviderUnavailableError,
                                                      AuthenticationError]
    assert "alpha" in str(caught.value) and "bad key" in str(caught.value)


async def test_proxy_per_registry_and_per_call(mock_server: MockServer, serve_app: Any,
                                               make_registry: Any) -> None:
    """A forward proxy on loopback sees the absolute URL of every proxied request."""
    import aiohttp

    target = await serve_app(mock_server.app)
    proxied: list[str] = []

    async def forward(request: web.Request) -> web.StreamResponse:
        proxied.append(str(request.url))
        async with aiohttp.ClientSession() as session, session.request(
                request.method, str(request.url), data=await request.read(),
                headers={"content-type": "application/json"}) as upstream:
            return web.Response(status=upstream.status, body=await upstream.read(),
                                content_type=upstream.content_type)

    proxy_app = web.Application()
    proxy_app.router.add_route("*", "/{tail:.*}", forward)
    proxy = await serve_app(proxy_app)
    registry = make_registry([MockProvider()], base_urls={"mock": target}, proxy=proxy)
    assert (await registry.complete("echo", "hi")).text == "You said: hi"
    plain = make_registry([MockProvider()], base_urls={"mock": target})
    await plain.complete("echo", "direct")
    await plain.complete("echo", "via proxy", proxy=proxy)
    assert proxied == [f"{target}/chat", f"{target}/chat"]


async def test_oversized_line_is_a_format_error(serve_app: Any, make_registry: Any) -> None:
    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=b"data: " + b"x" * 300_000 + b"\n\n",
                            content_type="text/event-stream")

    app = web.Application()
    app.router.add_post("/chat", huge)
    registry = make_registry([MockProvider()], base_urls={"mock": await serve_app(app)},
                             limits=Limits(max_event_bytes=100_000))
    with pytest.raises(ResponseFormatError, match="exceeds the limit of 100000"):
        await (await registry.complete("echo", "hi", stream=True)).text()


def test_retry_after_parsing() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    soon = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")
    assert soon == 0.0  # a date in the past means now


def test_backoff_grows_with_jitter_and_stops() -> None:
    policy = Policy(attempts=4, backoff=1, max_backoff=3, jitter=False)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1, 2, 3, None]
    jittered = Policy(attempts=3, backoff=2)
    assert all(1 <= (jittered.delay(1) or 0) <= 2 for _ in range(50))


async def test_status_mapping_with_aioresponses() -> None:
    transport = Transport(timeouts=Timeouts(), limits=Limits())
    url = "http://127.0.0.1:1/x"
    try:
        with aioresponses() as mocked:
            cases = [(401, AuthenticationError), (429, RateLimitError),
                     (502, ProviderUnavailableError), (408, ProviderTimeoutError),
                     (418, ProviderError)]
            for status, _ in cases:
                mocked.post(url, status=status, payload={"message": f"status {status}"},
                            headers={"Retry-After": "5"})
            for status, error_type in cases:
                with pytest.raises(error_type) as caught:
                    await transport.send("p", HttpRequest("POST", url))
                assert caught.value.status == status
                assert f"status {status}" in str(caught.value)
    finally:
        await transport.aclose()


async def test_cooldown_skips_a_failing_provider_unless_it_is_the_only_choice(
        serve_app: Any, make_registry: Any) -> None:
    from jackfield import CooldownPolicy

    down, up = MockServer(), MockServer()
    down.fail += [(503, {}, "{}")] * 100
    registry = make_registry([MockProvider("alpha"), MockProvider("beta")],
                             retry=RetryPolicy(attempts=1),
                             cooldown=CooldownPolicy(failures=2, seconds=60),
                             base_urls={"alpha": await serve_app(down.app),
                                        "beta": await serve_app(up.app)})
    for _ in range(2):
        assert (await registry.complete("echo", "hi")).provider == "beta"
    health = registry.health()
    assert health["alpha"].consecutive_failures == 2 and health["alpha"].cooling_down
    assert "HTTP 503" in (health["alpha"].last_error or "")
    assert health["beta"].successes == 2 and not health["beta"].cooling_down
    calls_before = len(down.seen)
    assert (await registry.complete("echo", "hi")).provider == "beta"
    assert len(down.seen) == calls_before  # skipped while cooling down
    with pytest.raises(ProviderUnavailableError):  # pinned: the only choice, so it is tried
        await registry.complete("alpha/echo", "hi")
    assert len(down.seen) == calls_before + 1


async def test_each_retry_builds_a_fresh_request(mock_registry: Registry,
                                                 mock_server: MockServer) -> None:
    from jackfield.provider import hookimpl

    builds: list[str] = []

    class CountBuilds:
        @hookimpl(wrapper=True)
        def jackfield_build_request(self, request: Any, config: Any) -> Any:
            built = yield
            builds.append(built.url)
            return built

    mock_registry.plugin_manager.register(CountBuilds())
    mock_server.fail.append((500, {}, "{}"))
    await mock_registry.complete("echo", "hi")
    assert len(builds) == 2 == len(mock_server.seen)


async def test_a_missing_credential_is_not_held_against_the_provider(
        serve_app: Any, make_registry: Any) -> None:
    from jackfield import CooldownPolicy
    from jackfield.provider import hookimpl

    class NeedsToken(MockProvider):
        @hookimpl
        def jackfield_build_request(self, request: Any, config: Any) -> Any:
            config.require("token")
            return super().jackfield_build_request(request, config)

    registry = make_registry([NeedsToken()], base_urls={"mock": await serve_app(
        MockServer().app)}, cooldown=CooldownPolicy(failures=1))
    with pytest.raises(AuthenticationError, match="token"):
        await registry.complete("echo", "hi")
    health = registry.health()["mock"]
    assert health.failures == 0 and not health.cooling_down
