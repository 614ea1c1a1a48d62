"""jackfield_parse_response against mocked replies (aioresponses) and the loopback emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import aioresponses
from amigochat_helpers import build, collect, make_config, make_request

import jackfield_amigochat
from jackfield.provider import (
    AuthenticationError,
    CompletionRequest,
    Event,
    Finish,
    Image,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
    TextDelta,
    Usage,
)
from jackfield.testing import Emulator, ProviderHarness, png_bytes

BASE = "http://amigochat.test"
CHAT_URL = f"{BASE}/v1/chat/completions"
IMAGE_URL = f"{BASE}/v1/images/generations"
SSE = "text/event-stream"


def sse(*payloads: Any) -> str:
    """Return an SSE body with one data event per payload (dicts are JSON-encoded)."""
    return "".join(f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n" for p in payloads)


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return a chat.completion.chunk with a delta."""
    delta = {} if content is None else {"content": content}
    return {"object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


async def events_for(provider_harness: ProviderHarness, request: CompletionRequest,
                     base_url: str = BASE) -> list[Event]:
    """Send the plugin's request through the core transport and parse the reply."""
    response = await provider_harness.send("amigochat", build(request, make_config(base_url)))
    try:
        return await collect(jackfield_amigochat.jackfield_parse_response(
            request=request, response=response,
            transport=provider_harness.for_provider("amigochat")))
    finally:
        response.release()


async def parse_mocked(provider_harness: ProviderHarness, body: str, *, stream: bool = True,
                       content_type: str = SSE, status: int = 200) -> list[Event]:
    """Parse one mocked chat reply."""
    with aioresponses() as mocked:
        mocked.post(CHAT_URL, status=status, body=body, content_type=content_type)
        return await events_for(provider_harness, make_request("hi", stream=stream))


# -- streaming ----------------------------------------------------------------------------------

async def test_stream_text_finish_and_usage(provider_harness: ProviderHarness) -> None:
    usage = {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    body = sse(chunk("Hel"), chunk("lo"), chunk(""), chunk(None), chunk(" you", "stop"),
               {"choices": [], "usage": usage}, "[DONE]")
    assert await parse_mocked(provider_harness, body) == [
        TextDelta("Hel"), TextDelta("lo"), TextDelta(" you"), Finish("stop"), Usage(2, 3, 5)]


async def test_stream_usage_on_the_finish_chunk(provider_harness: ProviderHarness) -> None:
    body = sse(chunk("a"), chunk(None, "length", usage={"prompt_tokens": 1,
                                                        "completion_tokens": 1}), "[DONE]")
    assert await parse_mocked(provider_harness, body) == [
        TextDelta("a"), Finish("length"), Usage(1, 1, None)]


async def test_older_choices_text_shape(provider_harness: ProviderHarness) -> None:
    body = sse({"choices": [{"text": "old "}]}, {"choices": [{"text": "style",
                                                             "finish_reason": "stop"}]}, "[DONE]")
    assert await parse_mocked(provider_harness, body) == [
        TextDelta("old "), TextDelta("style"), Finish("stop")]


async def test_nothing_after_done_is_read(provider_harness: ProviderHarness) -> None:
    body = sse(chunk("only"), "[DONE]", chunk("ignored"), "not json")
    assert await parse_mocked(provider_harness, body) == [TextDelta("only")]


async def test_sse_comments_blank_lines_and_crlf_are_tolerated(
        provider_harness: ProviderHarness) -> None:
    body = ": keep-alive\r\n\r\nevent: message\r\n" + sse(chunk("x")).replace("\n", "\r\n")
    body += "data:[DONE]\r\n\r\n"
    assert await parse_mocked(provider_harness, body) == [TextDelta("x")]


async def test_clean_end_without_done_after_content_is_accepted(
        provider_harness: ProviderHarness) -> None:
    assert await parse_mocked(provider_harness, sse(chunk("a"), chunk("b", "stop"))) == [
        TextDelta("a"), TextDelta("b"), Finish("stop")]


async def test_done_with_no_content_is_an_empty_reply(provider_harness: ProviderHarness) -> None:
    assert await parse_mocked(provider_harness, sse("[DONE]")) == []


@pytest.mark.parametrize(("body", "content_type"), [
    ("", SSE),
    ("hello there\nthis is not sse\n", SSE),
    ("<!doctype html><html><title>Just a moment...</title></html>", "text/html"),
    ("<html><body>challenge</body></html>", "text/plain"),
    (sse(chunk(None)), SSE),
])
async def test_replies_without_a_chat_stream_are_format_errors(
        provider_harness: ProviderHarness, body: str, content_type: str) -> None:
    with pytest.raises(ResponseFormatError):
        await parse_mocked(provider_harness, body, content_type=content_type)


async def test_html_page_with_200_names_it(provider_harness: ProviderHarness) -> None:
    page = "<!doctype html><html><title>Just a moment...</title></html>"
    with pytest.raises(ResponseFormatError, match="HTML page") as caught:
        await parse_mocked(provider_harness, page, content_type="text/html", stream=False)
    assert "Just a moment" in str(caught.value)


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", json.dumps({"choices": "x"}),
                                     json.dumps({"choices": [{"delta": {"content": 5}}]}),
                                     json.dumps({"choices": [{"finish_reason": 1}]}),
                                     json.dumps({"choices": [], "usage": {"total_tokens": "9"}})])
