"""The masking of secrets itself: which values, in which forms, and what it leaves alone."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from jackfield import AuthenticationError, PluginError, ProviderError
from jackfield._errors import excerpt
from jackfield._secrets import (
    LOGGERS,
    Redactor,
    credential_headers,
    header_secrets,
    mask_known,
    redact_call_error,
    remember,
)
from jackfield.provider import HttpRequest, ProviderConfig

SECRET = "s3cr3t-0a1b2c3d4e5f"


def test_short_values_are_masked_only_where_they_cannot_garble_text() -> None:
    redactor = Redactor(["ab", "abc", "k3y9", SECRET])
    assert redactor.mask("ab abc xab") == "ab abc xab"  # under 4 characters: never
    assert redactor.mask("k3y9, xk3y9 and k3y9z") == "***, xk3y9 and k3y9z"  # whole words
    assert redactor.mask(f"id{SECRET}x") == "id***x"  # long ones anywhere


def test_escaped_and_encoded_forms_are_masked() -> None:
    odd = 'p@ss"wörd/12345'
    redactor = Redactor([odd])
    for form in (odd, json.dumps(odd)[1:-1], json.dumps(odd, ensure_ascii=False)[1:-1],
                 quote(odd, safe="")):
        assert redactor.mask(f"got <{form}>") == "got <***>", form


def test_a_secret_cut_by_the_excerpt_is_masked_up_to_the_cut() -> None:
    redactor = Redactor([SECRET])
    for filler in ("x" * 190, "y" * 188 + " ", "z" * 195):
        cut = excerpt(filler + SECRET)
        assert cut.endswith("…") and SECRET not in cut
        masked = redactor.mask(cut)
        assert masked.endswith("***…"), masked
        assert SECRET[:4] not in masked


def test_credential_shapes_are_masked_without_knowing_the_value() -> None:
    redactor = Redactor([])
    echoed = ('{"authorization": "Bearer unknownToken123", "cookie": "a=1; sid=zz"} '
              "Cookie: a=1; sid=zz Host: x  {'x-api-key': 'k-77'} Authorization: Basic dXNlcjpw "
              "via http://user:hunter22@proxy:3128/")
    assert redactor.mask(echoed) == (
        '{"authorization": "Bearer ***", "cookie": "***"} Cookie: *** Host: x  '
        "{'x-api-key': '***'} Authorization: Basic *** via http://user:***@proxy:3128/")


@pytest.mark.parametrize("text", [
    "This server needs an API key: send `Authorization: Bearer <key>`.",
    "the setting 'cookie' is not configured. Set JACKFIELD_AICHATS_COOKIE or "
    "Registry(config={'aichats': {'cookie': ...}}).",
    "The amigochat token contains spaces or control characters; set it again.",
    "Copy the cookie header your browser sends to ai-chats.org.",
    "the provider refused our credentials (HTTP 401); the provider said: bad token",
    "Authorization: Bearer",
    "could not connect to http://127.0.0.1:8001/v1/chat (Connect call failed)",
])
def test_our_own_messages_are_left_alone(text: str) -> None:
    assert Redactor([SECRET]).mask(text) == text


def test_masking_twice_changes_nothing_more() -> None:
    redactor = Redactor([SECRET, "sid=abcdefgh12; x=y"])
    once = redactor.mask(f'"Cookie": "sid=abcdefgh12; x=y", token {SECRET}, Bearer {SECRET}')
    assert redactor.mask(once) == once and SECRET not in once and "abcdefgh12" not in once


def test_texts_remembered_as_clean_are_only_those_without_a_secret() -> None:
    # The redactor remembers short texts it found nothing in (a model id on every access
    # log line); a text that held a secret, or its shape, is masked anew every time.
    redactor = Redactor([SECRET])
    for _ in range(3):
        assert redactor.mask("gpt-4o-mini") == "gpt-4o-mini"
        assert redactor.mask(f"model {SECRET}") == "model ***"
        assert redactor.mask("Bearer sk-abcdefghijklmnop") == "Bearer ***"
    assert SECRET not in "".join(redactor._clean) and "sk-abc" not in "".join(redactor._clean)
    long_text = "x" * 500
    assert redactor.mask(long_text) == long_text and long_text not in redactor._clean
    for number in range(3000):  # bounded, and still right after it was emptied
        assert redactor.mask(f"model-{number}") == f"model-{number}"
    assert len(redactor._clean) <= 1024
    assert redactor.mask(f"{SECRET}") == "***"
    # A secret remembered later reaches a new redactor, whose memory starts empty.
    later = "model-remembered-later-0a1b2c"
    assert mask_known(later) == later  # clean so far, and remembered as clean
    remember(later)
    assert mask_known(later) == "***"


def test_the_credential_values_of_sent_headers() -> None:
    found = header_secrets({"Authorization": "Bearer tok12345", "cookie": "sid=long-session-1; "
                            "theme=dark", "X-Api-Key": "key-1", "Accept": "text/plain",
                            "Proxy-Authorization": "Bearer"})
    assert found == ["Bearer tok12345", "tok12345", "sid=long-session-1; theme=dark",
                     "long-session-1", "key-1"]


def test_the_headers_a_stream_keeps_are_those_that_may_carry_a_credential() -> None:
    sent = {"Authorization": "Bearer tok12345", "cookie": "sid=long-session-1; theme=dark",
            "x-api-key": "key-1", "Accept": "text/plain", "X-Device-UUID": "6f9619ff"}
    kept = credential_headers(sent)
    assert dict(kept) == {"Authorization": "Bearer tok12345",
                          "cookie": "sid=long-session-1; theme=dark", "x-api-key": "key-1"}
    assert header_secrets(kept) == header_secrets(sent)
    assert dict(credential_headers({"Accept": "*/*"})) == {}


def test_an_error_is_masked_in_place_with_its_causes_and_attributes() -> None:
    try:
        try:
            raise KeyError(f"no {SECRET}")
        except KeyError as inner:
            raise PluginError("mock", "jackfield_parse_response", f"KeyError: {inner}") from inner
    except PluginError as caught:
        error = caught
    same = Redactor([SECRET]).mask_error(error)
    assert same is error and SECRET not in str(error) + repr(error)
    assert isinstance(error.__cause__, KeyError) and SECRET not in str(error.__cause__)
    auth = AuthenticationError("mock", "refused", status=401, body=f"token={SECRET}",
                               advice=f"not {SECRET}")
    Redactor([SECRET]).mask_error(auth)
    texts = [str(auth), auth.body_excerpt, auth.summary, auth.advice]
    assert not [t for t in texts if SECRET in t] and auth.status == 401


def test_a_foreign_cause_with_odd_arguments_survives_masking() -> None:
    class Odd(OSError):
        pass

    error = ProviderError("mock", f"failed {SECRET}")
    error.__cause__ = Odd(111, f"refused {SECRET}")
    Redactor([SECRET]).mask_error(error)
    assert SECRET not in str(error) and error.__cause__.errno == 111


@pytest.mark.parametrize("name", ["jackfield", "jackfield._server"])
def test_log_records_are_masked_with_the_secrets_seen(
        name: str, caplog: pytest.LogCaptureFixture) -> None:
    secret = f"{SECRET}-{name}"
    remember(secret)
    caplog.set_level(logging.DEBUG, logger=name)
    logger = logging.getLogger(name)
    logger.debug("sent %s", secret)
    try:
        raise ValueError(f"boom {secret}")
    except ValueError:
        logger.exception("failed with Authorization: Bearer %s", "someUnknownToken")
    assert secret not in caplog.text and "someUnknownToken" not in caplog.text
    assert "sent ***" in caplog.text and "boom ***" in caplog.text
    assert mask_known(f"key {secret}") == "key ***"


def test_every_logger_of_the_core_is_masked() -> None:
    core = Path(__file__).resolve().parents[2] / "core" / "jackfield"
    names = {match for path in core.rglob("*.py")
             for match in re.findall(r'getLogger\("([^"]+)"\)', path.read_text())}
    assert names and names <= set(LOGGERS)


def test_a_try_is_masked_with_its_config_headers_and_proxy() -> None:
    config = ProviderConfig("mock", "http://user:base-pass-123@127.0.0.1:9", {"token": SECRET,
                            "region": "eu-west-1"}, frozenset({"token"}))
    request = HttpRequest("POST", "http://127.0.0.1:9/chat",
                          headers={"X-Api-Key": "header-key-42", "Accept": "text/plain"})
    error = ProviderError("mock", f"{SECRET} header-key-42 base-pass-123 proxy-pass-99 "
                                  "eu-west-1 text/plain")
    redact_call_error(error, config, request.headers, "http://u:proxy-pass-99@127.0.0.1:3128")
    assert str(error).startswith("mock: *** *** *** *** eu-west-1 text/plain")
