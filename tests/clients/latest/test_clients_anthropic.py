"""The anthropic SDK against `jackfield serve`'s Messages API: plain and streamed (the
`.stream()` helper and stream=True), a tool round trip, an image, thinking, count_tokens,
models.list, errors and both ways of sending the key, with the sync and the async client;
then through jackfield-openai to its strict OpenAI emulator, checking what reached it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from clientkit import API_KEY, LiveServer
from endpointkit import EMULATOR_KEY, EndpointServer

from jackfield.testing import png_bytes

WEATHER = {"name": "get_weather", "description": "The current weather in a city.",
           "input_schema": {"type": "object", "properties": {
               "city": {"type": "string", "description": "The city's name."},
               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
               "required": ["city", "unit"]}}
ASK: Any = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(autouse=True)
def _no_anthropic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK reads these; a developer's own would point it at a real service.
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def client_for(server: LiveServer, **options: Any) -> anthropic.Anthropic:
    """Return a client of server (the key as x-api-key, the SDK's default); no retries."""
    settings: dict[str, Any] = {"api_key": API_KEY} | options
    return anthropic.Anthropic(base_url=server.url, max_retries=0, timeout=20, **settings)


@pytest.fixture
def client(server: LiveServer) -> Iterator[anthropic.Anthropic]:
    with client_for(server) as made:
        yield made


def image_block() -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                        "data": base64.b64encode(png_bytes("a cat")).decode()}}


def test_a_message(client: anthropic.Anthropic, server: LiveServer) -> None:
    message = client.messages.create(model="omni", max_tokens=100, messages=ASK,
                                     system="Be brief.",
                                     # This SDK has no sampling parameters any more; older
                                     # ones and other clients still send them.
                                     extra_body={"temperature": 0.2})
    assert isinstance(message, anthropic.types.Message)
    assert message.type == "message" and message.role == "assistant"
    [block] = message.content
    assert block.type == "text" and block.text == "You said: What is the weather in Paris?"
    assert message.stop_reason == "end_turn" and message.model == "omni"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 3)
    sent = server.sent()
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_tokens"] == 100 and sent["temperature"] == 0.2
    headers = server.replies[-1]
    assert headers.path == "/v1/messages" and headers.status == 200


