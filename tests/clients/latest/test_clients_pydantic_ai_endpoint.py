"""pydantic-ai's Agent → `jackfield serve` → jackfield-openai → its strict emulator: an agent
with a tool and a structured output_type (NativeOutput: a json_schema response format), run
whole and streamed.

The emulator calls the first tool offered while the last message is no tool result, then
answers the minimal instance of the schema with the user's words in its strings; so the
agent's tool runs with the user's question as its city, and the output carries it too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from clientkit import async_openai_for
from clientkit import tool_names as offered
from endpointkit import EndpointServer
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

QUESTION = "What is the weather in Tromsø?"


class Conditions(BaseModel):
    """What it is like in a city now."""

    city: str
    temperature: int
    windy: bool


@pytest.fixture
async def client(endpoint_server: EndpointServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with async_openai_for(endpoint_server) as made:
        yield made


def make_agent(client: openai.AsyncOpenAI, asked: list[str]) -> Agent[None, Conditions]:
    def get_weather(city: str) -> str:
        """The current temperature in a city, in degrees Celsius."""
        asked.append(city)
        return f"-4 degrees in {city}"

    return Agent(OpenAIChatModel("gpt-4o", provider=OpenAIProvider(openai_client=client)),
                 output_type=NativeOutput(Conditions), tools=[get_weather], retries=0,
                 instructions="Use the tools to answer.")


def check_turns(bodies: list[Any]) -> None:
    """The two requests of a tool-then-answer run: the tool offered with the schema, then
    the tool's result sent back under the call's id."""
    first, second = bodies
    assert offered(first) == ["get_weather"]
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["schema"]["required"] == [
        "city", "temperature", "windy"]
    call = second["messages"][-2]["tool_calls"][0]
    tool_turn = second["messages"][-1]
    assert tool_turn["role"] == "tool" and tool_turn["tool_call_id"] == call["id"]
    assert f"-4 degrees in {QUESTION}" in json.dumps(tool_turn["content"], ensure_ascii=False)


async def test_agent_tool_then_structured_output(client: openai.AsyncOpenAI,
                                                 endpoint_server: EndpointServer) -> None:
    asked: list[str] = []
    result = await make_agent(client, asked).run(QUESTION)
    assert result.output == Conditions(city=QUESTION, temperature=0, windy=False)
    assert asked == [QUESTION]
    check_turns(endpoint_server.sent_to("/v1/chat/completions"))
    usage = result.usage
    assert usage.requests == 2 and usage.input_tokens > 0


async def test_agent_streamed(client: openai.AsyncOpenAI,
                              endpoint_server: EndpointServer) -> None:
    asked: list[str] = []
    async with make_agent(client, asked).run_stream(QUESTION) as result:
        output = await result.get_output()
    assert output == Conditions(city=QUESTION, temperature=0, windy=False)
    assert asked == [QUESTION]
    bodies = endpoint_server.sent_to("/v1/chat/completions")
    check_turns(bodies)
    assert all(body["stream"] is True for body in bodies)
