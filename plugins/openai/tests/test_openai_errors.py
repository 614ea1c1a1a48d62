"""OpenAI's error object mapped to typed errors, through a Registry over real HTTP; errors
inside a stream; and no key in any error text or repr."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from openai_helpers import KEY, OTHER_KEY, openai_registry

from jackfield import (
    AuthenticationError,
    InvalidRequestError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    Registry,
    ResponseFormatError,
    RetryPolicy,
    UnknownModelError,
)
from jackfield.testing import Emulator, RegistryFactory, ServeApp

NO_RETRY = RetryPolicy(attempts=1)


def error(message: str, type_: str = "invalid_request_error", param: str | None = None,
          code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


async def answering(serve_app: ServeApp, status: int, body: Any,
                    content_type: str = "application/json", seen: list[str] | None = None,
                    ) -> str:
    """Serve an app whose every POST answers status/body; return its base URL."""
    async def reply(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append(request.path)
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(status=status, text=text, content_type=content_type)

    app = web.Application()
    app.router.add_post("/v1/{path:.*}", reply)
    return await serve_app(app)


@pytest.mark.parametrize(("status", "body", "kind", "says"), [
    (404, error("The model `m1` does not exist or you do not have access to it.",
                code="model_not_found"), UnknownModelError, "openai has no model 'm1'"),
    (404, {"error": "model 'm1' not found"}, UnknownModelError, "model 'm1' not found"),
    (400, error("This model's maximum context length is 8192 tokens.", param="messages",
                code="context_length_exceeded"), InvalidRequestError,
     "maximum context length is 8192 tokens"),
    (400, error("Invalid 'top_p': 7 is out of range.", param="top_p"), InvalidRequestError,
     "Invalid 'top_p'"),
    (429, error("You exceeded your current quota, please check your plan.",
                "insufficient_quota", code="insufficient_quota"), RateLimitError,
     "not a burst limit"),
    (429, error("Rate limit reached for requests", "requests", code="rate_limit_exceeded"),
     RateLimitError, "rate limited"),
    (401, error("Incorrect API key provided.", code="invalid_api_key"), AuthenticationError,
     "Incorrect API key provided"),
    (403, error("Your organization is not allowed to use this model.",
                "permission_denied"), AuthenticationError, "not allowed to use this model"),
    (500, error("The server had an error while processing your request.", "server_error"),
     ProviderUnavailableError, "The server had an error"),
    (503, "upstream connect error", ProviderUnavailableError, "HTTP 503"),
    (418, error("I am a teapot", "odd_error"), ProviderError, "I am a teapot"),
])
async def test_error_replies_become_typed_errors(serve_app: ServeApp,
                                                 make_registry: RegistryFactory, status: int,
                                                 body: Any, kind: type[Exception],
                                                 says: str) -> None:
    url = await answering(serve_app, status, body)
    registry = openai_registry(make_registry, url, retry=NO_RETRY)
    with pytest.raises(kind) as raised:
        await registry.complete("openai/m1", "hi")
    text = str(raised.value)
    assert says in text, text
    assert KEY not in text and KEY not in repr(raised.value)
    if kind is InvalidRequestError:
        assert raised.value.param == body["error"]["param"]  # type: ignore[attr-defined]
    if status == 401:
        assert "JACKFIELD_OPENAI_API_KEY" in text  # says how to set the key


async def test_a_401_from_the_emulator_says_the_key_was_refused(
        emulator: Emulator, make_registry: RegistryFactory) -> None:
    registry = openai_registry(make_registry, emulator.url, key=OTHER_KEY)
    with pytest.raises(AuthenticationError) as raised:
        await registry.complete("openai/gpt-4o-mini", "hi")
    text = str(raised.value)
    assert "refused the API key" in text and "Incorrect API key provided" in text
    assert OTHER_KEY not in text and KEY not in text
    await registry.refresh_models()
    warning = registry.discovery_warnings()["openai"]
    assert "Incorrect API key" in warning and OTHER_KEY not in warning


def stream_body(*events: Any) -> str:
    return "".join(f"data: {json.dumps(e) if not isinstance(e, str) else e}\n\n"
                   for e in events)


CHUNK = {"object": "chat.completion.chunk",
         "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": None}]}


@pytest.mark.parametrize(("error_object", "kind"), [
    ({"message": "Rate limit reached", "type": "rate_limit_error"}, RateLimitError),
    ({"message": "the upstream provider failed", "type": "provider_error",
      "code": "provider_unavailable"}, ProviderUnavailableError),
    ({"message": "took too long", "type": "timeout_error"}, ProviderTimeoutError),
    ({"message": "something odd", "type": "weird"}, ProviderError),
])
async def test_an_error_in_the_stream_is_raised_not_answered(
        serve_app: ServeApp, make_registry: RegistryFactory, error_object: dict[str, Any],
        kind: type[Exception]) -> None:
    url = await answering(serve_app, 200, stream_body({"error": error_object}),
                          "text/event-stream")
    registry = openai_registry(make_registry, url, retry=NO_RETRY)
    reply = await registry.complete("openai/m1", "hi", stream=True)
    with pytest.raises(kind) as raised:
        [chunk async for chunk in reply]
    assert error_object["message"] in str(raised.value)


async def test_an_error_after_text_is_a_partial_reply(serve_app: ServeApp,
                                                      make_registry: RegistryFactory) -> None:
    url = await answering(serve_app, 200, stream_body(CHUNK, {"error": {
        "message": "overloaded", "type": "server_error"}}), "text/event-stream")
    registry = openai_registry(make_registry, url, retry=NO_RETRY)
    with pytest.raises(ProviderError) as raised:
        await registry.complete("openai/m1", "hi")
    assert "overloaded" in str(raised.value)
    assert "partial" not in str(raised.value).split("said:")[0]  # not given as the answer


@pytest.mark.parametrize(("body", "content_type", "says"), [
    ("<!DOCTYPE html><html><title>Login</title></html>", "text/html", "HTML page"),
    (stream_body("this is not JSON"), "text/event-stream", "not JSON"),
    ("", "text/event-stream", "without any chat chunk"),
    (json.dumps({"choices": []}), "application/json", "no choices[0]"),
    (json.dumps({"choices": [{"index": 0, "message": {"role": "assistant"}}]}),
     "application/json", "neither content nor tool_calls"),
])
async def test_replies_off_the_protocol_are_format_errors(
        serve_app: ServeApp, make_registry: RegistryFactory, body: str, content_type: str,
        says: str) -> None:
    url = await answering(serve_app, 200, body, content_type)
    registry = openai_registry(make_registry, url, retry=NO_RETRY)
    with pytest.raises(ResponseFormatError) as raised:
        if content_type == "text/event-stream":
            [chunk async for chunk in await registry.complete("openai/m1", "hi", stream=True)]
        else:
            await registry.complete("openai/m1", "hi")
    assert says in str(raised.value)


async def test_no_key_in_reprs_or_configs(registry: Registry) -> None:
    config = registry.config("openai")
    assert KEY not in repr(config) and KEY not in str(registry)
    from jackfield_openai.wire import models_request

    built = models_request(config)
    assert built.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(built)


async def test_a_used_up_quota_is_not_retried_but_a_burst_limit_is(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    retry = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.01, jitter=False)
    quota: list[str] = []
    url = await answering(serve_app, 429, error("You exceeded your current quota.",
                                                 "insufficient_quota",
                                                 code="insufficient_quota"), seen=quota)
    with pytest.raises(RateLimitError) as raised:
        await openai_registry(make_registry, url, retry=retry).complete("openai/m1", "hi")
    assert raised.value.quota and len(quota) == 1  # waiting does not lift a quota
    burst: list[str] = []
    url = await answering(serve_app, 429, error("Rate limit reached", "requests",
                                                 code="rate_limit_exceeded"), seen=burst)
    with pytest.raises(RateLimitError) as raised:
        await openai_registry(make_registry, url, retry=retry).complete("openai/m1", "hi")
    assert not raised.value.quota and len(burst) == 3
