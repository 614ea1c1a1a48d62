"""The openai SDK's Responses API (`client.responses`) against `jackfield serve`: create
streamed and not, the `responses.stream()` helper, `responses.parse()` with a pydantic
model, a function tool round trip, an image; and one run through the jackfield-openai
plugin to its strict emulator, checking what reached it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from clientkit import LiveServer, openai_for, png_data_url
from endpointkit import EMULATOR_KEY, EndpointServer
from pydantic import BaseModel

WEATHER: Any = {"type": "function", "name": "get_weather",
                "description": "The current weather in a city.",
                "parameters": {"type": "object", "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                    "required": ["city", "unit"], "additionalProperties": False},
                "strict": True}
ARGUMENTS = {"city": "sunny", "unit": "celsius"}  # the native service's instance of the schema


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


@pytest.fixture
def client(server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai_for(server) as made:
        yield made


def test_create_not_streamed(client: openai.OpenAI, server: LiveServer) -> None:
    response = client.responses.create(model="gpt-4o", input="Hello there",
                                       instructions="Be brief.")
    assert response.output_text == "You said: Hello there"
    assert response.status == "completed" and response.model == "omni"
    assert response.usage is not None and response.usage.total_tokens == 8
    assert server.sent()["messages"] == [{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": "Hello there"}]


def test_create_streamed(client: openai.OpenAI) -> None:
    stream = client.responses.create(model="gpt-4o", input="four words in all", stream=True)
    events = list(stream)
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == "You said: four words in all"
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert events[-1].response.output_text == "".join(deltas)


def test_the_stream_helper(client: openai.OpenAI) -> None:
    with client.responses.stream(model="thinker", input="think") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.reasoning_summary_text.delta" in kinds
    assert final.output_text == "You said: think"
    reasoning = final.output[0]
    assert reasoning.type == "reasoning"
    assert [part.text for part in reasoning.summary] == ["Thinking about it."]


def test_parse_with_a_pydantic_model(client: openai.OpenAI, server: LiveServer) -> None:
    parsed = client.responses.parse(model="gpt-4o", input="Weather in Oslo?",
                                    text_format=Weather)
    assert parsed.output_parsed == Weather(city="sunny", temperature=7)
    sent = server.sent()["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Weather"


def test_a_function_tool_round_trip(client: openai.OpenAI, server: LiveServer) -> None:
    question: Any = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = client.responses.create(model="gpt-4o", input=question, tools=[WEATHER])
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == ARGUMENTS
    second = client.responses.create(model="gpt-4o", tools=[WEATHER], input=[
        *question, *first.output,
        {"type": "function_call_output", "call_id": call.call_id, "output": "21 degrees"}])
    assert second.output_text == "The tool said 21 degrees"
    messages = server.sent()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["tool_calls"][0]["id"] == messages[2]["tool_call_id"] == call.call_id


def test_a_streamed_tool_call_through_the_helper(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o", input="Oslo?", tools=[WEATHER]) as stream:
        snapshots = [event.snapshot for event in stream
                     if event.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    [call] = final.output
    assert call.type == "function_call" and snapshots[-1] == call.arguments
    assert call.parsed_arguments == ARGUMENTS  # a strict tool: the helper parses it


def test_an_image(client: openai.OpenAI, server: LiveServer) -> None:
    response = client.responses.create(model="gpt-4o", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": png_data_url(), "detail": "auto"}]}])
    assert response.output_text == "You said: What is this? [1 images]"
    part = server.sent()["messages"][0]["content"][1]
    assert part == {"type": "image_url", "image_url": {"url": png_data_url(), "detail": "auto"}}


def test_previous_response_id_is_refused_as_stateless(client: openai.OpenAI,
                                                      server: LiveServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4o", input="more", previous_response_id="resp_1")
    assert "stateless" in caught.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_1")
    assert server.native.seen == []


@pytest.mark.parametrize("stream", [False, True])
def test_through_jackfield_openai_to_its_emulator(endpoint_server: EndpointServer,
                                                  stream: bool) -> None:
    question = "What is the weather in Lisbon today?"
    with openai_for(endpoint_server) as client:
        if stream:
            with client.responses.stream(model="gpt-4o-mini", input=question,
                                         max_output_tokens=40) as events:
                response = events.get_final_response()
        else:
            response = client.responses.create(model="gpt-4o-mini", input=question,
                                               max_output_tokens=40)
    assert response.output_text == (
        f"Hello from the OpenAI emulator (gpt-4o-mini). You said: {question}")
    [received] = [entry for entry in endpoint_server.upstream
                  if entry.path.endswith("/chat/completions")]
    assert received.headers["authorization"] == f"Bearer {EMULATOR_KEY}"
    expected = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}],
                "max_tokens": 40}
    body = received.body
    if stream:
        assert body.pop("stream") is True
        body.pop("stream_options", None)
    assert body == expected
