"""Anthropic's error replies as typed errors, through a registry on the emulator (scripted
replies put in front of it) and the error hook alone: 529 overloaded retried, 429 with
Retry-After, a used-up credit not retried, 401/403, 404 for a model, 400 with its param,
413; and errors inside a stream."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from anthropic_helpers import KEY, SONNET, anthropic_registry, reply_to

import jackfield_anthropic
from jackfield import (
    AuthenticationError,
    InvalidRequestError,
    ProviderUnavailableError,
    RateLimitError,
    RetryPolicy,
    UnknownModelError,
)
from jackfield.testing import STATS_KEY, RegistryFactory, ServeApp, make_error_reply
from jackfield_anthropic.emulator import create_app

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02)
Scripted = list[tuple[int, dict[str, Any], dict[str, str]]]


def error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message},
            "request_id": "req_011CTest"}


async def scripted_emulator(serve_app: ServeApp, replies: Scripted) -> tuple[str, Any]:
    """Serve the emulator behind a middleware that answers `replies` first, one a request."""
    from aiohttp import web

    app = create_app(api_key=KEY)
    queue = list(replies)

    @web.middleware
    async def script(request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        if request.path == "/v1/messages" and queue:
            status, body, headers = queue.pop(0)
            return web.json_response(body, status=status, headers=headers)
        return await handler(request)

    app.middlewares.append(script)
    return await serve_app(app), app


async def test_overloaded_529_is_retried(serve_app: ServeApp,
                                         make_registry: RegistryFactory) -> None:
    url, app = await scripted_emulator(serve_app, [
        (529, error("overloaded_error", "Overloaded"), {})] * 2)
    registry = anthropic_registry(make_registry, url, retry=FAST)
    assert (await registry.complete(f"anthropic/{SONNET}", "hi")).text == reply_to("hi")
    assert app[STATS_KEY].by_path["/v1/messages"] == 3
    url, app = await scripted_emulator(serve_app, [
        (529, error("overloaded_error", "Overloaded"), {})] * 3)
    registry = anthropic_registry(make_registry, url, retry=FAST)
    with pytest.raises(ProviderUnavailableError, match=r"overloaded.*HTTP 529.*Overloaded"):
        await registry.complete(f"anthropic/{SONNET}", "hi")


async def test_rate_limit_waits_for_retry_after_and_credit_is_not_retried(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    url, app = await scripted_emulator(serve_app, [
        (429, error("rate_limit_error", "Number of request tokens has exceeded your "
                    "per-minute rate limit"), {"retry-after": "0"})])
    registry = anthropic_registry(make_registry, url, retry=FAST)
    assert (await registry.complete(f"anthropic/{SONNET}", "hi")).text == reply_to("hi")
    assert app[STATS_KEY].by_path["/v1/messages"] == 2
    url, app = await scripted_emulator(serve_app, [
        (429, error("rate_limit_error", "slow down"), {"retry-after": "120"})])
    registry = anthropic_registry(make_registry, url, retry=FAST)
    with pytest.raises(RateLimitError) as raised:
        await registry.complete(f"anthropic/{SONNET}", "hi")
    assert raised.value.retry_after == 120 and not raised.value.quota
    url, app = await scripted_emulator(serve_app, [
        (400, error("invalid_request_error", "Your credit balance is too low to access the "
                    "Anthropic API. Please go to Plans & Billing to upgrade or purchase "
                    "credits."), {})] * 3)
    registry = anthropic_registry(make_registry, url, retry=FAST)
    with pytest.raises(RateLimitError, match="credit") as raised:
        await registry.complete(f"anthropic/{SONNET}", "hi")
    assert raised.value.quota and app[STATS_KEY].by_path["/v1/messages"] == 1


async def test_the_emulators_own_refusals(serve_app: ServeApp,
                                          make_registry: RegistryFactory) -> None:
    url = await serve_app(create_app(api_key=KEY))
    wrong = anthropic_registry(make_registry, url, key="sk-ant-wrong-key-000000000000")
    with pytest.raises(AuthenticationError, match="invalid x-api-key") as raised:
        await wrong.complete(f"anthropic/{SONNET}", "hi")
    assert "JACKFIELD_ANTHROPIC_API_KEY" in str(raised.value)
    assert "sk-ant-wrong" not in str(raised.value)
    registry = anthropic_registry(make_registry, url)
    with pytest.raises(UnknownModelError) as unknown:
        await registry.complete("anthropic/claude-nonexistent", "hi")
    assert "claude-nonexistent" in str(unknown.value) and "refresh" in str(unknown.value)
    with pytest.raises(InvalidRequestError) as invalid:
        await registry.complete(f"anthropic/{SONNET}", "hi", max_tokens=100_000)
    assert "maximum allowed number of output tokens" in str(invalid.value)
    assert invalid.value.param == "max_tokens"


@pytest.mark.parametrize(("status", "kind", "message", "expected", "param"), [
    (400, "invalid_request_error", "messages.1.content.0.image.source.base64: invalid "
     "base64 data", InvalidRequestError, "messages[1].content[0].image.source.base64"),
    (401, "authentication_error", "invalid x-api-key", AuthenticationError, None),
    (403, "permission_error", "Your API key does not have permission to use the specified "
     "resource.", AuthenticationError, None),
    (402, "billing_error", "Your credit balance is too low", RateLimitError, None),
    (413, "request_too_large", "Request exceeds the maximum allowed number of bytes.",
     InvalidRequestError, "messages"),
    (500, "api_error", "Internal server error", ProviderUnavailableError, None),
    (529, "overloaded_error", "Overloaded", ProviderUnavailableError, None),
])
def test_the_error_hook(status: int, kind: str, message: str, expected: type[Exception],
                        param: str | None) -> None:
    reply = make_error_reply("anthropic", status, json.dumps(error(kind, message)).encode(),
                             model=SONNET)
    typed = jackfield_anthropic.jackfield_error_reply(request=None, reply=reply)
    assert isinstance(typed, expected), typed
    assert message.split(":")[-1].strip()[:20] in str(typed)
    if isinstance(typed, InvalidRequestError):
        assert typed.param == param


def test_a_404_of_discovery_is_no_verdict_on_a_model() -> None:
    reply = make_error_reply("anthropic", 404, json.dumps(
        error("not_found_error", "Not found")).encode())
    typed = jackfield_anthropic.jackfield_error_reply(request=None, reply=reply)
    assert not isinstance(typed, UnknownModelError)
