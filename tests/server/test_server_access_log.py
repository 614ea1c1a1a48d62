"""The access log: one line per request on `jackfield.access`, with the route's pattern,
model, provider, status, latency and tokens, and never a key or prompt text; and
`serve --timeout` (create_app(call_timeout=)) bounding a whole call."""

from __future__ import annotations

import logging
import time
from typing import Any

import openai
import pytest
from server_helpers import MakeClient, StartServer

from jackfield import Registry, RetryPolicy, Timeouts
from jackfield._server import create_app
from mockprovider import MockProvider, MockServer

KEY = "sk-server-key-7d1e0f9a"
PROMPT = "the secret plan is pineapples"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "jackfield.access"]


async def test_a_call_is_one_line_with_model_provider_status_and_tokens(
        native_registry: Registry, start_server: StartServer, client: MakeClient,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jackfield.access")
    api = client(await start_server(native_registry, api_key=KEY), api_key=KEY)
    await api.chat.completions.create(model="native/omni",
                                      messages=[{"role": "user", "content": PROMPT}])
    (line,) = _lines(caplog)
    assert line.startswith("POST /v1/chat/completions model=native/omni provider=native "
                           "status=200 latency_ms=")
    assert "tokens=" in line and "tokens=-" not in line
    assert KEY not in caplog.text and "pineapples" not in caplog.text


async def test_a_stream_is_logged_when_it_ends_with_its_provider(
        native_registry: Registry, start_server: StartServer, client: MakeClient,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jackfield.access")
    api = client(await start_server(native_registry))
    stream = await api.chat.completions.create(
        model="native/omni", messages=[{"role": "user", "content": PROMPT}], stream=True)
    async for _ in stream:
        pass
    (line,) = _lines(caplog)
    assert "provider=native status=200" in line and "pineapples" not in line


async def test_refusals_and_unknown_routes_are_logged_by_pattern_not_path(
        native_registry: Registry, start_server: StartServer,
        caplog: pytest.LogCaptureFixture) -> None:
    import aiohttp

    caplog.set_level(logging.INFO, logger="jackfield.access")
    url = await start_server(native_registry, api_key=KEY)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/v1/models/native/omni?key={KEY}",
                               headers={"Authorization": f"Bearer {KEY}"}) as reply:
            assert reply.status == 200
        async with session.post(f"{url}/v1/chat/completions", json={}) as reply:
            assert reply.status == 401
        async with session.get(f"{url}/nowhere/{KEY}") as reply:
            assert reply.status in (401, 404)
    lines = _lines(caplog)
    assert lines[0].startswith("GET /v1/models/{model} model=- provider=- status=200")
    assert lines[1].startswith("POST /v1/chat/completions model=- provider=- status=401")
    assert len(lines) == 3 and KEY not in caplog.text


async def test_call_timeout_ends_a_call_that_takes_too_long_with_504(
        mock_server: MockServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    registry: Registry = make_registry(
        [MockProvider()], base_urls={"mock": await serve_app(mock_server.app)},
        retry=RetryPolicy(attempts=1), timeouts=Timeouts(connect=5, read_idle=30, total=60))
    mock_server.stall = 30
    api = client(await start_server(registry, call_timeout=0.5))
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        await api.chat.completions.create(model="mock/echo", stream=True,
                                          messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 504
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan")])
def test_call_timeout_must_be_a_positive_finite_number(bad: float) -> None:
    with pytest.raises(ValueError, match="call_timeout"):
        create_app(Registry(plugins=[]), call_timeout=bad)


async def test_the_line_passes_the_loggers_filters_and_keeps_a_percent_sign(
        native_registry: Registry, start_server: StartServer,
        caplog: pytest.LogCaptureFixture) -> None:
    """The middleware hands its record to the logger directly (no stack walk): the logger's
    own filters still decide, and the client's text is never a format string."""
    import aiohttp

    caplog.set_level(logging.INFO, logger="jackfield.access")
    logger = logging.getLogger("jackfield.access")
    url = await start_server(native_registry)
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/v1/chat/completions",
                                json={"model": "100%s-model", "messages": []}) as reply:
            await reply.read()
        (line,) = _lines(caplog)
        assert "model=100%s-model" in line
        record = next(r for r in caplog.records if r.name == "jackfield.access")
        assert record.levelno == logging.INFO and record.funcName == "access_log"

        def refuse(record: logging.LogRecord) -> bool:
            return False

        logger.addFilter(refuse)
        try:
            async with session.get(url + "/v1/models") as reply:
                await reply.read()
        finally:
            logger.removeFilter(refuse)
    assert len(_lines(caplog)) == 1
