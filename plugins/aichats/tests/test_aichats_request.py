"""build_request: the endpoint, the browser-shaped headers and the one-entry body."""

from __future__ import annotations

import pytest
from aichats_helpers import COOKIE, make_config, make_request

from jackfield.provider import AuthenticationError
from jackfield_aichats import jackfield_build_request
from jackfield_aichats.prompt import format_prompt
from jackfield_aichats.wire import USER_AGENT, origin_of

CONVERSATION = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "hello"},
    {"role": "user", "content": "draw a cat"},
]


def expected_headers(base: str, referer_path: str) -> dict[str, str]:
    return {
        "accept": "application/json, text/event-stream",
        "accept-language": "en-US,en;q=0.9",
        "cache-control": "no-cache",
        "pragma": "no-cache",
        "content-type": "application/json",
        "origin": base,
        "referer": base + referer_path,
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
        "user-agent": USER_AGENT,
        "cookie": COOKIE,
    }


def test_chat_request_to_the_default_site() -> None:
    built = jackfield_build_request(request=make_request("hi"), config=make_config())
    assert built.method == "POST"
    assert built.url == "https://ai-chats.org/chat/send2/"
    assert dict(built.headers) == expected_headers("https://ai-chats.org", "/chat/")
    assert built.json == {"type": "chat", "messagesHistory": [{"from": "you", "content": "hi"}]}
    assert built.stream is True


def test_chat_request_packs_the_conversation() -> None:
    request = make_request(CONVERSATION)
    built = jackfield_build_request(request=request, config=make_config())
    assert built.json["messagesHistory"] == [
        {"from": "you", "content": format_prompt(request.messages)}
    ]
    assert built.json["messagesHistory"][0]["content"].endswith("User: draw a cat\nAssistant:")


def test_image_request_sends_the_last_message_only() -> None:
    built = jackfield_build_request(request=make_request(CONVERSATION, model="dalle"),
                                    config=make_config())
    assert built.url == "https://ai-chats.org/chat/send2/"
    assert dict(built.headers) == expected_headers("https://ai-chats.org", "/image/")
    assert built.json == {"type": "image",
                          "messagesHistory": [{"from": "you", "content": "draw a cat"}]}
    assert built.stream is False


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8123", "http://127.0.0.1:8123/"])
def test_base_url_setting_moves_url_origin_and_referer(base_url: str) -> None:
    built = jackfield_build_request(request=make_request(), config=make_config(base_url))
    assert built.url == "http://127.0.0.1:8123/chat/send2/"
    assert built.headers["origin"] == "http://127.0.0.1:8123"
    assert built.headers["referer"] == "http://127.0.0.1:8123/chat/"


def test_origin_of_a_base_url_with_a_path_is_scheme_and_host() -> None:
    # A browser's Origin never carries a path; the endpoint and referer keep it.
    config = make_config("https://proxy.example/aichats")
    built = jackfield_build_request(request=make_request(), config=config)
    assert built.url == "https://proxy.example/aichats/chat/send2/"
    assert built.headers["origin"] == "https://proxy.example"
    assert built.headers["referer"] == "https://proxy.example/aichats/chat/"
    assert origin_of("https://ai-chats.org") == "https://ai-chats.org"


def test_missing_cookie_raises_authentication_error_with_advice() -> None:
    with pytest.raises(AuthenticationError) as caught:
        jackfield_build_request(request=make_request(), config=make_config(cookie=None))
    message = str(caught.value)
    assert "JACKFIELD_AICHATS_COOKIE" in message
    assert "Registry(config={'aichats': {'cookie': ...}})" in message


def test_the_cookie_never_shows_in_the_request_repr() -> None:
    built = jackfield_build_request(request=make_request(), config=make_config())
    assert "test-cookie" not in repr(built)
    assert "test-cookie" not in repr(make_config())
