"""GET /metrics: counts exact after a known load, parsed with prometheus_client's parser;
behind the API key; bounded labels; no key or prompt in them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest
from observekit import MeteredProvider
from prometheus_client.parser import text_string_to_metric_families

from jackfield import Registry, RetryPolicy
from jackfield._server import create_app
from jackfield._server.listen import serving
from jackfield._server.metrics import OTHER, Metrics
from mockprovider import MockServer

KEY = "sk-metrics-test-key-0123456789"
PROMPT = "secret prompt words"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Return (sample name, labels) -> value for every sample of an exposition."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def metered(mock_server: MockServer, serve_app: Any, make_registry: Any) -> Registry:
    url = await serve_app(mock_server.app)
    registry: Registry = make_registry(
        [MeteredProvider()], base_urls={"mock": url},
        retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01, jitter=False))
    return registry


@pytest.fixture
async def server(metered: Registry) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        app = create_app(metered, api_key=KEY, metrics=True)
        yield str(await stack.enter_async_context(serving(app, max_connections=64)))


async def chat(http: aiohttp.ClientSession, url: str, model: str,
               stream: bool = False) -> int:
    async with http.post(f"{url}/v1/chat/completions",
                         headers={"Authorization": f"Bearer {KEY}"},
                         json={"model": model, "stream": stream,
                               "messages": [{"role": "user", "content": PROMPT}]}) as reply:
        await reply.read()
        return reply.status


async def scrape(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(f"{url}/metrics", headers={"Authorization": f"Bearer {KEY}"}) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain; version=")
        return await reply.text()


async def test_counts_are_exact_after_a_known_load(
        server: str, http: aiohttp.ClientSession, mock_server: MockServer) -> None:
    for _ in range(3):
        assert await chat(http, server, "mock/echo") == 200
    for _ in range(2):
        assert await chat(http, server, "parrot", stream=True) == 200
    mock_server.fail.append((503, {}, "{}"))  # one retried try, then an answer
    assert await chat(http, server, "mock/echo") == 200
    mock_server.fail += [(503, {}, "{}")] * 2  # both tries fail
    assert await chat(http, server, "mock/echo") == 502  # the provider failed: bad gateway
    assert await chat(http, server, "no-such-model") == 404  # refused before any call
    text = await scrape(http, server)
    found = samples(text)
    chat_route = "/v1/chat/completions"
    assert value(found, "jackfield_requests_total", route=chat_route, model="mock/echo",
                 provider="mock", status="200") == 4
    assert value(found, "jackfield_requests_total", route=chat_route, model="parrot",
                 provider="mock", status="200") == 2
    assert value(found, "jackfield_requests_total", route=chat_route, model="mock/echo",
                 provider="", status="502") == 1
    assert value(found, "jackfield_requests_total", route=chat_route, model="",
                 provider="", status="404") == 1
    assert value(found, "jackfield_request_duration_seconds_count", route=chat_route) == 8
    assert value(found, "jackfield_calls_total", operation="chat", model="mock/echo",
                 provider="mock", outcome="ok") == 4
    assert value(found, "jackfield_calls_total", operation="chat", model="parrot",
                 provider="mock", outcome="ok") == 2
    assert value(found, "jackfield_calls_total", operation="chat", model="mock/echo",
                 provider="", outcome="ProviderUnavailableError") == 1
    assert value(found, "jackfield_call_duration_seconds_count", operation="chat",
                 model="mock/echo", provider="mock") == 4
    assert value(found, "jackfield_time_to_first_token_seconds_count", model="parrot",
                 provider="mock") == 2
    assert value(found, "jackfield_overhead_seconds_count", operation="chat") == 6
    # The mock counts the prompt's 3 words, and one piece unstreamed, 6 pieces streamed.
    assert value(found, "jackfield_tokens_total", model="mock/echo", provider="mock",
                 type="prompt") == 4 * 3
    assert value(found, "jackfield_tokens_total", model="mock/echo", provider="mock",
                 type="completion") == 4 * 1
    assert value(found, "jackfield_tokens_total", model="parrot", provider="mock",
                 type="completion") == 2 * len(["You", "said:", "secret", "prompt", "words"])
    assert value(found, "jackfield_retries_total", provider="mock") == 2
    assert value(found, "jackfield_try_failures_total", provider="mock",
                 error="ProviderUnavailableError") == 3
    assert value(found, "jackfield_cooldowns_total", provider="mock") == 0
    assert KEY not in text and "secret" not in text and "no-such-model" not in text


async def test_fallbacks_and_cooldowns_are_counted(
        serve_app: Any, make_registry: Any, http: aiohttp.ClientSession) -> None:
    from jackfield import CooldownPolicy

    first, second = MockServer(), MockServer()
    registry = make_registry([MeteredProvider("one"), MeteredProvider("two")],
                             base_urls={"one": await serve_app(first.app),
                                        "two": await serve_app(second.app)},
                             cooldown=CooldownPolicy(failures=1, seconds=60))
    first.fail.append((401, {}, "{}"))
    async with serving(create_app(registry, metrics=True), max_connections=8) as url:
        assert await chat(http, str(url), "echo") == 200
        async with http.get(f"{url}/metrics") as reply:  # no key set: open, as the API is
            found = samples(await reply.text())
    assert value(found, "jackfield_fallbacks_total", from_provider="one",
                 to_provider="two") == 1
    assert value(found, "jackfield_cooldowns_total", provider="one") == 1
    assert value(found, "jackfield_calls_total", operation="chat", model="echo",
                 provider="two", outcome="ok") == 1
    # The app's observer left the registry at cleanup: its owner may go on using it.
    assert registry.plugin_manager.get_plugin("jackfield.metrics") is None


async def test_metrics_need_the_key_as_the_api_does(
        server: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server}/metrics") as reply:
        assert reply.status == 401
        assert "authentication_error" in json.dumps(await reply.json())


async def test_without_metrics_there_is_no_route(
        metered: Registry, http: aiohttp.ClientSession) -> None:
    async with serving(create_app(metered), max_connections=8) as url, \
            http.get(f"{url}/metrics") as reply:
        assert reply.status == 404
    assert metered.plugin_manager.get_plugin("jackfield.metrics") is None


async def test_model_labels_are_only_names_the_registry_lists(metered: Registry) -> None:
    metrics = Metrics()
    assert metrics._model("mock/echo") == OTHER  # not attached yet: nothing is known
    metrics.attach(metered)
    try:
        assert [metrics._model(name) for name in ("echo", "mock/echo", "parrot",
                                                  "mock/parrot", "mock/made-up", KEY)] == [
            "echo", "mock/echo", "parrot", "mock/parrot", OTHER, OTHER]
    finally:
        metrics.detach()


def test_metrics_without_prometheus_client_name_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from jackfield import ConfigurationError

    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    with pytest.raises(ConfigurationError, match=r"jackfield\[metrics\]"):
        create_app(Registry(plugins=[], environ={}), metrics=True)
