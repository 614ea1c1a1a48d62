"""openai-agents (the Agents SDK) with its chat-completions model against `jackfield serve`:
an agent with a function tool run to a final output, streamed and not, and an output_type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
from clientkit import LiveServer, async_openai_for
from clientkit import tool_names as offered
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


def make_agent(client: openai.AsyncOpenAI, asked: list[str], **kwargs: Any) -> Agent[Any]:
    @function_tool
    def get_weather(city: str) -> str:
        """The current temperature in a city, in degrees Celsius."""
        asked.append(city)
        return f"21 degrees in {city}"

    return Agent(name="weather", instructions="Use the tools to answer.", tools=[get_weather],
                 model=OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client),
                 **kwargs)


async def test_agent_runs_tool_to_final_output(client: openai.AsyncOpenAI,
                                               server: LiveServer) -> None:
    asked: list[str] = []
    result = await Runner.run(make_agent(client, asked), "What is the weather in Paris?")
    assert asked == ["sunny"]
    assert result.final_output == "The tool said 21 degrees in sunny"
    first, second = server.native.seen
    assert offered(first) == ["get_weather"]
    assert [m["role"] for m in second["messages"]][-2:] == ["assistant", "tool"]


async def test_agent_streamed(client: openai.AsyncOpenAI, server: LiveServer) -> None:
    asked: list[str] = []
    run = Runner.run_streamed(make_agent(client, asked), "What is the weather in Paris?")
    kinds = [event.type async for event in run.stream_events()]
    assert "raw_response_event" in kinds and "run_item_stream_event" in kinds
    assert asked == ["sunny"]
    assert run.final_output == "The tool said 21 degrees in sunny"


async def test_agent_output_type(client: openai.AsyncOpenAI, server: LiveServer) -> None:
    asked: list[str] = []
    agent = make_agent(client, asked, output_type=Weather)
    result = await Runner.run(agent, "What is the weather in Paris?")
    assert asked == ["sunny"]
    assert result.final_output == Weather(city="sunny", temperature=7)
    assert server.sent()["response_format"]["type"] == "json_schema"
