"""The server through the official openai client: models, chat (streamed and not), images."""

from __future__ import annotations

import asyncio
import base64

import openai
import pytest
from server_helpers import MakeClient, StartServer, raw

from jackfield import Registry
from jackfield.testing import STATS_KEY
from mockprovider import MockServer

USER = [{"role": "user", "content": "one two"}]


async def test_models_list_has_openai_shape_and_jackfield_fields(
        mock_api: openai.AsyncOpenAI) -> None:
    page = await mock_api.models.list()
    models = {m.id: m.to_dict() for m in page.data}
    assert set(models) == {"echo", "painter", "broken"}
    echo = models["echo"]
    assert echo["object"] == "model" and echo["owned_by"] == "mock"
    assert echo["provider"] == "mock" and echo["kind"] == "chat"
    assert echo["aliases"] == ["parrot"] and echo["available"] is True
    assert echo["qualified_id"] == "mock/echo"
    assert models["broken"]["available"] is False
    capabilities = echo["capabilities"]
    assert capabilities["sampling"] == ["temperature"] and capabilities["tools"] is False
    assert set(capabilities) == {"tools", "image_input", "json_object", "json_schema", "stop",
                                 "seed", "reasoning", "logprobs", "sampling"}


async def test_models_list_the_capabilities_of_a_native_model(
        native_api: openai.AsyncOpenAI) -> None:
    models = {m.id: m.to_dict() for m in (await native_api.models.list()).data}
    omni, thinker = models["omni"]["capabilities"], models["thinker"]["capabilities"]
    assert omni["tools"] is omni["image_input"] is omni["json_schema"] is True
    assert omni["reasoning"] is False and thinker["reasoning"] is True
    assert thinker["image_input"] is False
    assert "temperature" in omni["sampling"]


async def test_models_retrieve_resolves_aliases(mock_api: openai.AsyncOpenAI) -> None:
    model = await mock_api.models.retrieve("parrot")
    assert model.id == "echo" and model.owned_by == "mock"
    with pytest.raises(openai.NotFoundError):
        await mock_api.models.retrieve("no-such-model")


async def test_chat_completion_passes_options_through(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    reply = await mock_api.chat.completions.create(
        model="parrot", messages=[{"role": "developer", "content": "be brief"}, *USER],
        temperature=0.2, n=1, extra_body={"creativity": 0.9})
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-")
    assert reply.model == "echo"
    [choice] = reply.choices
    assert choice.message.role == "assistant" and choice.message.content == "You said: one two"
    assert choice.finish_reason == "stop"
    sent = mock_server.seen[-1]
    assert sent["params"] == {"temperature": 0.2}  # the parameter the model honours
    assert sent["options"] == {"creativity": 0.9}  # the provider's own option
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}


async def test_chat_streamed(mock_api: openai.AsyncOpenAI) -> None:
    stream = await mock_api.chat.completions.create(model="echo", messages=USER, stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "You said: one two"
    assert len([c for c in chunks if c.choices[0].delta.content]) == 4  # one per piece
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert chunks[-1].model == "echo"


async def test_stream_with_include_usage_ends_with_a_usage_chunk(
        mock_api: openai.AsyncOpenAI) -> None:
    stream = await mock_api.chat.completions.create(
        model="echo", messages=USER, stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None  # estimated: see usage
    assert chunks[-2].choices[0].finish_reason == "stop"


async def test_images_as_urls_and_base64(mock_api: openai.AsyncOpenAI,
                                         mock_server: MockServer) -> None:
    by_url = await mock_api.images.generate(model="painter", prompt="a red square")
    assert by_url.data is not None
    [image] = by_url.data
    assert image.url is not None and image.url.endswith("/img.png")
    encoded = await mock_api.images.generate(model="painter", prompt="a red square", n=2,
                                             response_format="b64_json")
    assert encoded.data is not None and len(encoded.data) == 2
    assert base64.b64decode(encoded.data[0].b64_json or "").startswith(b"\x89PNG")
    assert len(mock_server.seen) == 3  # one provider call per image


async def test_a_client_that_disconnects_mid_stream_ends_the_upstream_request(
        mock_api: openai.AsyncOpenAI, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()  # lets the first piece out; the rest wait for a gate never opened
    stats = mock_server.app[STATS_KEY]
    stream = await mock_api.chat.completions.create(model="echo", messages=USER, stream=True)
    async for chunk in stream:
        assert chunk.choices[0].delta.content == "You"
        break
    assert stats.in_flight == 1
    await stream.close()
    for _ in range(200):
        if stats.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert stats.in_flight == 0, "the upstream request outlived the client"


async def test_many_concurrent_streams(mock_api: openai.AsyncOpenAI) -> None:
    async def one(index: int) -> str:
        stream = await mock_api.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": f"n{index}"}], stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    replies = await asyncio.gather(*(one(i) for i in range(20)))
    assert replies == [f"You said: n{i}" for i in range(20)]


async def test_health_lists_plugins_and_provider_failures(
        strict_registry: Registry, start_server: StartServer, client: MakeClient,
        mock_server: MockServer) -> None:
    url = await start_server(strict_registry, api_key="k")
    api = client(url, api_key="k")
    mock_server.fail.append((500, {}, '{"message": "down"}'))
    with pytest.raises(openai.InternalServerError):
        await api.chat.completions.create(model="echo", messages=USER)
    status, _, health = await raw("GET", f"{url}/health")  # no API key needed here
    assert status == 200 and health["status"] == "ok"
    assert [p["name"] for p in health["plugins"]] == ["mock"]
    mock = health["providers"]["mock"]
    assert mock["failures"] == 1 and "down" not in mock["last_error"]  # the key shows it
    assert mock["cooling_down"] is False
    _, _, health = await raw("GET", f"{url}/health", headers={"Authorization": "Bearer k"})
    assert "down" in health["providers"]["mock"]["last_error"]
