"""What a chat call carries besides text, through the server with the openai SDK: structured
output (parse() with pydantic, json_object), image parts, stop, seed, n and reasoning."""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from typing import Any

import openai
import pydantic
import pytest
from server_helpers import MakeClient, StartServer

from jackfield import Registry
from jackfield._server import DEFAULT_MAX_BODY_BYTES
from jackfield._server.chat_shapes import EMULATED_HEADER
from jackfield.testing import png_bytes
from mockprovider import MockServer
from nativeprovider import NativeServer

USER: list[Any] = [{"role": "user", "content": "one two"}]


class Forecast(pydantic.BaseModel):
    city: str
    degrees: int
    rain: bool


async def test_parse_with_a_pydantic_model(native_api: openai.AsyncOpenAI,
                                           native_server: NativeServer) -> None:
    reply = await native_api.chat.completions.parse(model="omni", messages=USER,
                                                    response_format=Forecast)
    message = reply.choices[0].message
    assert message.parsed == Forecast(city="sunny", degrees=7, rain=True)
    sent = native_server.seen[-1]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Forecast"
    assert sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["schema"]["required"] == ["city", "degrees", "rain"]


async def test_the_stream_helper_parses_a_pydantic_model(
        native_api: openai.AsyncOpenAI) -> None:
    async with native_api.chat.completions.stream(model="omni", messages=USER,
                                                  response_format=Forecast) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.parsed == Forecast(city="sunny", degrees=7, rain=True)


async def test_response_format_json_object(native_api: openai.AsyncOpenAI,
                                           native_server: NativeServer) -> None:
    reply = await native_api.chat.completions.create(
        model="omni", messages=USER, response_format={"type": "json_object"})
    assert json.loads(reply.choices[0].message.content or "") == {"answer": "one two"}
    assert native_server.seen[-1]["response_format"] == {"type": "json_object"}


