"""openai-agents with its default model type, OpenAIResponsesModel (POST /v1/responses),
against `jackfield serve`: an agent with a function tool run to its final output, streamed
and not, and a structured output_type. Tracing is off: nothing leaves loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from agents import (
    Agent,
    OpenAIProvider,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from clientkit import LiveServer, async_openai_for
from pydantic import BaseModel

# Traces would be exported to OpenAI's servers: off, as for any other model provider.
set_tracing_disabled(True)


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with async_openai_for(server) as made:
        yield made


def run_config(client: openai.AsyncOpenAI) -> RunConfig:
    """The provider agents uses by default, given the test's client: model names resolve to
    its Responses model, as with set_default_openai_client() (without the global)."""
    return RunConfig(model_provider=OpenAIProvider(openai_client=client, use_responses=True),
                     tracing_disabled=True)


def make_agent(asked: list[str], **kwargs: Any) -> Agent[Any]:
    @function_tool
    def get_weather(city: str) -> str:
        """The current temperature in a city, in degrees Celsius."""
        asked.append(city)
        return f"21 degrees in {city}"

    return Agent(name="weather", instructions="Use the tools to answer.", tools=[get_weather],
                 model="gpt-4o", **kwargs)


def responses_posts(server: LiveServer) -> list[int]:
    """Return the statuses the server answered POST /v1/responses with."""
    return [reply.status for reply in server.replies if reply.path == "/v1/responses"]


async def test_the_default_model_is_the_responses_model(client: openai.AsyncOpenAI) -> None:
    model = OpenAIProvider(openai_client=client, use_responses=True).get_model("gpt-4o")
    assert isinstance(model, OpenAIResponsesModel)


async def test_agent_runs_tool_to_final_output(client: openai.AsyncOpenAI,
                                               server: LiveServer) -> None:
    asked: list[str] = []
    result = await Runner.run(make_agent(asked), "What is the weather in Paris?",
                              run_config=run_config(client))
    assert asked == ["sunny"]
    assert result.final_output == "The tool said 21 degrees in sunny"
    assert responses_posts(server) == [200, 200]
    first, second = server.native.seen
    assert first["messages"][0] == {"role": "system", "content": "Use the tools to answer."}
    assert [tool["function"]["name"] for tool in first["tools"]] == ["get_weather"]
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]
    call = second["messages"][2]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"city": "sunny"}
    assert second["messages"][3]["tool_call_id"] == call["id"]
    assert result.context_wrapper.usage.total_tokens == 16  # 8 a call, as the service said
    # What agents sends by default (include: [], the output items replayed with their ids
    # and status) is all acted on: no warning.
    assert [reply.warned() for reply in server.replies
            if reply.path == "/v1/responses"] == [[], []]


async def test_agent_streamed(client: openai.AsyncOpenAI, server: LiveServer) -> None:
    asked: list[str] = []
    run = Runner.run_streamed(make_agent(asked), "What is the weather in Paris?",
                              run_config=run_config(client))
    raw = [event.data.type async for event in run.stream_events()
           if event.type == "raw_response_event"]
    assert asked == ["sunny"]
    assert run.final_output == "The tool said 21 degrees in sunny"
    assert raw.count("response.completed") == 2
    assert "response.function_call_arguments.delta" in raw
    assert "response.output_text.delta" in raw
    assert responses_posts(server) == [200, 200]


async def test_agent_output_type(client: openai.AsyncOpenAI, server: LiveServer) -> None:
    asked: list[str] = []
    agent = make_agent(asked, output_type=Weather)
    result = await Runner.run(agent, "What is the weather in Paris?",
                              run_config=run_config(client))
    assert asked == ["sunny"]
    assert result.final_output == Weather(city="sunny", temperature=7)
    format_sent = server.sent()["response_format"]
    assert format_sent["type"] == "json_schema"
    assert format_sent["json_schema"]["strict"] is True
