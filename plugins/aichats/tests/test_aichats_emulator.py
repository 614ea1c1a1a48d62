"""The emulator implements the protocol strictly: one endpoint, checked headers and body."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aichats_helpers import COOKIE

from jackfield.testing import Emulator, png_bytes, serve_app, words_of
from jackfield_aichats.emulator import MAX_PIECES, create_app, reply_pieces

HEADERS = {"origin": "http://127.0.0.1", "referer": "http://127.0.0.1/chat/",
           "content-type": "application/json", "cookie": COOKIE}
IMAGE_HEADERS = HEADERS | {"referer": "http://127.0.0.1/image/"}


def body(content: Any = "hi", kind: Any = "chat") -> dict[str, Any]:
    return {"type": kind, "messagesHistory": [{"from": "you", "content": content}]}


async def post(http: aiohttp.ClientSession, emulator: Emulator, *, payload: Any = None,
               data: Any = None, headers: dict[str, str] | None = None,
               path: str = "/chat/send2/") -> tuple[int, str, bytes]:
    kwargs: dict[str, Any] = {"json": payload} if data is None else {"data": data}
    async with http.post(emulator.url + path, headers=headers or HEADERS, **kwargs) as response:
        return response.status, response.content_type, await response.read()


async def test_chat_reply_is_data_lines_of_word_pieces(http: aiohttp.ClientSession,
                                                     emulator: Emulator) -> None:
    status, content_type, raw = await post(http, emulator, payload=body("hi there"))
    assert (status, content_type) == (200, "text/event-stream")
    pieces = words_of("Hello from the AiChats emulator. You said: hi there")
    assert raw.decode() == "".join(f"data: {p}\n\n" for p in pieces) + "data: \n\n"
    assert emulator.stats.last_json == body("hi there")


async def test_pieces_prompt_asks_for_n_pieces(http: aiohttp.ClientSession,
                                               emulator: Emulator) -> None:
    _, _, raw = await post(http, emulator, payload=body("pieces:3"))
    assert raw == b"data:  w1\n\ndata:  w2\n\ndata:  w3\n\ndata: \n\n"


def test_reply_pieces_never_hold_a_line_break() -> None:
    assert all("\n" not in p and "\r" not in p for p in reply_pieces("User: a\r\nAssistant:"))
    assert reply_pieces("pieces:0") == []
    assert len(reply_pieces(f"pieces:{MAX_PIECES}")) == MAX_PIECES


async def test_image_reply_names_a_png_on_the_same_emulator(http: aiohttp.ClientSession,
                                                            emulator: Emulator) -> None:
    status, content_type, raw = await post(http, emulator, payload=body("a cat", "image"),
                                           headers=IMAGE_HEADERS)
    assert (status, content_type) == (200, "application/json")
    document = json.loads(raw)
    url = document["data"][0]["url"]
    assert url.startswith(emulator.url + "/images/") and url.endswith(".png")
    async with http.get(url) as image:
        assert image.status == 200
        assert image.content_type == "image/png"
        assert await image.read() == png_bytes(seed="a cat")


async def test_unknown_image_is_404(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    async with http.get(emulator.url + "/images/nothing.png") as response:
        assert response.status == 404


async def test_path_without_trailing_slash_is_404(http: aiohttp.ClientSession,
                                                  emulator: Emulator) -> None:
    status, _, _ = await post(http, emulator, payload=body(), path="/chat/send2")
    assert status == 404


async def test_get_on_the_endpoint_is_405(http: aiohttp.ClientSession,
                                          emulator: Emulator) -> None:
    async with http.get(emulator.url + "/chat/send2/", headers=HEADERS) as response:
        assert response.status == 405


@pytest.mark.parametrize("cookie", [None, "", "session=other", "other=1"])
async def test_missing_or_wrong_cookie_is_403(http: aiohttp.ClientSession, emulator: Emulator,
                                              cookie: str | None) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "cookie"}
    if cookie is not None:
        headers["cookie"] = cookie
    async with http.post(emulator.url + "/chat/send2/", json=body(), headers=headers) as response:
        assert response.status == 403
        assert await response.json() == {"message": "Forbidden"}


async def test_configured_cookie_may_come_with_other_pairs(http: aiohttp.ClientSession,
                                                          emulator: Emulator) -> None:
    status, _, _ = await post(http, emulator, payload=body(),
                              headers=HEADERS | {"cookie": f"a=1; {COOKIE}; b=2"})
    assert status == 200


@pytest.mark.parametrize("cookie", [None, "anything=1"])
async def test_without_a_configured_cookie_any_cookie_passes(http: aiohttp.ClientSession,
                                                           cookie: str | None) -> None:
    async with serve_app(create_app()) as url:
        headers = HEADERS if cookie is None else HEADERS | {"cookie": cookie}
        async with http.post(url + "/chat/send2/", json=body(), headers=headers) as response:
            assert response.status == 200
            await response.read()
        bare = {k: v for k, v in HEADERS.items() if k != "cookie"}
        async with http.post(url + "/chat/send2/", json=body(), headers=bare) as response:
            assert response.status == 403


BAD_BODIES: list[tuple[Any, str]] = [
    (["not", "an", "object"], "JSON object"),
    ({"type": "chat"}, "messagesHistory"),
    (body(kind="video"), '"type"'),
    (body() | {"model": "gpt-4"}, "model"),
    ({"type": "chat", "messagesHistory": []}, "exactly one"),
    ({"type": "chat", "messagesHistory": [{"from": "you", "content": "a"}] * 2}, "exactly one"),
    ({"type": "chat", "messagesHistory": "hi"}, "messagesHistory"),
    ({"type": "chat", "messagesHistory": [{"from": "me", "content": "a"}]}, "from"),
    ({"type": "chat", "messagesHistory": [{"content": "a"}]}, "from"),
    ({"type": "chat", "messagesHistory": [{"from": "you", "content": ""}]}, "content"),
    ({"type": "chat", "messagesHistory": [{"from": "you", "content": 3}]}, "content"),
    (body(f"pieces:{MAX_PIECES + 1}"), "pieces:N"),
]


@pytest.mark.parametrize(("payload", "named"), BAD_BODIES)
async def test_bad_bodies_are_400_naming_the_fault(http: aiohttp.ClientSession,
                                                   emulator: Emulator, payload: Any,
                                                   named: str) -> None:
    status, content_type, raw = await post(http, emulator, payload=payload)
    assert (status, content_type) == (400, "application/json")
    assert named in json.loads(raw)["message"]


async def test_invalid_json_is_400(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    status, _, raw = await post(http, emulator, data=b"{not json")
    assert status == 400
    assert b"not valid JSON" in raw


@pytest.mark.parametrize(("change", "named"), [
    ({"origin": None}, "origin"),
    ({"referer": None}, "referer"),
    ({"content-type": "text/plain"}, "content-type"),
    ({"referer": "http://127.0.0.1/image/"}, "/chat/"),
])
async def test_bad_headers_are_400_naming_the_fault(http: aiohttp.ClientSession,
                                                    emulator: Emulator,
                                                    change: dict[str, str | None],
                                                    named: str) -> None:
    headers = {k: v for k, v in (HEADERS | change).items() if v is not None}
    status, _, raw = await post(http, emulator, data=json.dumps(body()),
                                headers=headers)
    assert status == 400
    assert named in json.loads(raw)["message"]


async def test_image_request_needs_the_image_referer(http: aiohttp.ClientSession,
                                                     emulator: Emulator) -> None:
    status, _, raw = await post(http, emulator, payload=body("a cat", "image"))
    assert status == 400
    assert b"/image/" in raw
