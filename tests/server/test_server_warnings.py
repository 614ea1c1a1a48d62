"""What a call accepts but does not send is reported: the X-Jackfield-Warnings header (and
`jackfield_warnings` in the body), streamed or not; strict mode makes each a 400."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from server_helpers import MakeClient, StartServer, raw

from jackfield import Registry
from jackfield._server.chat_shapes import MAX_HEADER_CHARS, WARNINGS_HEADER
from mockprovider import MockProvider, MockServer
from nativeprovider import NativeProvider, NativeServer

USER: list[Any] = [{"role": "user", "content": "one two"}]
NO_OPS = {"user": "u-1", "store": False, "metadata": {"k": "v"}, "service_tier": "auto",
          "logprobs": False}


def warned(headers: Any) -> dict[str, str]:
    """Return param -> message of a reply's warnings header."""
    return {entry["param"]: entry["message"] for entry in json.loads(headers[WARNINGS_HEADER])}


async def test_no_op_fields_are_accepted_and_listed_in_a_header(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    response = await native_api.chat.completions.with_raw_response.create(
        model="omni", messages=USER, **NO_OPS)
    reply = response.parse()
    assert reply.choices[0].message.content == "You said: one two"
    warnings = warned(response.headers)
    assert set(warnings) == set(NO_OPS)
    assert warnings["user"] == "user was accepted but not sent: native does not use it."
    assert reply.model_extra is not None
    assert {w["param"] for w in reply.model_extra["jackfield_warnings"]} == set(NO_OPS)
    assert not set(NO_OPS) & set(native_server.seen[-1])


async def test_a_stream_sends_its_warnings_with_the_headers(
        native_api: openai.AsyncOpenAI) -> None:
    response = await native_api.chat.completions.with_raw_response.create(
        model="omni", messages=USER, stream=True, stream_options={"include_usage": True},
        **NO_OPS)
    # The server honours include_usage itself: stream_options is no warning here.
    assert set(warned(response.headers)) == set(NO_OPS)
    chunks = [chunk async for chunk in response.parse()]
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    finish = chunks[-2]
    assert finish.choices[0].finish_reason == "stop" and finish.model_extra is not None
    assert {w["param"] for w in finish.model_extra["jackfield_warnings"]} == set(NO_OPS)


async def test_a_reply_without_warnings_has_no_header(native_api: openai.AsyncOpenAI) -> None:
    response = await native_api.chat.completions.with_raw_response.create(model="omni",
                                                                          messages=USER)
    assert WARNINGS_HEADER not in response.headers
    assert response.parse().model_extra == {"provider": "native", "jackfield_warnings": []}


async def test_stream_options_without_a_stream_is_a_warning(
        native_api: openai.AsyncOpenAI) -> None:
    response = await native_api.chat.completions.with_raw_response.create(
        model="omni", messages=USER, stream_options={"include_usage": True})
    assert set(warned(response.headers)) == {"stream_options"}


async def test_the_header_is_ascii_json_whatever_the_warning_says(
        native_api: openai.AsyncOpenAI) -> None:
    response = await native_api.chat.completions.with_raw_response.create(
        model="omni", messages=USER, stream=True,
        stream_options={"include_usage": False, "größe": 1})
    header = response.headers[WARNINGS_HEADER]
    assert header.isascii()
    assert list(warned(response.headers)) == ["stream_options.größe"]
    await response.parse().close()


async def test_many_warnings_fit_the_header_and_the_body_lists_them_all(
        native_api: openai.AsyncOpenAI) -> None:
    history: list[Any] = []
    for number in range(60):  # a long history replayed with its refusals: one warning each
        history += [{"role": "user", "content": f"q{number}"},
                    {"role": "assistant", "content": "no", "refusal": "I will not."}]
    response = await native_api.chat.completions.with_raw_response.create(
        model="omni", messages=[*history, *USER])
    header = response.headers[WARNINGS_HEADER]
    assert len(header) <= MAX_HEADER_CHARS + 200
    entries = json.loads(header)
    assert entries[-1]["param"] is None
    assert entries[-1]["message"].startswith(f"{60 - len(entries) + 1} more warning(s)")
    body = response.parse().model_extra
    assert body is not None and len(body["jackfield_warnings"]) == 60


async def test_temperature_to_aichats_is_a_warning_not_a_400(
        seed_registry: Registry, start_server: StartServer, client: MakeClient) -> None:
    api = client(await start_server(seed_registry))
    response = await api.chat.completions.with_raw_response.create(
        model="aichats/gpt-4", messages=USER, temperature=0.1, top_p=0.9)
    assert response.parse().choices[0].message.content.endswith("You said: one two")
    warnings = warned(response.headers)
    assert set(warnings) == {"temperature", "top_p"}
    assert "aichats/gpt-4 does not honour it" in warnings["temperature"]


@pytest.mark.parametrize("model", ["dalle", "flux-realism"])
async def test_image_size_quality_and_style_are_accepted_with_warnings(
        seed_registry: Registry, start_server: StartServer, client: MakeClient,
        model: str) -> None:
    api = client(await start_server(seed_registry))
    response = await api.images.with_raw_response.generate(
        model=model, prompt="a lighthouse", size="1024x1024", quality="hd", style="vivid",
        user="u-1", n=2)
    images = response.parse()
    assert images.data is not None and len(images.data) == 2
    warnings = warned(response.headers)  # listed once, though two calls made the images
    assert set(warnings) == {"size", "quality", "style", "user"}
    assert len(json.loads(response.headers[WARNINGS_HEADER])) == 4
    assert "size was accepted but not sent" in warnings["size"]


async def test_a_strict_server_refuses_what_it_would_not_send(
        native_server: NativeServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    registry = make_registry([NativeProvider()], strict=True,
                             base_urls={"native": await serve_app(native_server.app)})
    api = client(await start_server(registry))
    for extra, param in [({"user": "u-1"}, "user"), ({"logprobs": False}, "logprobs"),
                         ({"seed": 1}, None), ({"stream_options": {"include_usage": True}},
                                               "stream_options")]:
        model = "plain" if param is None else "omni"  # plain honours no seed
        with pytest.raises(openai.BadRequestError) as caught:
            await api.chat.completions.create(model=model, messages=USER, **extra)
        body = caught.value.body
        assert isinstance(body, dict) and body["param"] == (param or "seed")
        assert "strict" in body["message"]
    with pytest.raises(openai.BadRequestError) as caught:  # a stream is refused alike
        await api.chat.completions.create(model="omni", messages=USER, stream=True,
                                          store=True)
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "store"
    assert native_server.seen == []
    reply = await api.chat.completions.create(model="omni", messages=USER, seed=1)
    assert reply.choices[0].message.content == "You said: one two"  # nothing to refuse


async def test_a_strict_server_refuses_image_fields_it_would_not_send(
        mock_server: MockServer, serve_app: Any, make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    registry = make_registry([MockProvider()], strict=True,
                             base_urls={"mock": await serve_app(mock_server.app)})
    url = await start_server(registry)
    with pytest.raises(openai.BadRequestError) as caught:
        await client(url).images.generate(model="painter", prompt="x", size="1024x1024")
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "size"
    assert mock_server.seen == []
    status, headers, body = await raw(
        "POST", f"{url}/v1/images/generations", data=b'{"model": "painter", "prompt": "x"}',
        headers={"content-type": "application/json"})
    assert status == 200 and WARNINGS_HEADER not in headers and body["jackfield_warnings"] == []
