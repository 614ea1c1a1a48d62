"""parse_response on mocked replies: pieces in order, typed errors for replies off protocol."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

import pytest
from aichats_helpers import make_config, make_request
from aioresponses import aioresponses

from jackfield.provider import (
    Event,
    Finish,
    Image,
    ProviderError,
    ResponseFormatError,
    TextDelta,
)
from jackfield.testing import ProviderHarness, png_bytes
from jackfield_aichats import jackfield_build_request, jackfield_parse_response
from jackfield_aichats.parse import image_type, piece_of

BASE = "https://ai-chats.org"
ENDPOINT = BASE + "/chat/send2/"
IMAGE_URL = "https://cdn.ai-chats.org/img/cat.png"


async def run(provider_harness: ProviderHarness, model: str = "gpt-4",
              messages: Any = "hi") -> list[Event]:
    """Send the plugin's request through the core transport and collect the parsed events."""
    request = make_request(messages, model=model)
    http_request = jackfield_build_request(request=request, config=make_config())
    response = await provider_harness.send("aichats", http_request)
    try:
        events = jackfield_parse_response(
            request=request, response=response,
            transport=provider_harness.for_provider("aichats"))
        return [event async for event in events]
    finally:
        response.release()


def sse(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


# -- chat --------------------------------------------------------------------------------------


async def test_pieces_become_text_deltas_in_order(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, content_type="text/event-stream",
                    body=sse("data: Hello", "", "data:  world", "", "data: !", "", "data: ", ""))
        events = await run(provider_harness)
    assert events == [TextDelta("Hello"), TextDelta(" world"), TextDelta("!"), Finish("stop")]


async def test_pieces_keep_their_spaces_verbatim(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, body=sse("data:  a ", "data: \tb", "data: "))
        events = await run(provider_harness)
    assert events == [TextDelta(" a "), TextDelta("\tb"), Finish("stop")]


async def test_other_lines_are_ignored_and_crlf_is_fine(provider_harness: ProviderHarness) -> None:
    body = "event: message\r\n: keep-alive\r\nid: 7\r\ndata: one\r\n\r\nretry: 10\r\ndata:  two\r\n"
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, body=body)
        events = await run(provider_harness)
    assert events == [TextDelta("one"), TextDelta(" two"), Finish("stop")]


async def test_only_bare_data_lines_is_an_empty_reply(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, body=sse("data: ", "", "data:"))
        events = await run(provider_harness)
    assert events == [Finish("stop")]


async def test_last_line_without_newline_still_counts(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, body="data: Hi\n\ndata:  there")
        events = await run(provider_harness)
    assert events == [TextDelta("Hi"), TextDelta(" there"), Finish("stop")]


async def test_html_page_is_a_format_error_not_content(provider_harness: ProviderHarness) -> None:
    page = ("<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
            "<body>Checking your browser</body></html>")
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, content_type="text/html", body=page)
        with pytest.raises(ResponseFormatError) as caught:
            await run(provider_harness)
    message = str(caught.value)
    assert caught.value.provider == "aichats"
    assert "HTML page titled 'Just a moment...'" in message  # what came instead is named


async def test_empty_body_is_a_format_error(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, body="")
        with pytest.raises(ResponseFormatError, match="an empty body"):
            await run(provider_harness)


async def test_plain_text_error_is_a_format_error(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, content_type="text/plain",
                    body='{"error": "Model is overloaded"}')
        with pytest.raises(ResponseFormatError, match="Model is overloaded"):
            await run(provider_harness)


def test_piece_of() -> None:
    assert piece_of("data: x") == "x"
    assert piece_of("data:  x") == " x"
    assert piece_of("data: ") == ""
    assert piece_of("data:") == ""
    assert piece_of("data:x") is None  # the notes define pieces by the `data: ` prefix
    assert piece_of(": comment") is None
    assert piece_of("") is None


async def test_forbidden_is_an_authentication_error_from_the_transport(
        provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=403, payload={"message": "Forbidden"})
        with pytest.raises(ProviderError) as caught:
            await run(provider_harness)
    assert type(caught.value).__name__ == "AuthenticationError"


