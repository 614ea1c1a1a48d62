"""The helpers jackfield.provider offers every plugin: status mapping, HTML refusal, image URLs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web

from jackfield.provider import (
    AuthenticationError,
    HttpRequest,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
    error_for_status,
    image_urls,
)
from jackfield.testing import ProviderHarness, ServeApp


@pytest.mark.parametrize(("status", "error_type"), [
    (400, ProviderError), (401, AuthenticationError), (402, ProviderError),
    (403, AuthenticationError), (408, ProviderTimeoutError), (429, RateLimitError),
    (500, ProviderUnavailableError), (503, ProviderUnavailableError)])
def test_error_for_status_needs_only_a_status(status: int, error_type: type[Exception]) -> None:
    error = error_for_status("svc", status)
    assert type(error) is error_type
    assert error.status == status and error.provider == "svc"


def test_error_for_status_quotes_the_body_and_takes_its_own_reason() -> None:
    error = error_for_status("svc", 429, body='{"error": {"message": "slow down"}}',
                             reason="the service reported an error in its reply")
    assert str(error).startswith("svc: the service reported an error in its reply (HTTP 429)")
    assert "slow down" in str(error)


def test_error_for_status_reads_headers_in_any_case() -> None:
    error = error_for_status("svc", 429, headers={"retry-after": "7"})
    assert isinstance(error, RateLimitError) and error.retry_after == 7
    page = error_for_status("svc", 403, headers={"content-type": "text/html"},
                            body=b"<title>Just a moment...</title>", auth_hint="Set the token.")
    assert "Just a moment..." in str(page) and str(page).endswith("Set the token.")


def test_payment_required_says_to_pick_another_model() -> None:
    error = error_for_status("svc", 402, body='{"message": "balance is not enough"}')
    assert "balance is not enough" in str(error) and "Pick another model" in str(error)


BASE = "https://api.example.com/v1/images"


def test_image_urls_resolves_relative_urls_against_the_reply() -> None:
    document = {"data": [{"url": "/files/a.png"}, {"url": " https://cdn.example.org/b.png "}]}
    assert image_urls("svc", document, BASE) == [
        "https://api.example.com/files/a.png", "https://cdn.example.org/b.png"]


def test_image_urls_reads_another_key() -> None:
    assert image_urls("svc", {"images": [{"url": "x.png"}]}, BASE, key="images") == [
        "https://api.example.com/v1/x.png"]


@pytest.mark.parametrize(("document", "problem"), [
    ({}, "no 'data' list"), ({"data": []}, "no 'data' list"), ([BASE], "no 'data' list"),
    ({"data": {"url": BASE}}, "no 'data' list"), ({"data": [BASE]}, "has no 'url'"),
    ({"data": [{"url": ""}]}, "has no 'url'"), ({"data": [{"url": 5}]}, "has no 'url'"),
    ({"data": [{"url": "file:///etc/passwd"}]}, "not http(s)"),
    ({"data": [{"url": "ftp://example.org/x.png"}]}, "not http(s)"),
])
def test_image_urls_refuses_what_is_not_a_list_of_web_urls(document: Any, problem: str) -> None:
    with pytest.raises(ResponseFormatError, match=re.escape(problem)):
        image_urls("svc", document, BASE)


def page_app(body: str, content_type: str) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/", answer)
    return app


async def test_refuse_html_names_the_page(serve_app: ServeApp) -> None:
    url = await serve_app(page_app("<html><title> Just a moment... </title></html>", "text/html"))
    async with ProviderHarness() as harness:
        response = await harness.send("svc", HttpRequest("GET", url))
        try:
            with pytest.raises(ResponseFormatError) as caught:
                await response.refuse_html()
        finally:
            response.release()
    assert "an HTML page titled 'Just a moment...'" in str(caught.value)
    assert "bot challenge or a login page" in str(caught.value)


async def test_refuse_html_leaves_other_replies_unread(serve_app: ServeApp) -> None:
    url = await serve_app(page_app('{"ok": true}', "application/json"))
    async with ProviderHarness() as harness:
        response = await harness.send("svc", HttpRequest("GET", url))
        try:
            await response.refuse_html()
            assert await response.json() == {"ok": True}
        finally:
            response.release()
