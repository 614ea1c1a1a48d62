"""litellm's completion() through its OpenAI-compatible route (`openai/<model>` with api_base)
against `jackfield serve`: text, tools streamed and not, and a tool-result round trip.

litellm reads its bundled model cost map (LITELLM_LOCAL_MODEL_COST_MAP=True, set by
conftest.py and scripts/test_clients.sh) instead of fetching one at import."""

from __future__ import annotations

import json
from typing import Any

import litellm
import pytest
from clientkit import (
    WEATHER_ARGUMENTS,
    WEATHER_TOOL,
    LiveServer,
    litellm_completion,
    tagged_call,
)
from clientkit import tool_names as offered

pytestmark = pytest.mark.usefixtures("litellm_loop")  # litellm's loop, closed (conftest.py)

ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def complete(server: LiveServer, messages: list[Any], model: str = "gpt-4o",
             **kwargs: Any) -> Any:
    return litellm_completion(server, messages, model, **kwargs)


def test_text(server: LiveServer) -> None:
    response = complete(server, ASK)
    assert response.choices[0].message.content == "You said: What is the weather in Paris?"


def test_tools(server: LiveServer) -> None:
    response = complete(server, ASK, tools=[WEATHER_TOOL])
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGUMENTS
    assert offered(server.sent()) == ["get_weather"]


def test_tools_streamed(server: LiveServer) -> None:
    chunks = list(complete(server, ASK, tools=[WEATHER_TOOL], stream=True))
    rebuilt = litellm.stream_chunk_builder(chunks, messages=ASK)
    assert rebuilt is not None
    [call] = rebuilt.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGUMENTS


def test_tool_round_trip(server: LiveServer) -> None:
    first = complete(server, ASK, tools=[WEATHER_TOOL]).choices[0].message
    [call] = first.tool_calls
    messages = [*ASK, first.model_dump(),
                {"role": "tool", "tool_call_id": call.id, "content": "21 degrees"}]
    second = complete(server, messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "The tool said 21 degrees"


@pytest.mark.prompted
def test_tools_on_a_text_only_model(prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(
        tagged_call("get_weather", {"city": "Paris", "unit": "celsius"}, prose="One moment."))
    response = complete(prompted_server, ASK, model="native/plain", tools=[WEATHER_TOOL])
    [call] = response.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert "tools" not in prompted_server.sent()