async def test_malformed_events_are_format_errors(
        provider_harness: ProviderHarness, payload: str) -> None:
    with pytest.raises(ResponseFormatError):
        await parse_mocked(provider_harness, sse(chunk("a"), payload, "[DONE]"))


async def test_error_text_is_never_yielded_as_content(provider_harness: ProviderHarness) -> None:
    body = sse("Error handling AIML chat completion stream")
    with pytest.raises(ResponseFormatError, match="not JSON"):
        await parse_mocked(provider_harness, body)


@pytest.mark.parametrize(("payload", "error_type"), [
    ({"error": {"message": "rate limited", "status": 429}}, RateLimitError),
    ({"error": {"message": "denied", "code": 403}}, AuthenticationError),
    ({"message": "upstream down", "statusCode": 502}, ProviderUnavailableError),
    ({"message": "balance is not enough"}, ProviderError),
    ({"error": "Internal error"}, ProviderError),
])
async def test_json_errors_in_the_stream_are_typed(provider_harness: ProviderHarness, payload: Any,
                                                   error_type: type[ProviderError]) -> None:
    with pytest.raises(error_type) as caught:
        await parse_mocked(provider_harness, sse(payload))
    assert not isinstance(caught.value, ResponseFormatError)
    assert caught.value.provider == "amigochat"


# -- non-streaming ------------------------------------------------------------------------------

def completion(content: Any = "Hi!", **extra: Any) -> str:
    """Return a chat.completion JSON body."""
    return json.dumps({"object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": content},
         "finish_reason": "stop"}], **extra})


async def test_non_streaming_reply(provider_harness: ProviderHarness) -> None:
    body = completion(usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})
    assert await parse_mocked(provider_harness, body, stream=False,
                              content_type="application/json") == [
        TextDelta("Hi!"), Finish("stop"), Usage(1, 2, 3)]


async def test_non_streaming_without_usage(provider_harness: ProviderHarness) -> None:
    assert await parse_mocked(provider_harness, completion(), stream=False,
                              content_type="application/json") == [TextDelta("Hi!"), Finish("stop")]


@pytest.mark.parametrize("body", [
    json.dumps({"choices": []}), json.dumps({"choices": [{"message": {}}]}), completion(None),
    json.dumps([1]), "not json at all", json.dumps({"object": "chat.completion"}),
])
async def test_non_streaming_missing_fields_are_format_errors(provider_harness: ProviderHarness,
                                                              body: str) -> None:
    with pytest.raises(ResponseFormatError):
        await parse_mocked(provider_harness, body, stream=False, content_type="application/json")


async def test_non_streaming_json_error_with_200_is_typed(
        provider_harness: ProviderHarness) -> None:
    with pytest.raises(ProviderError, match="balance is not enough") as caught:
        await parse_mocked(provider_harness, json.dumps({"message": "balance is not enough"}),
                           stream=False, content_type="application/json")
    assert not isinstance(caught.value, ResponseFormatError)


async def test_an_sse_reply_to_a_non_streaming_request_is_still_read(
        provider_harness: ProviderHarness) -> None:
    assert await parse_mocked(provider_harness, sse(chunk("a"), "[DONE]"), stream=False) == [
        TextDelta("a")]


async def test_a_json_reply_to_a_streaming_request_is_still_read(
        provider_harness: ProviderHarness) -> None:
    assert await parse_mocked(provider_harness, completion(), content_type="application/json") == [
        TextDelta("Hi!"), Finish("stop")]


@pytest.mark.parametrize(("status", "error_type"), [
    (402, ProviderError), (403, AuthenticationError), (429, RateLimitError),
    (501, ProviderUnavailableError)])
async def test_error_statuses_are_typed_by_the_transport(
        provider_harness: ProviderHarness, status: int, error_type: type[ProviderError]) -> None:
    with pytest.raises(error_type):
        await parse_mocked(provider_harness, json.dumps({"message": "Forbidden"}), status=status,
                           content_type="application/json")


# -- images -------------------------------------------------------------------------------------

