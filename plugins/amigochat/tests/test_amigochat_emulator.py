"""The emulator's strict validation and its replies, spoken to with a plain aiohttp session."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest
from amigochat_helpers import TOKEN, build, make_config, make_request

import jackfield_amigochat
from jackfield.testing import Emulator, png_bytes, serve_app
from jackfield_amigochat.emulator import create_app

MISSING = object()


def valid(emulator: Emulator, model: str = "gpt-4o-mini", prompt: str = "hi there",
          stream: bool = False) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Return url, headers and body of a request the plugin itself would send."""
    http = build(make_request(prompt, model, stream=stream), make_config(emulator.url))
    return http.url, dict(http.headers), dict(http.json)


async def post(session: aiohttp.ClientSession, url: str, headers: Mapping[str, str],
               body: Any) -> tuple[int, Any]:
    """POST body as JSON and return the status and the parsed JSON reply."""
    async with session.post(url, headers=headers, data=json.dumps(body)) as response:
        return response.status, await response.json(content_type=None)


async def test_valid_non_streaming_chat(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    status, reply = await post(http, *valid(emulator, "gpt-4o", "how are you"))
    assert status == 200
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["message"]["content"] == (
        "Hello from the AmigoChat emulator (gpt-4o-2024-11-20). You said: how are you")
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert reply["usage"] == {"prompt_tokens": 3, "completion_tokens": 11, "total_tokens": 14}
    assert emulator.stats.last_json["personaId"] == "gpt"


async def test_streaming_chat_wire_format(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    url, headers, body = valid(emulator, prompt="pieces:3", stream=True)
    async with http.post(url, headers=headers, json=body) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        raw = (await response.read()).decode()
    events = raw.split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-2]]
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == [" w1", " w2", " w3", None]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("model", "gemini-flash", "send the model id, not an alias"),
    ("model", "claude-3.5-sonnet", "send the model id, not an alias"),
    ("model", "gpt-5", "unknown model"),
    ("model", 42, "model must be a string"),
    ("model", "dall-e-3", "image model"),
    ("personaId", "gpt", "personaId"),
    ("chatId", MISSING, "missing field(s): chatId"),
    ("chatId", "not-a-uuid", "chatId must be a UUID"),
    ("messages", [], "messages"),
    ("messages", "hi", "messages"),
    ("messages", [{"role": "robot", "content": "x"}], "messages[0].role"),
    ("messages", [{"role": "user", "content": 5}], "messages[0].content"),
    ("messages", [{"role": "user"}], "messages[0]"),
    ("messages", [{"role": "system", "content": "x"}], "no user message"),
    ("temperature", "0.5", "temperature must be a number"),
    ("top_p", True, "top_p must be a number"),
    ("max_tokens", 1.5, "max_tokens"),
    ("max_tokens", 0, "max_tokens"),
    ("frequency_penalty", None, "frequency_penalty must be a number"),
    ("stream", "yes", "stream must be true or false"),
    ("extra", 1, "unexpected field(s): extra"),
])
async def test_bad_chat_bodies_are_refused(emulator: Emulator, http: aiohttp.ClientSession,
                                           field: str, value: Any, expected: str) -> None:
    url, headers, body = valid(emulator)
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    status, reply = await post(http, url, headers, body)
    assert status == 400
    assert expected in reply["message"]


async def test_the_ids_gpt_4o_and_gpt_4o_mini_are_not_refused_as_aliases(
        emulator: Emulator, http: aiohttp.ClientSession) -> None:
    url, headers, body = valid(emulator)
    for model, persona in (("gpt-4o", "summarizer"), ("gpt-4o-mini", "amigo")):
        status, _ = await post(http, url, headers, body | {"model": model, "personaId": persona})
        assert status == 200


@pytest.mark.parametrize(("header", "value", "expected"), [
    ("x-device-uuid", None, "missing header x-device-uuid"),
    ("x-device-uuid", "1234", "not a UUID"),
    ("x-device-language", None, "x-device-language"),
    ("x-device-platform", None, "x-device-platform"),
    ("x-device-platform", "ios", "x-device-platform"),
    ("x-device-version", None, "x-device-version"),
    ("content-type", "text/plain", "content-type"),
])
async def test_bad_headers_are_refused(emulator: Emulator, http: aiohttp.ClientSession,
                                       header: str, value: str | None, expected: str) -> None:
    url, headers, body = valid(emulator)
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    status, reply = await post(http, url, headers, body)
    assert status == 400
    assert expected in reply["message"]


