"""The emulator on its own, over real HTTP: OpenAI's refusals and deterministic answers."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import aiohttp
import jsonschema
import pytest
from openai_helpers import KEY

from jackfield.testing import Emulator, png_bytes
from jackfield_openai.emulator import EmulatedModel
from jackfield_openai.emulator.embeddings import embed_text

AUTH = {"authorization": f"Bearer {KEY}"}
HI = [{"role": "user", "content": "hi there"}]


async def post(http: aiohttp.ClientSession, emulator: Emulator, path: str, body: Any,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with http.post(f"{emulator.url}/v1/{path}", json=body,
                         headers=AUTH if headers is None else headers) as response:
        return response.status, await response.json()


async def test_models_list_and_a_model_pulled_at_run_time(http: aiohttp.ClientSession,
                                                          emulator: Emulator) -> None:
    async with http.get(f"{emulator.url}/v1/models", headers=AUTH) as response:
        listing = await response.json()
    assert listing["object"] == "list"
    assert "gpt-4o-mini" in [m["id"] for m in listing["data"]]
    assert "llama3.2" not in [m["id"] for m in listing["data"]]
    from jackfield_openai.emulator import MODELS_KEY
    emulator.app[MODELS_KEY].add("llama3.2")
    async with http.get(f"{emulator.url}/v1/models", headers=AUTH) as response:
        assert "llama3.2" in [m["id"] for m in (await response.json())["data"]]
    status, reply = await post(http, emulator, "chat/completions",
                               {"model": "llama3.2", "messages": HI})
    assert status == 200 and reply["model"] == "llama3.2"


@pytest.mark.parametrize(("headers", "says"), [
    ({}, "You didn't provide an API key"),
    ({"authorization": "Bearer sk-wrong"}, "Incorrect API key provided"),
])
async def test_a_missing_or_wrong_key_is_a_401(http: aiohttp.ClientSession, emulator: Emulator,
                                               headers: dict[str, str], says: str) -> None:
    status, reply = await post(http, emulator, "chat/completions",
                               {"model": "gpt-4o-mini", "messages": HI}, headers)
    assert status == 401 and says in reply["error"]["message"]
    assert "sk-wrong" not in reply["error"]["message"]
    async with http.get(f"{emulator.url}/v1/models", headers=headers) as response:
        assert response.status == 401


@pytest.mark.parametrize(("body", "status", "param", "says"), [
    ({"model": "gpt-4o-mini", "messages": HI, "temprature": 1}, 400, "temprature",
     "Unrecognized request argument supplied: temprature"),
    ({"model": "gpt-4o-mini", "messages": HI, "temperature": "hot"}, 400, "temperature",
     "Invalid type for 'temperature': expected a decimal, but got a string instead."),
    ({"model": "gpt-4o-mini", "messages": HI, "seed": True}, 400, "seed", "expected an integer"),
    ({"model": "gpt-4o-mini"}, 400, "messages", "Missing required parameter: 'messages'"),
    ({"model": "gpt-4o-mini", "messages": []}, 400, "messages", "empty array"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]}, 400,
     "messages[0].role", "Invalid value: 'robot'"),
    ({"model": "gpt-4o-mini", "messages": HI, "temperature": 3}, 400, "temperature",
     "out of range"),
    ({"model": "gpt-4o-mini", "messages": HI, "stream_options": {"include_usage": True}}, 400,
     "stream_options", "only allowed when 'stream' is enabled"),
    ({"model": "gpt-4o-mini", "messages": HI, "response_format": {"type": "json_object"}},
     400, "messages", "must contain the word 'json'"),
    ({"model": "gpt-4o-mini", "messages": HI, "tool_choice": "auto"}, 400, "tool_choice",
     "only allowed when 'tools' are specified"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "tool", "content": "1",
                                            "tool_call_id": "call_1"}]}, 400,
     "messages[0].role", "must be a response to a preceeding message with 'tool_calls'"),
    ({"model": "no-such-model", "messages": HI}, 404, None, "`no-such-model` does not exist"),
    ({"model": "text-embedding-3-small", "messages": HI}, 400, "model", "not supported"),
])
async def test_chat_refusals_are_openai_shaped(http: aiohttp.ClientSession, emulator: Emulator,
                                               body: dict[str, Any], status: int,
                                               param: str | None, says: str) -> None:
    got, reply = await post(http, emulator, "chat/completions", body)
    assert got == status
    assert set(reply["error"]) == {"message", "type", "param", "code"}
    assert reply["error"]["param"] == param
    assert says in reply["error"]["message"]
    if status == 404:
        assert reply["error"]["code"] == "model_not_found"


async def test_a_plain_answer_quotes_the_user_and_counts_usage(
        http: aiohttp.ClientSession, emulator: Emulator) -> None:
    status, reply = await post(http, emulator, "chat/completions",
                               {"model": "gpt-4o", "messages": HI, "seed": 7, "n": 2})
    assert status == 200 and reply["object"] == "chat.completion"
    assert [c["message"]["content"] for c in reply["choices"]] == [
        "Hello from the OpenAI emulator (gpt-4o). You said: hi there"] * 2
    usage = reply["usage"]
    assert usage["completion_tokens"] == 10 and usage["total_tokens"] == (
        usage["prompt_tokens"] + 10)


async def test_tool_arguments_satisfy_the_schema(http: aiohttp.ClientSession,
                                                 emulator: Emulator) -> None:
    schema = {"type": "object", "properties": {
        "city": {"type": "string"}, "days": {"type": "integer", "minimum": 1},
        "unit": {"enum": ["c", "f"]}, "tags": {"type": "array", "items": {"type": "string"},
                                               "minItems": 2}},
        "required": ["city", "days", "unit", "tags"], "additionalProperties": False}
    tools = [{"type": "function", "function": {"name": "noop", "parameters": {}}},
             {"type": "function", "function": {"name": "weather", "parameters": schema}}]
    status, reply = await post(http, emulator, "chat/completions", {
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Paris"}],
        "tools": tools, "tool_choice": {"type": "function", "function": {"name": "weather"}}})
    assert status == 200
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "weather"
    arguments = json.loads(call["function"]["arguments"])
    jsonschema.validate(arguments, schema)
    assert arguments["city"] == "Paris"


async def test_embeddings_float_and_base64_agree(http: aiohttp.ClientSession,
                                                 emulator: Emulator) -> None:
    body = {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 4}
    _, floats = await post(http, emulator, "embeddings", body)
    _, packed = await post(http, emulator, "embeddings", {**body, "encoding_format": "base64"})
    for as_float, as_base64 in zip(floats["data"], packed["data"], strict=True):
        raw = base64.b64decode(as_base64["embedding"])
        assert list(struct.unpack("<4f", raw)) == as_float["embedding"]
    assert floats["data"][0]["embedding"] == embed_text("a", 4)
    assert abs(sum(v * v for v in floats["data"][0]["embedding"]) - 1) < 1e-5
    status, reply = await post(http, emulator, "embeddings",
                               {"model": "text-embedding-ada-002", "input": "a",
                                "dimensions": 4})
    assert status == 400 and "does not support specifying dimensions" in (
        reply["error"]["message"])


async def test_image_models_follow_their_family_rules(http: aiohttp.ClientSession,
                                                      emulator: Emulator) -> None:
    status, reply = await post(http, emulator, "images/generations",
                               {"model": "gpt-image-1", "prompt": "a cat",
                                "response_format": "url"})
    assert status == 400 and reply["error"]["param"] == "response_format"
    status, reply = await post(http, emulator, "images/generations",
                               {"model": "dall-e-3", "prompt": "a cat", "size": "10x10"})
    assert status == 400 and reply["error"]["param"] == "size"
    status, reply = await post(http, emulator, "images/generations",
                               {"model": "dall-e-3", "prompt": "a cat"})
    assert status == 200
    async with http.get(reply["data"][0]["url"]) as download:
        assert await download.read() == png_bytes("dall-e-3:a cat:0")


async def test_a_custom_model_list(http: aiohttp.ClientSession) -> None:
    from jackfield.testing import serve_app
    from jackfield_openai.emulator import create_app

    app = create_app(models=["only-one", EmulatedModel("e5-embed", "embedding", 3)])
    async with serve_app(app) as url, http.get(f"{url}/v1/models") as response:
        assert [m["id"] for m in (await response.json())["data"]] == ["only-one", "e5-embed"]