async def test_a_json_schema_to_a_model_without_it_is_a_400_naming_the_field(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await mock_api.chat.completions.parse(model="echo", messages=USER,
                                              response_format=Forecast)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "response_format"
    assert "JSON schema" in caught.value.body["message"]
    assert mock_server.seen == []


def noisy_png(width: int, height: int) -> bytes:
    """Return a real PNG of random pixels: it does not compress, so its size is known."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def image_message(url: str) -> list[Any]:
    return [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}}]}]


async def test_image_parts_as_a_url_and_as_a_data_url(native_api: openai.AsyncOpenAI,
                                                      native_server: NativeServer) -> None:
    linked = await native_api.chat.completions.create(
        model="omni", messages=image_message("https://images.example/cat.png"))
    assert linked.choices[0].message.content == "You said: what is this? [1 images]"
    [sent] = native_server.seen[-1]["messages"]
    assert sent["content"][1] == {"type": "image_url", "image_url": {
        "url": "https://images.example/cat.png", "detail": "low"}}
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes("cat")).decode()
    inline = await native_api.chat.completions.create(model="omni",
                                                      messages=image_message(data_url))
    assert inline.choices[0].message.content == "You said: what is this? [1 images]"
    assert native_server.seen[-1]["messages"][0]["content"][1]["image_url"]["url"] == data_url


async def test_a_photo_sized_data_url_fits_the_default_body_limit(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    photo = noisy_png(1024, 1024)  # 3 MiB, a phone photo's size: over the former 1 MiB limit
    data_url = "data:image/png;base64," + base64.b64encode(photo).decode()
    assert 4 * 2**20 < len(data_url) < DEFAULT_MAX_BODY_BYTES
    reply = await native_api.chat.completions.create(model="omni",
                                                     messages=image_message(data_url))
    assert reply.choices[0].message.content == "You said: what is this? [1 images]"
    sent = native_server.seen[-1]["messages"][0]["content"][1]["image_url"]["url"]
    assert base64.b64decode(sent.split(",", 1)[1]) == photo


async def test_an_image_to_a_text_model_is_a_400_naming_the_messages(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await mock_api.chat.completions.create(
            model="echo", messages=image_message("https://images.example/cat.png"))
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "messages"
    assert "image input" in caught.value.body["message"]
    assert mock_server.seen == []


async def test_stop_is_sent_to_a_model_that_takes_it(native_api: openai.AsyncOpenAI,
                                                     native_server: NativeServer) -> None:
    await native_api.chat.completions.create(model="omni", messages=USER, stop=["two"])
    assert native_server.seen[-1]["stop"] == ["two"]


async def test_stop_is_applied_by_the_core_for_a_model_without_it(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    raw = await mock_api.chat.completions.with_raw_response.create(
        model="echo", messages=USER, stop=" two")
    reply = raw.parse()
    assert reply.choices[0].message.content == "You said: one"
    assert raw.headers[EMULATED_HEADER] == "stop"
    assert "stop" not in mock_server.seen[-1]["params"]
    stream = await mock_api.chat.completions.create(model="echo", messages=USER, stop=" two",
                                                    stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream
                    if c.choices]) == "You said: one"


async def test_seed_and_max_completion_tokens_are_sent(native_api: openai.AsyncOpenAI,
                                                       native_server: NativeServer) -> None:
    await native_api.chat.completions.create(model="omni", messages=USER, seed=42,
                                             max_completion_tokens=20, temperature=0.5)
    sent = native_server.seen[-1]
    assert sent["seed"] == 42 and sent["max_tokens"] == 20 and sent["temperature"] == 0.5
    assert "max_completion_tokens" not in sent


async def test_n_replies_are_n_choices(native_api: openai.AsyncOpenAI,
                                       native_server: NativeServer) -> None:
    native_server.script += [{"role": "assistant", "content": "first"},
                             {"role": "assistant", "content": "second"}]
    reply = await native_api.chat.completions.create(model="omni", messages=USER, n=2)
    assert [choice.index for choice in reply.choices] == [0, 1]
    assert sorted(c.message.content or "" for c in reply.choices) == ["first", "second"]
    assert len(native_server.seen) == 2  # one upstream call per reply
    assert reply.usage is not None and reply.usage.completion_tokens == 6  # 3 + 3


async def test_n_above_one_cannot_be_streamed(native_api: openai.AsyncOpenAI,
                                              native_server: NativeServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await native_api.chat.completions.create(model="omni", messages=USER, n=2,
                                                 stream=True)
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "n"
    assert native_server.seen == []


async def test_reasoning_comes_as_reasoning_content(native_api: openai.AsyncOpenAI) -> None:
    reply = await native_api.chat.completions.create(model="thinker", messages=USER,
                                                     reasoning_effort="low")
    message = reply.choices[0].message
    assert message.content == "You said: one two"
    assert message.model_extra == {"reasoning_content": "Thinking about it."}
    stream = await native_api.chat.completions.create(model="thinker", messages=USER,
                                                      stream=True)
    deltas = [c.choices[0].delta for c in [chunk async for chunk in stream] if c.choices]
    assert deltas[0].role == "assistant" and deltas[0].content is None
    assert "".join((d.model_extra or {}).get("reasoning_content", "") for d in deltas) == (
        "Thinking about it.")
    assert "".join(d.content or "" for d in deltas) == "You said: one two"


async def test_a_model_without_reasoning_gets_no_reasoning_content(
        native_api: openai.AsyncOpenAI) -> None:
    reply = await native_api.chat.completions.create(model="omni", messages=USER)
    assert reply.choices[0].message.model_extra == {}


async def test_a_served_model_id_comes_back_for_a_stream_of_the_mock(
        strict_registry: Registry, start_server: StartServer, client: MakeClient) -> None:
    api = client(await start_server(strict_registry))
    stream = await api.chat.completions.create(model="parrot", messages=USER, stream=True)
    assert {chunk.model async for chunk in stream} == {"echo"}
