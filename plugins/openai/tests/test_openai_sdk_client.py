"""The openai SDK -> `jackfield serve` -> jackfield-openai -> the emulator, all on loopback:
chat streamed and not, tools, structured output and images as an application sees them."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

import jackfield
from jackfield import Registry
from jackfield.testing import Emulator, png_bytes, serve_app

openai = pytest.importorskip("openai", reason="the openai SDK is in the repository's dev extra")


@pytest.fixture
async def sdk(registry: Registry) -> AsyncIterator[openai.AsyncOpenAI]:
    """An AsyncOpenAI client of a `jackfield serve` whose only provider is this plugin."""
    # The server's /v1/models and its images endpoint's kind check read the registry's
    # current lists without refreshing stale ones (core/jackfield/_server/app.py): list the
    # models once first, as a long-running server will have done by its first call.
    await registry.refresh_models()
    async with serve_app(jackfield.create_app(registry)) as url:
        client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0,
                                    timeout=10)
        async with client:
            yield client


async def test_chat_streamed_and_not(sdk: openai.AsyncOpenAI) -> None:
    reply = await sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == (
        "Hello from the OpenAI emulator (gpt-4o-mini). You said: hi")
    stream = await sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True)
    pieces = [chunk.choices[0].delta.content async for chunk in stream
              if chunk.choices and chunk.choices[0].delta.content]
    assert len(pieces) == 9 and "".join(pieces).endswith("You said: hi")


async def test_tools_and_structured_output(sdk: openai.AsyncOpenAI, emulator: Emulator) -> None:
    tool = {"type": "function", "function": {
        "name": "lookup", "parameters": {"type": "object", "properties": {
            "term": {"type": "string"}}, "required": ["term"]}}}
    reply = await sdk.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "jackfield"}],
        tools=[tool])  # type: ignore[list-item]
    [call] = reply.choices[0].message.tool_calls or []
    assert call.function.name == "lookup"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"term": "jackfield"}  # type: ignore[union-attr]
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    reply = await sdk.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "r", "schema": schema, "strict": True}})
    assert json.loads(reply.choices[0].message.content or "") == {"ok": False}
    assert emulator.stats.last_json["response_format"]["type"] == "json_schema"


async def test_images(sdk: openai.AsyncOpenAI) -> None:
    reply = await sdk.images.generate(model="openai/dall-e-3", prompt="a heron",
                                      response_format="b64_json")
    assert reply.data is not None
    assert base64.b64decode(reply.data[0].b64_json or "") == png_bytes("dall-e-3:a heron:0")


async def test_the_server_lists_the_discovered_models(sdk: openai.AsyncOpenAI) -> None:
    listed = {model.id async for model in sdk.models.list()}
    assert {"gpt-4o-mini", "text-embedding-3-small", "dall-e-3"} <= listed
