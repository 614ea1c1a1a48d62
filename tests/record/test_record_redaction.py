"""A recording holds no secret however it was placed: header, query, body, URL password, a
reply's cookie, and the service's echo of any of them, even cut across two chunks."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from record_helpers import KEY, PASSWORD, SESSION, TOKEN, Leaky, echo_app, leaks, record

from jackfield._http.fixture_masks import FixtureMasker, masked_chunks
from jackfield._http.recording import decode_chunks
from jackfield._settings.limits import RetryPolicy
from jackfield.testing import RegistryFactory, ServeApp


@pytest.mark.parametrize("stream", [True, False])
async def test_no_secret_survives_in_a_recording(serve_app: ServeApp,
                                                 make_registry: RegistryFactory,
                                                 stream: bool) -> None:
    url = await serve_app(echo_app())
    registry = make_registry([Leaky()], retry=RetryPolicy(attempts=1), config={
        "leaky": {"base_url": url, "key": KEY, "token": TOKEN}})
    data, failure = await record(registry, "leaky/leak-1", f"is {KEY} safe?", stream=stream)
    assert failure is None
    # The call worked with the real values, and its reply did quote them.
    assert KEY in data["outcome"]["text"] or "<redacted:key>" in data["outcome"]["text"]
    written = json.dumps(data, ensure_ascii=False)
    assert leaks(written) == []
    for secret in (KEY, TOKEN, SESSION, PASSWORD):
        assert quote(secret) not in written
        assert base64.b64encode(secret.encode()).decode()[:12] not in written
    (exchange,) = data["exchanges"]
    request, response = exchange["request"], exchange["response"]
    assert request["query"] == "key=<redacted:key>&mode=x"
    assert request["headers"] == {"x-api-key": "<redacted:key>",
                                  "Authorization": "Bearer <redacted:token>",
                                  "Content-Type": "application/json"}
    assert request["json"]["auth"] == "<redacted:key>"
    assert request["json"]["note"] == "my key is <redacted:key>"
    assert request["json"]["messages"][0]["content"] == "is <redacted:key> safe?"
    assert dict(response["headers"])["Set-Cookie"] == "<redacted:set-cookie>"
    body = b"".join(decode_chunks(response)).decode()
    assert "<redacted:key>" in body and "<redacted:token>" in body
    assert "<redacted:set-cookie>" in body  # the session cookie, echoed in the stream's end
    if stream:
        # The key was cut across two chunks: those two are one now, the others kept apart.
        assert len(response["chunks"]) == 2
        assert response["chunks"][1].startswith("data: ") and SESSION[:6] not in body


def test_chunks_keep_their_boundaries_unless_a_secret_crosses_one() -> None:
    masker = FixtureMasker([("key", "abcdefgh-secret")])
    chunks = [b"data: one\n\n", b"data: abcdefgh-secret\n\n", b"data: x abcd", b"efgh-secret"]
    out = masked_chunks(chunks, masker)
    assert out == [b"data: one\n\n", b"data: <redacted:key>\n\n", b"data: x <redacted:key>"]
    assert masked_chunks([b"no secret", b" here"], masker) == [b"no secret", b" here"]
    # A body that is no UTF-8 loses its known secrets byte by byte.
    assert masked_chunks([b"\xff\xfeabcdefgh-secret\xff"], masker) == [
        b"\xff\xfe<redacted:key>\xff"]


def test_the_passwords_of_the_base_url_and_the_proxy_are_masked() -> None:
    masker = FixtureMasker.for_provider({}, {"X-Auth-Token": "gateway-key-123456"},
                                        f"https://user:{PASSWORD}@example.test/v1",
                                        proxy="http://me:proxy-pass-98765@127.0.0.1:3128")
    assert masker.text(f"https://user:{PASSWORD}@example.test/v1") == (
        "https://user:<redacted:password>@example.test/v1")
    assert masker.text("proxy-pass-98765 gateway-key-123456") == (
        "<redacted:proxy-password> <redacted:x-auth-token>")


def test_a_credential_header_of_unknown_value_keeps_only_its_scheme() -> None:
    masker = FixtureMasker([("api_key", "sk-known-value-1234")])
    assert masker.header_value("Authorization", "Bearer sk-known-value-1234") == (
        "Bearer <redacted:api_key>")
    # An unknown credential of the core's shapes is masked as the core masks it anywhere.
    assert masker.header_value("Authorization", "Basic dXNlcjpwYXNz") == "Basic ***"
    assert masker.header_value("Authorization", "Token abc") == "Token <redacted:authorization>"
    assert masker.header_value("X-Api-Key", "abc") == "<redacted:x-api-key>"
    assert masker.header_value("Content-Type", "application/json") == "application/json"
    # Credential shapes the core masks everywhere are masked in any text too.
    assert masker.text("curl -H 'Authorization: Bearer zzzzzzzzzzzz'") == (
        "curl -H 'Authorization: Bearer ***'")
