"""Recording at the transport: what a fixture holds for the seed plugins and openai, streamed
and not, and that nothing records outside capture()."""

from __future__ import annotations

import json

import pytest
from record_helpers import record

import jackfield
import jackfield_aichats
import jackfield_amigochat
import jackfield_openai
from jackfield._http.recording import FORMAT, VERSION, capture, check_fixture, decode_chunks
from jackfield._http.response import HttpResponse
from jackfield._http.transport import Transport
from jackfield._settings.limits import Limits, RetryPolicy, Timeouts
from jackfield._types.requests import HttpRequest
from jackfield.testing import RegistryFactory, ServeApp
from jackfield_aichats.emulator import create_app as aichats_app
from jackfield_amigochat.emulator import create_app as amigochat_app
from jackfield_openai.emulator import create_app as openai_app

OPENAI_KEY = "sk-record-test-not-a-secret-0123456789"
ONE_TRY = RetryPolicy(attempts=1)


@pytest.mark.parametrize("stream", [True, False])
async def test_an_openai_call_is_recorded_with_its_listing(
        serve_app: ServeApp, make_registry: RegistryFactory, stream: bool) -> None:
    url = await serve_app(openai_app(api_key=OPENAI_KEY))
    registry = make_registry([jackfield_openai], retry=ONE_TRY, config={
        "openai": {"base_url": f"{url}/v1", "api_key": OPENAI_KEY}})
    data, failure = await record(registry, "openai/gpt-4o-mini", "hello there", stream=stream)
    assert failure is None
    assert check_fixture(json.loads(json.dumps(data)), "test") == data  # JSON as written
    assert (data["format"], data["version"], data["jackfield"]) == (FORMAT, VERSION,
                                                                    jackfield.__version__)
    assert data["provider"] == "openai" and data["model"] == "gpt-4o-mini"
    assert data["plugin"]["distribution"] == "jackfield-openai" and data["plugin"]["version"]
    assert data["base_url"] == f"{url}/v1" and data["recorded_at"].endswith("+00:00")
    assert data["call"] == {"model": "openai/gpt-4o-mini", "stream": stream, "options": {},
                            "messages": [{"role": "user", "content": "hello there"}]}
    # The discovering plugin lists the models first: that exchange is recorded too.
    listing, chat = data["exchanges"]
    assert (listing["request"]["method"], listing["request"]["path"]) == ("GET", "/v1/models")
    request, response = chat["request"], chat["response"]
    assert (request["method"], request["path"], request["query"]) == (
        "POST", "/v1/chat/completions", "")
    assert request["headers"]["authorization"] == "Bearer <redacted:api_key>"
    assert request["json"]["model"] == "gpt-4o-mini"
    assert request["json"].get("stream", False) is stream
    assert request["json"]["messages"] == [{"role": "user", "content": "hello there"}]
    assert response["status"] == 200
    # The parser stops at [DONE]: whatever may follow it was not read, nor recorded.
    assert response["complete"] is (not stream)
    body = b"".join(decode_chunks(response)).decode()
    assert data["outcome"]["text"] and data["outcome"]["error"] is None
    headers = dict(response["headers"])
    if stream:
        assert headers["Content-Type"].startswith("text/event-stream")
        assert all(response["chunks"])  # as they arrived: how many depends on the timing
        assert body.rstrip().endswith("data: [DONE]")
    else:
        assert json.loads(body)["choices"][0]["message"]["content"] == data["outcome"]["text"]


@pytest.mark.parametrize("stream", [True, False])
async def test_the_seed_plugins_are_recorded(serve_app: ServeApp,
                                             make_registry: RegistryFactory,
                                             stream: bool) -> None:
    cookie = "session=seed-cookie-abcdef12"
    registry = make_registry(
        [jackfield_aichats, jackfield_amigochat], retry=ONE_TRY,
        base_urls={"aichats": await serve_app(aichats_app(cookie=cookie)),
                   "amigochat": await serve_app(amigochat_app(token="amigo-token-123456"))},
        config={"aichats": {"cookie": cookie}, "amigochat": {"token": "amigo-token-123456"}})
    aichats, failure = await record(registry, "aichats/gpt-4", stream=stream)
    assert failure is None and aichats["outcome"]["text"]
    assert [e["request"]["path"] for e in aichats["exchanges"]] == ["/chat/send2/"]
    sent = {k.lower(): v for k, v in aichats["exchanges"][0]["request"]["headers"].items()}
    assert sent["cookie"] == "<redacted:cookie>"
    amigo, failure = await record(registry, "amigochat/gpt-4o", stream=stream)
    assert failure is None and amigo["outcome"]["text"]
    request = amigo["exchanges"][0]["request"]
    assert request["path"] == "/v1/chat/completions"
    sent = {k.lower(): v for k, v in request["headers"].items()}
    assert sent["authorization"] == "Bearer <redacted:token>"
    assert "seed-cookie" not in json.dumps(aichats) + json.dumps(amigo)
    assert "amigo-token" not in json.dumps(amigo)


async def test_a_failed_call_is_recorded_with_its_error(serve_app: ServeApp,
                                                        make_registry: RegistryFactory) -> None:
    app = openai_app(api_key=OPENAI_KEY)
    url = await serve_app(app)
    registry = make_registry([jackfield_openai], retry=ONE_TRY, config={
        "openai": {"base_url": f"{url}/v1", "api_key": OPENAI_KEY}})
    await registry.refresh_models()
    from jackfield.testing import FAULTS_KEY

    app[FAULTS_KEY].set("rate_limit")
    data, failure = await record(registry, "openai/gpt-4o-mini")
    assert isinstance(failure, jackfield.RateLimitError)
    (exchange,) = data["exchanges"]
    assert exchange["response"]["status"] == 429
    assert data["outcome"] == {"text": None, "finish_reason": None, "error": {
        "type": "RateLimitError", "message": str(failure)}}


async def test_a_call_refused_before_any_io_records_nothing_and_raises(
        make_registry: RegistryFactory) -> None:
    registry = make_registry([jackfield_aichats], config={"aichats": {"cookie": "c=1234567"}})
    with pytest.raises(jackfield.UnknownModelError):
        await record(registry, "no-such-model")
    with pytest.raises(jackfield.InvalidRequestError):
        await record(registry, "aichats/gpt-4", temperature="hot")


async def test_outside_capture_the_transport_returns_plain_responses(
        serve_app: ServeApp) -> None:
    app = openai_app()
    url = await serve_app(app)
    transport = Transport(timeouts=Timeouts(), limits=Limits())
    try:
        response = await transport.send("openai", HttpRequest("GET", f"{url}/v1/models"))
        assert type(response) is HttpResponse  # no recording wrapper: nothing to pay for
        await response.read()
        response.release()
        with capture() as recorder:
            response = await transport.send("openai", HttpRequest("GET", f"{url}/v1/models"))
            assert type(response) is not HttpResponse
            await response.read()
            response.release()
        response = await transport.send("openai", HttpRequest("GET", f"{url}/v1/models"))
        assert type(response) is HttpResponse
        await response.read()
        response.release()
    finally:
        await transport.aclose()
    (exchange,) = recorder.exchanges
    assert exchange.status == 200 and exchange.complete
    assert json.loads(b"".join(exchange.chunks))["data"]