async def test_invalid_json_is_refused(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    url, headers, _ = valid(emulator)
    async with http.post(url, headers=headers, data=b"{not json") as response:
        assert response.status == 400
        assert "not valid JSON" in (await response.json())["message"]


@pytest.mark.parametrize("authorization", [None, "Basic abc", "Token x"])
async def test_authorization_must_start_with_bearer(
        emulator: Emulator, http: aiohttp.ClientSession, authorization: str | None) -> None:
    url, headers, body = valid(emulator)
    if authorization is None:
        del headers["authorization"]
    else:
        headers["authorization"] = authorization
    assert await post(http, url, headers, body) == (401, {"message": "Unauthorized"})


async def test_a_configured_token_is_required(http: aiohttp.ClientSession) -> None:
    async with serve_app(create_app(token=TOKEN)) as url:
        plain = build(make_request(), make_config(url))
        assert await post(http, plain.url, plain.headers, plain.json) == (
            401, {"message": "Unauthorized"})
        wrong = build(make_request(), make_config(url, token="other"))
        assert (await post(http, wrong.url, wrong.headers, wrong.json))[0] == 401
        right = build(make_request(), make_config(url, token=TOKEN))
        assert (await post(http, right.url, right.headers, right.json))[0] == 200


@pytest.mark.parametrize(("model", "persona"), [
    ("o1-mini-", "openai-o-one-mini"), ("zero-one-ai/Yi-34B", "zero-one-ai-Yi-34B")])
async def test_unavailable_models_answer_402(emulator: Emulator, http: aiohttp.ClientSession,
                                             model: str, persona: str) -> None:
    url, headers, body = valid(emulator)
    status, reply = await post(http, url, headers, body | {"model": model, "personaId": persona})
    assert (status, reply) == (402, {"message": "balance is not enough"})


async def test_pieces_limit(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    status, reply = await post(http, *valid(emulator, prompt="pieces:100001"))
    assert status == 400 and "100000" in reply["message"]
    status, reply = await post(http, *valid(emulator, prompt="pieces:5"))
    assert reply["choices"][0]["message"]["content"] == " w1 w2 w3 w4 w5"


async def test_images_are_served_from_the_emulator(emulator: Emulator,
                                                   http: aiohttp.ClientSession) -> None:
    status, reply = await post(http, *valid(emulator, "flux-dev", "a red fox"))
    assert status == 200
    [item] = reply["data"]
    assert item["url"].startswith(emulator.url + "/images/") and item["url"].endswith(".png")
    async with http.get(item["url"]) as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert await response.read() == png_bytes(seed="a red fox")


async def test_dall_e_3_returns_two_distinct_images(emulator: Emulator,
                                                    http: aiohttp.ClientSession) -> None:
    _, reply = await post(http, *valid(emulator, "dall-e-3", "a cat"))
    urls = [item["url"] for item in reply["data"]]
    assert len(set(urls)) == 2


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("prompt", "", "prompt"), ("prompt", 3, "prompt"), ("model", "flux-dev", "alias"),
    ("model", "gpt-4o-mini", "chat model"), ("personaId", "flux", "personaId"),
    ("chatId", "x", "unexpected field(s): chatId"),
])
async def test_bad_image_bodies_are_refused(emulator: Emulator, http: aiohttp.ClientSession,
                                            field: str, value: Any, expected: str) -> None:
    url, headers, body = valid(emulator, "flux-dev", "a fox")
    status, reply = await post(http, url, headers, body | {field: value})
    assert status == 400 and expected in reply["message"]


async def test_unavailable_image_model_answers_402(emulator: Emulator,
                                                   http: aiohttp.ClientSession) -> None:
    url, headers, body = valid(emulator, "flux-dev", "a fox")
    status, reply = await post(http, url, headers,
                               body | {"model": "flux-pro", "personaId": "flux-pro"})
    assert (status, reply) == (402, {"message": "balance is not enough"})


async def test_unknown_image_is_404(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{emulator.url}/images/{'0' * 32}.png") as response:
        assert response.status == 404


def test_the_emulator_hook_returns_the_factory() -> None:
    assert jackfield_amigochat.jackfield_emulator() is create_app
