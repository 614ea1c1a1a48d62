"""Chat through a Registry: what the plugin sends Ollama, and what callers get back."""

from __future__ import annotations

import base64
import json
from typing import Any

import jackfield_ollama_example
import pytest
from jackfield_ollama_example.listing import model_spec
from ollama_helpers import PNG_SIGNATURE, SPEC, start

from jackfield import CapabilityError, InvalidRequestError
from jackfield.provider import HttpRequest
from jackfield.testing import RegistryFactory, ServeApp, make_config, make_request, png_bytes

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}
# The spec as discovery makes it: make_request() needs the model in the spec's list.
LISTED = SPEC.with_models([
    model_spec("qwen3:8b", {"capabilities": ["completion", "tools", "thinking"]}),
    model_spec("llava:7b", {"capabilities": ["completion", "vision"]})])


def build(model: str = "qwen3:8b", messages: Any = "hi", **params: Any) -> HttpRequest:
    """Run the build hook on a request prepared as a Registry prepares it."""
    request = make_request(LISTED, model, messages, **params)
    return jackfield_ollama_example.jackfield_build_request(
        request=request, config=make_config(LISTED, base_url="http://127.0.0.1:9"))


def test_the_request_maps_complete_parameters_to_ollama_options() -> None:
    built = build(temperature=0.5, top_p=0.9, max_tokens=12, seed=7, stop=["\n\n"],
                  presence_penalty=0.1, frequency_penalty=0.2, stream=True)
    assert (built.method, built.url, built.stream) == ("POST", "http://127.0.0.1:9/api/chat",
                                                       True)
    assert built.json == {
        "model": "qwen3:8b", "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        "options": {"temperature": 0.5, "top_p": 0.9, "num_predict": 12, "seed": 7,
                    "presence_penalty": 0.1, "frequency_penalty": 0.2, "stop": ["\n\n"]}}


def test_options_with_a_none_default_are_sent_only_when_given() -> None:
    assert "keep_alive" not in build().json and "options" not in build().json
    built = build(keep_alive="10m", num_ctx=8192)
    assert built.json["keep_alive"] == "10m"
    assert built.json["options"] == {"num_ctx": 8192}
    assert build(keep_alive=0).json["keep_alive"] == 0  # (str, int): either is accepted


def test_a_wrong_option_type_is_refused_before_any_io() -> None:
    with pytest.raises(InvalidRequestError, match="keep_alive") as caught:
        build(keep_alive=True)  # a bool is never an int to an API
    assert caught.value.param == "keep_alive"
    with pytest.raises(InvalidRequestError, match="truncate"):
        build(truncate=True)  # an embedding option


def test_formats_think_and_speaker_names() -> None:
    assert build(response_format={"type": "json_object"}).json["format"] == "json"
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert build(response_format={"type": "json_schema", "json_schema": {
        "name": "count", "schema": schema}}).json["format"] == schema
    assert build(reasoning_effort="none").json["think"] is False
    assert build(reasoning_effort="high").json["think"] == "high"
    with pytest.raises(InvalidRequestError) as caught:
        build(reasoning_effort="minimal")
    assert caught.value.param == "reasoning_effort"
    named = build(messages=[{"role": "user", "name": "Alice", "content": "hello"}])
    assert named.json["messages"] == [{"role": "user", "content": "Alice: hello"}]