def test_the_stream_helper(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="omni", max_tokens=100, messages=ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "You said: What is the weather in Paris?"
    assert final.content[0].type == "text" and final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (5, 3)


def test_stream_true_gives_anthropics_events(client: anthropic.Anthropic) -> None:
    with client.messages.create(model="thinker", max_tokens=4096, messages=ASK, stream=True,
                                thinking={"type": "enabled", "budget_tokens": 2048}) as stream:
        events = list(stream)
    kinds = [event.type for event in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    deltas = [event.delta.type for event in events if event.type == "content_block_delta"]
    assert deltas[0] == "thinking_delta" and set(deltas[1:]) == {"text_delta"}
    starts = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert starts == ["thinking", "text"]


def test_a_tool_round_trip(client: anthropic.Anthropic, server: LiveServer) -> None:
    first = client.messages.create(model="omni", max_tokens=100, messages=ASK,
                                   tools=[WEATHER], tool_choice={"type": "any"})  # type: ignore[list-item]
    assert first.stop_reason == "tool_use"
    [call] = first.content
    assert call.type == "tool_use" and call.name == "get_weather"
    assert call.input == {"city": "sunny", "unit": "celsius"}
    assert server.sent()["tool_choice"] == "required"
    history: Any = [*ASK, {"role": "assistant", "content": first.content},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": call.id, "content": "18 C"}]}]
    second = client.messages.create(model="omni", max_tokens=100, messages=history,
                                    tools=[WEATHER])  # type: ignore[list-item]
    assert second.content[0].type == "text"
    assert second.content[0].text == "The tool said 18 C"
    assert server.sent()["messages"][-1] == {"role": "tool", "content": "18 C",
                                             "tool_call_id": call.id}


def test_a_streamed_tool_call_is_parsed_by_the_helper(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="omni", max_tokens=100, messages=ASK,
                                tools=[WEATHER]) as stream:  # type: ignore[list-item]
        fragments = [event.partial_json for event in stream if event.type == "input_json"]
        final = stream.get_final_message()
    assert len(fragments) > 1
    [call] = final.content
    assert call.type == "tool_use" and call.input == {"city": "sunny", "unit": "celsius"}
    assert final.stop_reason == "tool_use"


def test_an_image(client: anthropic.Anthropic, server: LiveServer) -> None:
    message = client.messages.create(model="omni", max_tokens=100, messages=[
        {"role": "user", "content": [image_block(),  # type: ignore[list-item]
                                     {"type": "text", "text": "What is this?"}]}])
    assert message.content[0].type == "text"
    assert message.content[0].text == "You said: What is this? [1 images]"
    assert server.sent()["messages"][0]["content"][0]["type"] == "image_url"


def test_count_tokens_and_models(client: anthropic.Anthropic, server: LiveServer) -> None:
    count = client.messages.count_tokens(model="omni", messages=ASK, system="Be brief.")
    assert count.input_tokens == 10  # 38 characters, 4 to a token
    assert count.model_extra == {"jackfield_estimated": True}
    models = list(client.models.list(limit=2))  # two pages: the SDK follows last_id
    assert [model.id for model in models] == ["omni", "thinker", "plain"]
    assert models[0].type == "model" and models[0].display_name == "omni"
    assert client.models.retrieve("plain").id == "plain"
    assert server.native.seen == []  # neither asked the provider anything


def test_errors_are_the_sdks_exceptions(client: anthropic.Anthropic,
                                        server: LiveServer) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(model="no-such-model", max_tokens=10, messages=ASK)
    assert isinstance(missing.value.body, dict)
    assert missing.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(model="omni", max_tokens=10, messages=ASK,
                               extra_body={"top_k": 0})
    assert "top_k" in str(bad.value)
    server.native.fail.append(429)
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="omni", max_tokens=10, messages=ASK)
    with client_for(server, api_key="wrong-key-00000000") as wrong, pytest.raises(
            anthropic.AuthenticationError):
        wrong.messages.create(model="omni", max_tokens=10, messages=ASK)


def test_the_key_as_a_bearer_token(server: LiveServer) -> None:
    with anthropic.Anthropic(base_url=server.url, auth_token=API_KEY, api_key=None,
                             max_retries=0) as bearer:
        message = bearer.messages.create(model="omni", max_tokens=10, messages=ASK)
    assert message.content[0].type == "text"


async def test_the_async_client(server: LiveServer) -> None:
    async with anthropic.AsyncAnthropic(base_url=server.url, api_key=API_KEY,
                                        max_retries=0, timeout=20) as client:
        message = await client.messages.create(model="omni", max_tokens=50, messages=ASK)
        async with client.messages.stream(model="omni", max_tokens=50,
                                          messages=ASK) as stream:
            text = "".join([piece async for piece in stream.text_stream])
        with pytest.raises(anthropic.NotFoundError):
            await client.messages.create(model="nope", max_tokens=5, messages=ASK)
    assert message.content[0].type == "text" and message.content[0].text == text


# Through jackfield-openai to its strict OpenAI emulator.
QUESTION = "What is the weather in Lisbon today?"


@pytest.fixture
def endpoint_client(endpoint_server: EndpointServer) -> Iterator[anthropic.Anthropic]:
    with client_for(endpoint_server) as made:
        yield made


def test_endpoint_message_and_what_reached_the_emulator(
        endpoint_client: anthropic.Anthropic, endpoint_server: EndpointServer) -> None:
    message = endpoint_client.messages.create(
        model="gpt-4o-mini", max_tokens=50, system="Be brief.", stop_sequences=["END"],
        messages=[{"role": "user", "content": QUESTION}])
    assert message.content[0].type == "text"
    assert message.content[0].text == (
        f"Hello from the OpenAI emulator (gpt-4o-mini). You said: {QUESTION}")
    # The service's own count: its words per message, and 3 for each of the two messages.
    assert message.usage.input_tokens == len(QUESTION.split()) + 2 + 6
    sent = endpoint_server.sent()
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": QUESTION}]
    assert sent["stop"] == ["END"]
    received = endpoint_server.upstream[-1]
    assert received.headers["authorization"] == f"Bearer {EMULATOR_KEY}"
    assert API_KEY not in json.dumps(received.headers)


def test_endpoint_streamed_tool_round_trip(endpoint_client: anthropic.Anthropic,
                                           endpoint_server: EndpointServer) -> None:
    ask: Any = [{"role": "user", "content": QUESTION}]
    with endpoint_client.messages.stream(model="gpt-4o", max_tokens=100, messages=ask,
                                         tools=[WEATHER]) as stream:  # type: ignore[list-item]
        first = stream.get_final_message()
    [call] = [block for block in first.content if block.type == "tool_use"]
    assert call.name == "get_weather" and call.input == {"city": QUESTION, "unit": "celsius"}
    assert endpoint_server.sent()["tools"][0]["function"]["parameters"] == (
        WEATHER["input_schema"])
    history: Any = [*ask, {"role": "assistant", "content": first.content},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": call.id, "content": "18 C"}]}]
    second = endpoint_client.messages.create(model="gpt-4o", max_tokens=100,
                                             messages=history, tools=[WEATHER])  # type: ignore[list-item]
    assert second.stop_reason in ("end_turn", "tool_use")
    sent = endpoint_server.sent()["messages"]
    assert sent[-1] == {"role": "tool", "content": "18 C", "tool_call_id": call.id}
    assert sent[-2]["tool_calls"][0]["id"] == call.id


def test_endpoint_image_and_unknown_model(endpoint_client: anthropic.Anthropic,
                                          endpoint_server: EndpointServer) -> None:
    message = endpoint_client.messages.create(model="gpt-4o", max_tokens=50, messages=[
        {"role": "user", "content": [image_block(),  # type: ignore[list-item]
                                     {"type": "text", "text": "What is this?"}]}])
    assert message.content[0].type == "text"
    part = endpoint_server.sent()["messages"][0]["content"][0]
    assert part["type"] == "image_url" and part["image_url"]["url"].startswith(
        "data:image/png;base64,")
    with pytest.raises(anthropic.NotFoundError):
        endpoint_client.messages.create(model="no-such-model-here", max_tokens=5,
                                        messages=[{"role": "user", "content": "hi"}])
