"""jackfield_build_request: the body and headers of shared/protocols/amigochat.md, no I/O."""

from __future__ import annotations

import uuid

import pytest
from amigochat_helpers import TOKEN, build, make_config, make_request

import jackfield_amigochat
from jackfield.provider import CompletionRequest, InvalidRequestError

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]


def test_chat_body_is_exactly_the_documented_one() -> None:
    http = build(make_request(MESSAGES, "gpt-4o", stream=True), make_config())
    assert (http.method, http.url, http.stream) == (
        "POST", "https://api.amigochat.io/v1/chat/completions", True)
    body = dict(http.json)
    chat_id = body.pop("chatId")
    assert uuid.UUID(chat_id).version == 4
    assert body == {
        "frequency_penalty": 0, "max_tokens": 4000, "messages": MESSAGES,
        "model": "gpt-4o-2024-11-20", "personaId": "gpt", "presence_penalty": 0,
        "stream": True, "temperature": 0.5, "top_p": 0.95,
    }
    assert list(http.json) == sorted(http.json)  # the documented key order


def test_non_streaming_sets_stream_false() -> None:
    http = build(make_request("x", "claude-3.5-sonnet"), make_config())
    assert http.json["stream"] is False and http.stream is False
    assert (http.json["model"], http.json["personaId"]) == (
        "claude-3-5-sonnet-20241022", "clude-claude-3-5-sonnet-20241022")


def test_the_id_gpt_4o_itself_keeps_its_own_persona() -> None:
    spec = jackfield_amigochat.jackfield_provider()
    request = CompletionRequest(provider="amigochat", model=spec.model("gpt-4o"),
                                messages=make_request().messages)
    assert build(request, make_config()).json["personaId"] == "summarizer"


def test_options_override_the_defaults() -> None:
    request = make_request("x", temperature=1.2, top_p=0.5, max_tokens=10,
                           frequency_penalty=-1, presence_penalty=1.5)
    body = build(request, make_config()).json
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (1.2, 0.5, 10)
    assert (body["frequency_penalty"], body["presence_penalty"]) == (-1.0, 1.5)


def test_headers_are_the_documented_ones() -> None:
    headers = dict(build(make_request(), make_config()).headers)
    device = headers.pop("x-device-uuid")
    assert uuid.UUID(device).version == 4
    assert headers.pop("user-agent").startswith("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
    assert headers == {
        "accept": "*/*", "accept-language": "en-US,en;q=0.9", "authorization": "Bearer",
        "cache-control": "no-cache", "pragma": "no-cache", "content-type": "application/json",
        "origin": "https://amigochat.io/chat/", "referer": "https://amigochat.io/chat/",
        "x-device-language": "en-US", "x-device-platform": "web", "x-device-version": "1.0.45",
    }


def test_chat_id_and_device_uuid_are_fresh_per_request() -> None:
    first, second = (build(make_request(), make_config()) for _ in range(2))
    assert first.json["chatId"] != second.json["chatId"]
    assert first.headers["x-device-uuid"] != second.headers["x-device-uuid"]


def test_fresh_uuids_are_canonical_random_uuids() -> None:
    from jackfield_amigochat.wire import fresh_uuid

    made = [fresh_uuid() for _ in range(2000)]
    parsed = [uuid.UUID(text) for text in made]
    # Version 4, the RFC 4122 variant, and the text str(uuid.UUID(...)) gives (lower case).
    assert {(u.version, u.variant) for u in parsed} == {(4, uuid.RFC_4122)}
    assert made == [str(u) for u in parsed]
    assert len(set(made)) == len(made)
    # All four variant digits occur: the variant bits are set, the other two stay random.
    assert {text[19] for text in made} == set("89ab")


def test_token_is_sent_only_when_configured_and_never_shown() -> None:
    assert build(make_request(), make_config()).headers["authorization"] == "Bearer"
    config = make_config(token=TOKEN)
    http = build(make_request(), config)
    assert http.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(http) and TOKEN not in repr(config)


def test_a_token_with_a_line_break_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        build(make_request(), make_config(token="abc\r\nX-Evil: 1"))
    assert "abc" not in str(caught.value) and "JACKFIELD_AMIGOCHAT_TOKEN" in str(caught.value)


def test_surrounding_whitespace_of_a_token_is_dropped() -> None:
    http = build(make_request(), make_config(token=f" {TOKEN}\n"))
    assert http.headers["authorization"] == f"Bearer {TOKEN}"


def test_base_url_setting_is_honoured() -> None:
    http = build(make_request(), make_config("http://127.0.0.1:9/"))
    assert http.url == "http://127.0.0.1:9/v1/chat/completions"


def test_image_request() -> None:
    http = build(make_request("a red fox", "flux-dev"), make_config())
    assert (http.method, http.url, http.stream) == (
        "POST", "https://api.amigochat.io/v1/images/generations", False)
    assert http.json == {"prompt": "a red fox", "model": "flux/dev", "personaId": "flux-dev"}
    assert http.headers["authorization"] == "Bearer"


def test_image_prompt_is_the_last_message() -> None:
    messages = [{"role": "user", "content": "first"}, {"role": "user", "content": "a cat"}]
    assert build(make_request(messages, "dall-e-3"), make_config()).json["prompt"] == "a cat"


@pytest.mark.parametrize(("name", "value"), [
    ("temperature", 2.5), ("temperature", -0.1), ("temperature", float("nan")),
    ("top_p", 1.5), ("max_tokens", 0), ("max_tokens", -5), ("frequency_penalty", 3),
    ("presence_penalty", -2.5), ("temperature", float("inf")),
])
def test_out_of_range_options_are_refused(name: str, value: float) -> None:
    with pytest.raises(InvalidRequestError, match=name):
        build(make_request("x", "gpt-4o-mini", stream=False, **{name: value}), make_config())