# -- image -------------------------------------------------------------------------------------


async def test_image_url_is_downloaded_and_returned_with_bytes(
        provider_harness: ProviderHarness) -> None:
    png = png_bytes(seed="a cat")
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, payload={"data": [{"url": IMAGE_URL}]})
        mocked.get(IMAGE_URL, status=200, content_type="image/png", body=png)
        events = await run(provider_harness, model="dalle", messages="a cat")
    assert events == [Image(url=IMAGE_URL, data=png, mime_type="image/png"), Finish("stop")]


async def test_relative_image_url_is_resolved_against_the_reply(
        provider_harness: ProviderHarness) -> None:
    png = png_bytes(seed="x")
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, payload={"data": [{"url": "/files/x.png"}]})
        mocked.get(BASE + "/files/x.png", status=200, content_type="image/png", body=png)
        events = await run(provider_harness, model="dalle")
    assert events[0] == Image(url=BASE + "/files/x.png", data=png, mime_type="image/png")


async def test_mime_type_comes_from_the_bytes(provider_harness: ProviderHarness) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 32
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, payload={"data": [{"url": IMAGE_URL}]})
        mocked.get(IMAGE_URL, status=200, content_type="application/octet-stream", body=jpeg)
        events = await run(provider_harness, model="dalle")
    assert isinstance(events[0], Image) and events[0].mime_type == "image/jpeg"


@pytest.mark.parametrize("document", [
    {},
    {"data": []},
    {"data": None},
    {"data": {"url": IMAGE_URL}},
    {"data": [{}]},
    {"data": [{"url": None}]},
    {"data": [{"url": ""}]},
    {"data": [IMAGE_URL]},
    {"error": "quota exceeded"},
    [IMAGE_URL],
    {"data": [{"url": "ftp://example.org/x.png"}]},
])
async def test_malformed_image_reply_is_a_format_error(provider_harness: ProviderHarness,
                                                       document: Any) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, payload=document)
        with pytest.raises(ResponseFormatError):
            await run(provider_harness, model="dalle")


async def test_image_reply_that_is_not_json_is_a_format_error(
        provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, content_type="text/plain", body="oops")
        with pytest.raises(ResponseFormatError, match="expected a JSON reply"):
            await run(provider_harness, model="dalle")


async def test_image_reply_that_is_an_html_page_names_it(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, content_type="text/html",
                    body="<html><title>Log in</title></html>")
        with pytest.raises(ResponseFormatError, match="HTML page titled 'Log in'"):
            await run(provider_harness, model="dalle")


async def test_download_that_is_not_an_image_is_a_format_error(
        provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, payload={"data": [{"url": IMAGE_URL}]})
        mocked.get(IMAGE_URL, status=200, content_type="image/png",
                   body="<html><title>Not Found</title></html>")
        with pytest.raises(ResponseFormatError, match=re.escape(IMAGE_URL)) as caught:
            await run(provider_harness, model="dalle")
    # Its type and size are reported, never its content (it may be an internal page).
    assert "image/png, 37 bytes" in str(caught.value)
    assert "Not Found" not in str(caught.value) and not caught.value.body_excerpt


async def test_failed_download_raises_the_transports_typed_error(
        provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(ENDPOINT, status=200, payload={"data": [{"url": IMAGE_URL}]})
        mocked.get(IMAGE_URL, status=404, body="gone")
        with pytest.raises(ProviderError, match="HTTP 404"):
            await run(provider_harness, model="dalle")


def test_image_type_knows_the_four_formats() -> None:
    webp = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8 " + b"\x00" * 22
    assert image_type(png_bytes("x")) == "image/png"
    assert image_type(b"\xff\xd8\xff\xdb" + b"\x00" * 8) == "image/jpeg"
    assert image_type(b"GIF89a" + b"\x00" * 8) == "image/gif"
    assert image_type(b"GIF87a" + b"\x00" * 8) == "image/gif"
    assert image_type(webp) == "image/webp"
    assert image_type(b"<html>") is None
    assert image_type(zlib.compress(b"png")) is None
    assert image_type(b"") is None
