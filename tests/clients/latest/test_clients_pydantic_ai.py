"""pydantic-ai's Agent with the OpenAI chat model against `jackfield serve`: a tool and an
output_type, with the output as a tool call (the default) and as a native JSON schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from clientkit import LiveServer, async_openai_for
from clientkit import tool_names as offered
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with async_openai_for(server) as made:
        yield made


def make_agent(client: openai.AsyncOpenAI, output_type: Any,
               asked: list[str]) -> Agent[None, Any]:
    model = OpenAIChatModel("gpt-4o", provider=OpenAIProvider(openai_client=client))
    agent: Agent[None, Any] = Agent(model, output_type=output_type, retries=0,
                                    instructions="Use the tools to answer.")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The current temperature in a city, in degrees Celsius."""
        asked.append(city)
        return f"21 degrees in {city}"

    return agent


def call(name: str, arguments: dict[str, Any], number: int) -> dict[str, Any]:
    """A scripted assistant turn that calls one tool, as a model with tools answers."""
    return {"role": "assistant", "content": None, "tool_calls": [{
        "id": f"call_{number}", "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)}}]}


async def test_agent_tool_then_output_tool(client: openai.AsyncOpenAI,
                                           server: LiveServer) -> None:
    # The default output mode: the answer is a call of pydantic-ai's final_result tool.
    server.native.script += [call("get_weather", {"city": "Paris"}, 1),
                             call("final_result", {"city": "Paris", "temperature": 21}, 2)]
    asked: list[str] = []
    result = await make_agent(client, Weather, asked).run("What is the weather in Paris?")
    assert result.output == Weather(city="Paris", temperature=21)
    assert asked == ["Paris"]
    first, second = server.native.seen
    assert sorted(offered(first)) == ["final_result", "get_weather"]
    tool_turn = second["messages"][-1]
    assert tool_turn["role"] == "tool" and tool_turn["tool_call_id"] == "call_1"
    assert "21 degrees in Paris" in json.dumps(tool_turn["content"])


async def test_agent_streamed_output_tool(client: openai.AsyncOpenAI,
                                          server: LiveServer) -> None:
    server.native.script += [call("get_weather", {"city": "Oslo"}, 1),
                             call("final_result", {"city": "Oslo", "temperature": -3}, 2)]
    asked: list[str] = []
    agent = make_agent(client, Weather, asked)
    async with agent.run_stream("What is the weather in Oslo?") as result:
        output = await result.get_output()
    assert output == Weather(city="Oslo", temperature=-3)
    assert asked == ["Oslo"]
    assert all(body["stream"] is True for body in server.native.seen)


async def test_agent_tool_then_native_output(client: openai.AsyncOpenAI,
                                             server: LiveServer) -> None:
    # NativeOutput asks for a json_schema response format; the native model calls the tool
    # first (its rule), then answers an instance of the schema.
    asked: list[str] = []
    agent = make_agent(client, NativeOutput(Weather), asked)
    result = await agent.run("What is the weather in Paris?")
    assert result.output == Weather(city="sunny", temperature=7)
    assert asked == ["sunny"]
    last = server.sent()
    assert last["response_format"]["type"] == "json_schema"
    assert last["messages"][-1]["role"] == "tool"
