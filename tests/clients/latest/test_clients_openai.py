"""The openai SDK against `jackfield serve`: tools (streamed and not), a tool-result round
trip, parse() with pydantic, an image part and the fields that change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from clientkit import (
    WEATHER_ARGUMENTS,
    WEATHER_TOOL,
    LiveServer,
    openai_for,
    png_data_url,
)
from clientkit import tool_names as offered
from pydantic import BaseModel


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int
    raining: bool


@pytest.fixture
def client(server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai_for(server) as made:
        yield made


ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def test_tool_call_not_streamed(client: openai.OpenAI, server: LiveServer) -> None:
    response = client.chat.completions.create(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                              tools=[WEATHER_TOOL], tool_choice="auto")
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.type == "function" and call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGUMENTS
    assert response.model == "omni"  # the served model's id, not the alias asked for
    assert response.usage is not None and response.usage.total_tokens == 8
    assert offered(server.sent()) == ["get_weather"]


def test_tool_call_streamed_chunks(client: openai.OpenAI, server: LiveServer) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                            tools=[WEATHER_TOOL], stream=True)
    with stream:
        chunks = list(stream)
    deltas = [call for chunk in chunks for choice in chunk.choices
              for call in choice.delta.tool_calls or ()]
    assert deltas, f"no tool-call deltas in {chunks}"
    first = deltas[0]
    assert first.index == 0 and first.id and first.type == "function"
    assert first.function is not None and first.function.name == "get_weather"
    assert all(delta.index == 0 for delta in deltas)
    arguments = "".join(delta.function.arguments or "" for delta in deltas if delta.function)
    assert json.loads(arguments) == WEATHER_ARGUMENTS
    finishes = [choice.finish_reason for chunk in chunks for choice in chunk.choices
                if choice.finish_reason]
    assert finishes == ["tool_calls"]


def test_tool_call_stream_helper(client: openai.OpenAI, server: LiveServer) -> None:
    class GetWeather(BaseModel):
        """The current weather in a city."""

        city: str

    events: list[Any] = []
    with client.chat.completions.stream(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                        tools=[openai.pydantic_function_tool(GetWeather)]
                                        ) as stream:
        events.extend(stream)
        final = stream.get_final_completion()
    done = [event for event in events if event.type == "tool_calls.function.arguments.done"]
    assert [event.name for event in done] == ["GetWeather"]
    assert done[0].parsed_arguments == GetWeather(city="sunny")
    [call] = final.choices[0].message.tool_calls or []
    assert call.function.parsed_arguments == GetWeather(city="sunny")
    assert final.choices[0].finish_reason == "tool_calls"
    assert server.sent()["tools"][0]["function"]["strict"] is True


def test_tool_result_round_trip(client: openai.OpenAI, server: LiveServer) -> None:
    messages: list[Any] = list(ASK)
    first = client.chat.completions.create(model="gpt-4o", messages=messages,
                                           tools=[WEATHER_TOOL])  # type: ignore[list-item]
    message = first.choices[0].message
    [call] = message.tool_calls or []
    # As the SDK's examples do: the assistant message goes back as it came (content None,
    # refusal None, ...), then the tool's answer.
    messages += [message, {"role": "tool", "tool_call_id": call.id,
                           "content": json.dumps({"temperature": 21})}]
    second = client.chat.completions.create(model="gpt-4o", messages=messages,
                                            tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == 'The tool said {"temperature": 21}'
    replayed = server.sent()["messages"]
    assert [m["role"] for m in replayed] == ["user", "assistant", "tool"]
    assert replayed[1]["tool_calls"][0]["id"] == call.id
    assert replayed[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert replayed[2]["tool_call_id"] == call.id


def test_parse_with_pydantic(client: openai.OpenAI, server: LiveServer) -> None:
    completion = client.chat.completions.parse(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                               response_format=Weather)
    message = completion.choices[0].message
    assert message.parsed == Weather(city="sunny", temperature=7, raining=True)
    assert json.loads(message.content or "") == message.parsed.model_dump()
    sent = server.sent()["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Weather" and sent["json_schema"]["strict"] is True


def test_parse_streamed(client: openai.OpenAI, server: LiveServer) -> None:
    with client.chat.completions.stream(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                        response_format=Weather) as stream:
        done = [event for event in stream if event.type == "content.done"]
    assert [event.parsed for event in done] == [Weather(city="sunny", temperature=7,
                                                        raining=True)]


def test_image_part(client: openai.OpenAI, server: LiveServer) -> None:
    image = png_data_url()
    response = client.chat.completions.create(model="gpt-4o", messages=[{  # type: ignore[arg-type]
        "role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": image, "detail": "low"}}]}])
    assert response.choices[0].message.content == "You said: What is in this picture? [1 images]"
    [part] = [p for p in server.sent()["messages"][-1]["content"] if p["type"] == "image_url"]
    assert part["image_url"] == {"url": image, "detail": "low"}


def test_image_refused_by_a_text_model(client: openai.OpenAI, server: LiveServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="native/plain", messages=[{  # type: ignore[arg-type]
            "role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": png_data_url()}}]}])
    assert "omni" in str(caught.value)  # the error names a model that takes images
    assert not server.native.seen  # refused before any call to the provider


def test_fields_that_change_nothing_warn(client: openai.OpenAI, server: LiveServer) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=ASK, user="someone", store=False,  # type: ignore[arg-type]
        metadata={"run": "tests"}, seed=3, stop=["\n\n"], logprobs=False)
    response = raw.parse()
    assert response.choices[0].message.content == "You said: What is the weather in Paris?"
    warned = server.last_chat().warned()
    assert {"user", "store", "metadata"} <= set(warned), warned
    sent = server.sent()
    assert sent["seed"] == 3 and sent["stop"] == ["\n\n"]  # omni honours both
    assert not {"user", "store", "metadata", "logprobs"} & set(sent)


def test_text_streamed_with_usage(client: openai.OpenAI, server: LiveServer) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=ASK,  # type: ignore[arg-type]
                                            stream=True, stream_options={"include_usage": True})
    with stream:
        chunks = list(stream)
    text = "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)
    assert text == "You said: What is the weather in Paris?"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 8