async def test_every_image_url_is_downloaded(provider_harness: ProviderHarness) -> None:
    png = png_bytes("x")
    with aioresponses() as mocked:
        mocked.post(IMAGE_URL, payload={"data": [{"url": f"{BASE}/a.png"},
                                                 {"url": "/b.png"}]})
        mocked.get(f"{BASE}/a.png", body=png, content_type="image/png")
        mocked.get(f"{BASE}/b.png", body=b"jpeg", content_type="image/jpeg")
        events = await events_for(provider_harness, make_request("a fox", "dall-e-3"))
    assert events == [Image(url=f"{BASE}/a.png", data=png, mime_type="image/png"),
                      Image(url=f"{BASE}/b.png", data=b"jpeg", mime_type="image/jpeg")]


@pytest.mark.parametrize("payload", [
    {"data": []}, {"data": [{"b64": "x"}]}, {"images": ["x"]}, [1], {"data": [{"url": 3}]},
    {"data": [{"url": "file:///etc/passwd"}]},
])
async def test_image_replies_without_images_are_format_errors(provider_harness: ProviderHarness,
                                                              payload: Any) -> None:
    with aioresponses() as mocked:
        mocked.post(IMAGE_URL, payload=payload)
        with pytest.raises(ResponseFormatError):
            await events_for(provider_harness, make_request("a fox", "flux-dev"))


async def test_image_url_serving_a_page_is_a_format_error(
        provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(IMAGE_URL, payload={"data": [{"url": f"{BASE}/a.png"}]})
        mocked.get(f"{BASE}/a.png", body="<html>login</html>", content_type="text/html")
        with pytest.raises(ResponseFormatError, match="not an image") as caught:
            await events_for(provider_harness, make_request("a fox", "flux-dev"))
    # Its type and size are reported, never its content (it may be an internal page).
    assert "text/html, 18 bytes" in str(caught.value)
    assert "login" not in str(caught.value) and not caught.value.body_excerpt


async def test_image_error_object_is_typed(provider_harness: ProviderHarness) -> None:
    with aioresponses() as mocked:
        mocked.post(IMAGE_URL, payload={"error": {"message": "slow down", "status": 429}})
        with pytest.raises(RateLimitError):
            await events_for(provider_harness, make_request("a fox", "flux-dev"))


# -- over loopback ------------------------------------------------------------------------------

async def test_streamed_reply_from_the_emulator(provider_harness: ProviderHarness,
                                                emulator: Emulator) -> None:
    events = await events_for(provider_harness, make_request("one two", "gpt-4o", stream=True),
                              emulator.url)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Hello from the AmigoChat emulator (gpt-4o-2024-11-20). You said: one two"
    assert events[-2:] == [Finish("stop"), Usage(2, 10, 12)]


async def test_non_streamed_reply_from_the_emulator(provider_harness: ProviderHarness,
                                                    emulator: Emulator) -> None:
    events = await events_for(provider_harness, make_request("pieces:4"), emulator.url)
    assert events == [TextDelta(" w1 w2 w3 w4"), Finish("stop"), Usage(1, 4, 5)]


async def test_pieces_arrive_one_by_one_over_loopback(provider_harness: ProviderHarness,
                                                      emulator: Emulator) -> None:
    count = 20_000  # several MB: far more than socket buffers hold, so the server must wait
    request = make_request(f"pieces:{count}", stream=True)
    response = await provider_harness.send("amigochat", build(request, make_config(emulator.url)))
    events: AsyncIterator[Event] | None = jackfield_amigochat.jackfield_parse_response(
        request=request, response=response,
        transport=provider_harness.for_provider("amigochat"))
    assert events is not None
    try:
        first = await events.__anext__()
        # The first piece reached us while the emulator was still writing the rest.
        assert first == TextDelta(" w1")
        assert emulator.stats.in_flight == 1
        rest = [event async for event in events]
    finally:
        await events.aclose()  # type: ignore[attr-defined]
        response.release()
    pieces = [e.text for e in rest if isinstance(e, TextDelta)]
    assert pieces == [f" w{i}" for i in range(2, count + 1)]
    assert rest[-2:] == [Finish("stop"), Usage(1, count, count + 1)]


async def test_images_from_the_emulator(
        provider_harness: ProviderHarness, emulator: Emulator) -> None:
    events = await events_for(provider_harness, make_request("a red fox", "dall-e-3"), emulator.url)
    assert [type(e) for e in events] == [Image, Image]
    first, second = events
    assert isinstance(first, Image) and isinstance(second, Image)
    assert first.data == png_bytes(seed="a red fox") and first.mime_type == "image/png"
    assert second.data != first.data
    assert first.url is not None and first.url.startswith(emulator.url)
