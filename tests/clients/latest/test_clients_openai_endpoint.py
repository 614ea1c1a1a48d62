"""The openai SDK → `jackfield serve` → jackfield-openai → the plugin's strict OpenAI emulator:
chat streamed and not, tools with streamed tool-call deltas and a second turn with the tool's
result, parse() with a pydantic model (json_schema), image parts, logprobs, unknown models.

The emulator derives each answer from its request (answers.py in the plugin: "You said:
<the user's text>", tool arguments that are the minimal instance of the schema with the
user's words in its strings), so every assertion below depends on what the test sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from clientkit import API_KEY, WEATHER_TOOL, openai_for, png_data_url, streamed_call
from clientkit import tool_names as offered
from endpointkit import EMULATOR_KEY, EndpointServer
from pydantic import BaseModel

from jackfield_openai.emulator.answers import logprob_entries


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int
    raining: bool


QUESTION = "What is the weather in Lisbon today?"
ASK = [{"role": "user", "content": QUESTION}]
# The emulator's minimal instance of WEATHER_TOOL's parameters: the user's words in the free
# string, the first value of the enum.
ARGUMENTS = {"city": QUESTION, "unit": "celsius"}


@pytest.fixture
def client(endpoint_server: EndpointServer) -> Iterator[openai.OpenAI]:
    with openai_for(endpoint_server) as made:
        yield made


def test_chat_not_streamed(client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    response = client.chat.completions.create(model="gpt-4o-mini", messages=ASK)  # type: ignore[arg-type]
    choice = response.choices[0]
    assert choice.message.content == (
        f"Hello from the OpenAI emulator (gpt-4o-mini). You said: {QUESTION}")
    assert choice.finish_reason == "stop"
    assert response.model == "gpt-4o-mini"
    # The service's own counts, not jackfield's estimate: 7 words + 3 for the one message.
    assert response.usage is not None
    assert response.usage.prompt_tokens == len(QUESTION.split()) + 3
    assert response.usage.model_extra == {"jackfield_estimated": False}
    # jackfield-openai sent what the client asked, nothing more, with the emulator's key
    # (the client's key for jackfield goes no further).
    assert endpoint_server.sent() == {"model": "gpt-4o-mini", "messages": ASK}
    [received] = endpoint_server.upstream
    assert received.headers["authorization"] == f"Bearer {EMULATOR_KEY}"
    assert API_KEY not in json.dumps(received.headers)


def test_chat_streamed_with_usage(client: openai.OpenAI,
                                  endpoint_server: EndpointServer) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                            stream=True, stream_options={"include_usage": True})
    with stream:
        chunks = list(stream)
    pieces = [choice.delta.content for chunk in chunks for choice in chunk.choices
              if choice.delta.content]
    assert len(pieces) > 3  # the words came as they were streamed, not as one block
    assert "".join(pieces) == f"Hello from the OpenAI emulator (gpt-4o). You said: {QUESTION}"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(pieces)  # the emulator's count
    sent = endpoint_server.sent()
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_tool_call_streamed_deltas(client: openai.OpenAI,
                                   endpoint_server: EndpointServer) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                            tools=[WEATHER_TOOL], stream=True)
    with stream:
        chunks = list(stream)
    first, arguments, finishes = streamed_call(chunks)
    assert first.function.name == "get_weather"
    assert arguments == ARGUMENTS
    assert finishes == ["tool_calls"]
    assert offered(endpoint_server.sent()) == ["get_weather"]


def test_tool_result_second_turn(client: openai.OpenAI,
                                 endpoint_server: EndpointServer) -> None:
    messages: list[Any] = list(ASK)
    first = client.chat.completions.create(model="gpt-4o", messages=messages,
                                           tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert first.choices[0].finish_reason == "tool_calls"
    message = first.choices[0].message
    [call] = message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == ARGUMENTS
    # The assistant message goes back as the SDK returned it (content None, refusal None,
    # ...): the strict emulator refuses fields OpenAI does not know, so jackfield must send
    # it on in OpenAI's own shape.
    result = json.dumps({"temperature": 23, "city": "Lisbon"})
    messages += [message, {"role": "tool", "tool_call_id": call.id, "content": result}]
    second = client.chat.completions.create(model="gpt-4o", messages=messages,
                                            tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == f"The tool returned: {result}"
    replayed = endpoint_server.sent()["messages"]
    assert [m["role"] for m in replayed] == ["user", "assistant", "tool"]
    assert replayed[1]["tool_calls"][0]["id"] == call.id
    assert json.loads(replayed[1]["tool_calls"][0]["function"]["arguments"]) == ARGUMENTS
    assert replayed[2] == {"role": "tool", "tool_call_id": call.id, "content": result}


@pytest.mark.parametrize("where", ["chat", "beta"])
def test_parse_json_schema(client: openai.OpenAI, endpoint_server: EndpointServer,
                           where: str) -> None:
    # client.chat.completions.parse, and the older client.beta.chat.completions.parse that
    # code written for openai 1.x still calls.
    completions = client.chat.completions if where == "chat" else client.beta.chat.completions
    completion = completions.parse(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                   response_format=Weather)
    message = completion.choices[0].message
    # The emulator's minimal instance of the schema: the user's words in the string.
    assert message.parsed == Weather(city=QUESTION, temperature=0, raining=False)
    assert json.loads(message.content or "") == message.parsed.model_dump()
    sent = endpoint_server.sent()["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Weather" and sent["json_schema"]["strict"] is True
    assert sorted(sent["json_schema"]["schema"]["properties"]) == ["city", "raining",
                                                                   "temperature"]


def test_parse_streamed(client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    with client.chat.completions.stream(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                        response_format=Weather) as stream:
        done = [event for event in stream if event.type == "content.done"]
    assert [event.parsed for event in done] == [Weather(city=QUESTION, temperature=0,
                                                        raining=False)]
    assert endpoint_server.sent()["stream"] is True


def test_image_parts(client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    images = [png_data_url("a cat"), png_data_url("a dog")]
    content: list[Any] = [{"type": "text", "text": "Which animals are these?"}]
    content += [{"type": "image_url", "image_url": {"url": url, "detail": "low"}}
                for url in images]
    response = client.chat.completions.create(model="gpt-4o", messages=[  # type: ignore[arg-type]
        {"role": "user", "content": content}])
    assert response.choices[0].message.content == (
        "I got 2 images (image/png, image/png). Hello from the OpenAI emulator (gpt-4o). "
        "You said: Which animals are these?")
    parts = endpoint_server.sent()["messages"][0]["content"]
    assert [part["image_url"]["url"] for part in parts if part["type"] == "image_url"] == images


def test_logprobs(client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    response = client.chat.completions.create(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                              logprobs=True, top_logprobs=3)
    choice = response.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content
    tokens = [entry.token for entry in choice.logprobs.content]
    assert "".join(tokens) == choice.message.content
    # The emulator's values for these tokens, each with its three alternatives.
    expected = logprob_entries(tokens, 3)
    assert [entry.model_dump(exclude_none=True) for entry in choice.logprobs.content] == expected
    sent = endpoint_server.sent()
    assert sent["logprobs"] is True and sent["top_logprobs"] == 3


def test_logprobs_streamed(client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    # Through the SDK's stream helper, which gathers the logprobs of every chunk. (jackfield
    # sends each piece's logprobs in a chunk of its own right after the piece's text; OpenAI
    # puts them in the text's chunk. Readers that gather them, as this helper and
    # langchain-openai do, get the same list either way.)
    with client.chat.completions.stream(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                        logprobs=True, top_logprobs=1) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    deltas = [event.content for event in events if event.type == "logprobs.content.delta"]
    choice = final.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content
    tokens = [entry.token for entry in choice.logprobs.content]
    assert "".join(tokens) == choice.message.content
    assert (choice.message.content or "").endswith(f"You said: {QUESTION}")
    assert len(deltas) > 3  # the entries came piece by piece, as the text did
    assert [entry.token for content in deltas for entry in content] == tokens
    assert [entry.model_dump(exclude_none=True) for entry in choice.logprobs.content] == (
        logprob_entries(tokens, 1))
    assert endpoint_server.sent()["stream"] is True


@pytest.mark.parametrize("model", ["deepseek-reasoner", "qwen3-thinking"])
def test_reasoning_streamed_and_not(client: openai.OpenAI, model: str) -> None:
    # The emulator's DeepSeek-like model streams `reasoning_content`, its OpenRouter-like one
    # `reasoning`; jackfield answers both as `reasoning_content`, before the text.
    reply = client.chat.completions.create(model=model, messages=ASK)  # type: ignore[arg-type]
    message = reply.choices[0].message
    assert (message.model_extra or {})["reasoning_content"] == f"Thinking about: {QUESTION}"
    assert message.content == f"Hello from the OpenAI emulator ({model}). You said: {QUESTION}"
    stream = client.chat.completions.create(model=model, messages=ASK, stream=True)  # type: ignore[arg-type]
    with stream:
        deltas = [choice.delta for chunk in stream for choice in chunk.choices]
    thought = [(d.model_extra or {}).get("reasoning_content") for d in deltas]
    assert "".join(t for t in thought if t) == f"Thinking about: {QUESTION}"
    first_text = next(n for n, d in enumerate(deltas) if d.content)
    assert all(t is None for t in thought[first_text:])


def test_stop_and_seed_reach_the_service(client: openai.OpenAI,
                                         endpoint_server: EndpointServer) -> None:
    response = client.chat.completions.create(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                              stop=["Lisbon"], seed=11)
    content = response.choices[0].message.content or ""
    assert content.startswith("Hello from the OpenAI emulator (gpt-4o). You said: What is")
    assert "Lisbon" not in content  # cut where the stop sequence began
    sent = endpoint_server.sent()
    assert sent["stop"] == ["Lisbon"] and sent["seed"] == 11


def test_unknown_pinned_model_is_not_found(client: openai.OpenAI,
                                           endpoint_server: EndpointServer) -> None:
    # A pinned id that no listing holds is passed through; the emulator's 404
    # model_not_found comes back as the 404 the SDK raises NotFoundError for.
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="openai/gpt-9-imaginary", messages=ASK)  # type: ignore[arg-type]
    assert "gpt-9-imaginary" in caught.value.message
    assert endpoint_server.sent()["model"] == "gpt-9-imaginary"  # the service was asked


def test_unknown_model_not_pinned_is_not_found_before_any_call(
        client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9-imaginary", messages=ASK)  # type: ignore[arg-type]
    assert "gpt-9-imaginary" in caught.value.message
    assert endpoint_server.sent_to("/v1/chat/completions") == []