def test_images_go_as_base64_and_links_are_refused() -> None:
    png = png_bytes("cat")
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    built = build("llava:7b", [{"role": "user", "content": [
        {"type": "text", "text": "what is it?"},
        {"type": "image_url", "image_url": {"url": url}}]}])
    message = built.json["messages"][0]
    assert message["content"] == "what is it?"
    assert base64.b64decode(message["images"][0]) == png
    link = {"role": "user", "content": [{"type": "text", "text": "and this?"}, {
        "type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}}]}
    with pytest.raises(InvalidRequestError, match="bytes, not links") as caught:
        build("llava:7b", [link])
    assert caught.value.param == "messages[0].content[1]"


async def test_chat_streamed_and_whole(serve_app: ServeApp,
                                       make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    stream = await ollama.registry.complete("ollama/llama3.2:3b", "stream me please",
                                            stream=True)
    pieces = [chunk.text async for chunk in stream]
    assert pieces == ["You", " said:", " stream", " me", " please"]
    assert stream.completion.finish_reason == "stop"
    assert stream.completion.usage is not None and stream.completion.usage.completion_tokens == 5
    whole = await ollama.registry.complete("ollama/llama3.2:3b", "one two three", max_tokens=2)
    assert (whole.text, whole.finish_reason) == ("You said:", "length")
    assert ollama.stats.last_json["options"] == {"num_predict": 2}
    assert ollama.stats.last_json["stream"] is False


async def test_thinking_is_reasoning(serve_app: ServeApp, make_registry: RegistryFactory
                                     ) -> None:
    ollama = await start(serve_app, make_registry)
    stream = await ollama.registry.complete("ollama/qwen3:8b", "think about it",
                                            reasoning_effort="medium", stream=True)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.reasoning for c in chunks) == "The user wrote 3 words."
    assert stream.completion.reasoning == "The user wrote 3 words."
    assert stream.completion.text == "You said: think about it"
    assert ollama.stats.last_json["think"] == "medium"


async def test_an_image_reaches_a_vision_model(serve_app: ServeApp,
                                               make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    url = "data:image/png;base64," + base64.b64encode(png_bytes("dog", 32, 16)).decode()
    messages = [{"role": "user", "content": [{"type": "text", "text": "look"},
                                             {"type": "image_url", "image_url": {"url": url}}]}]
    reply = await ollama.registry.complete("llava:7b", messages)
    assert reply.text == "You said: look (I see a 32x16 PNG image)"
    assert base64.b64decode(ollama.stats.last_json["messages"][0]["images"][0]).startswith(
        PNG_SIGNATURE)
    with pytest.raises(CapabilityError):  # the listing says llama3.2 has no vision
        await ollama.registry.complete("ollama/llama3.2:3b", messages)
    requests = ollama.stats.requests
    link = [{"role": "user", "content": [{"type": "image_url", "image_url": {
        "url": "https://example.invalid/cat.png"}}]}]
    with pytest.raises(InvalidRequestError, match="not links"):
        await ollama.registry.complete("llava:7b", link)
    assert ollama.stats.requests == requests  # refused before any I/O


async def test_tools_round_trip(serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    stream = await ollama.registry.complete("ollama/llama3.2:3b", "weather in Paris?",
                                            tools=[WEATHER], stream=True)
    deltas = [chunk.tool_call async for chunk in stream if chunk.tool_call is not None]
    assert [(d.index, d.name) for d in deltas] == [(0, "get_weather")]
    (call,) = stream.completion.tool_calls
    assert call.parsed_arguments() == {"city": "weather in Paris?"}
    assert stream.completion.finish_reason == "tool_calls"
    assert ollama.stats.last_json["tools"] == [WEATHER]
    history = [{"role": "user", "content": "weather in Paris?"},
               {"role": "assistant", "content": None, "tool_calls": [call.to_dict()]},
               {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}]
    reply = await ollama.registry.complete("ollama/llama3.2:3b", history, tools=[WEATHER])
    assert reply.text == "The tool said: sunny, 21 C"
    sent = ollama.stats.last_json["messages"]
    assert sent[1]["tool_calls"] == [{"function": {"name": "get_weather",
                                                   "arguments": {"city": "weather in Paris?"}}}]
    assert sent[2] == {"role": "tool", "content": "sunny, 21 C", "tool_name": "get_weather"}


async def test_tool_choice_ollama_cannot_honour_is_refused(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    reply = await ollama.registry.complete("ollama/llama3.2:3b", "hi", tools=[WEATHER],
                                           tool_choice="none")
    assert reply.text == "You said: hi" and "tools" not in ollama.stats.last_json
    with pytest.raises(InvalidRequestError) as caught:
        await ollama.registry.complete("ollama/llama3.2:3b", "hi", tools=[WEATHER],
                                       tool_choice="required")
    assert caught.value.param == "tool_choice"


async def test_json_object_and_schema(serve_app: ServeApp,
                                      make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    reply = await ollama.registry.complete("ollama/llama3.2:3b", "a cat",
                                           response_format={"type": "json_object"})
    assert json.loads(reply.text) == {"answer": "a cat"}
    schema = {"type": "object", "properties": {"animal": {"type": "string"},
                                               "legs": {"type": "integer"}},
              "required": ["animal", "legs"]}
    reply = await ollama.registry.complete(
        "ollama/llama3.2:3b", "a cat", stream=True,
        response_format={"type": "json_schema", "json_schema": {"name": "pet", "schema": schema}})
    text = "".join([chunk.text async for chunk in reply])
    assert json.loads(text) == {"animal": "a cat", "legs": 2}
    assert ollama.stats.last_json["format"] == schema
