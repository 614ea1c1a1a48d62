"""The key client paths with prompted tools and JSON, against a text-only model (native/plain)
whose scripted replies are what a real model writes: well-formed, wrapped in prose, missing
its closing tag, truncated, malformed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from clientkit import (
    API_KEY,
    WEATHER_TOOL,
    LiveServer,
    async_openai_for,
    openai_for,
    tagged_call,
    text_reply,
)
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

pytestmark = pytest.mark.prompted
MODEL = "native/plain"  # text only: no native tools, no JSON mode
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
PARIS = {"city": "Paris", "unit": "celsius"}


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int
    raining: bool


@pytest.fixture
def client(prompted_server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai_for(prompted_server) as made:
        yield made


def assert_prompted(server: LiveServer, emulated: str, *words: str) -> None:
    """The text-only model got no tools or response_format, but instructions naming words;
    the reply said what was emulated."""
    assert server.last_chat().emulated() == {emulated}, server.last_chat()
    sent = server.sent()
    assert "tools" not in sent and "response_format" not in sent, sent
    system = sent["messages"][0]
    assert system["role"] == "system"
    for word in words:
        assert word in system["content"], system["content"]


def tool_call(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model=MODEL, messages=ASK,  # type: ignore[arg-type]
                                          tools=[WEATHER_TOOL], **kwargs)


@pytest.mark.parametrize(("reply", "content"), [
    (tagged_call("get_weather", PARIS), None),
    (tagged_call("get_weather", PARIS, prose="Let me look that up for you."),
     "Let me look that up for you."),
    # The JSON is complete but the closing tag never came: forgiven.
    (text_reply('<tool_call>\n{"name": "get_weather", "arguments": '
                '{"city": "Paris", "unit": "celsius"}}'), None),
], ids=["well-formed", "in-prose", "no-closing-tag"])
def test_openai_tool_call(client: openai.OpenAI, prompted_server: LiveServer,
                          reply: dict[str, Any], content: str | None) -> None:
    prompted_server.native.script.append(reply)
    choice = tool_call(client).choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather" and call.id
    assert json.loads(call.function.arguments) == PARIS
    assert (choice.message.content or None) == content
    assert_prompted(prompted_server, "tools", "get_weather", "<tool_call>")


@pytest.mark.parametrize("reply", [
    text_reply('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par'),
    text_reply("<tool_call>\n{name: get_weather, arguments: {city: Paris}}\n</tool_call>"),
    # Well-formed, but the arguments break the tool's schema (unit is not in its enum).
    tagged_call("get_weather", {"city": "Paris", "unit": "kelvin"}),
], ids=["truncated", "malformed", "against-schema"])
def test_openai_unparsable_tool_call_is_an_error(client: openai.OpenAI,
                                                 prompted_server: LiveServer,
                                                 reply: dict[str, Any]) -> None:
    prompted_server.native.script.append(reply)
    with pytest.raises(openai.APIStatusError) as caught:
        tool_call(client)
    assert_unparsable(caught.value)


def assert_unparsable(error: openai.APIStatusError) -> None:
    """A reply that did not parse is a 502 that says so and what to do, never an answer."""
    assert error.status_code == 502
    assert isinstance(error.body, dict) and error.body["code"] == "provider_bad_response"
    assert "did not follow the prompted format" in error.body["message"], error.body


def test_openai_tool_call_streamed(client: openai.OpenAI, prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(
        tagged_call("get_weather", PARIS, prose="Checking the forecast."))
    with client.chat.completions.stream(model=MODEL, messages=ASK,  # type: ignore[arg-type]
                                        tools=[WEATHER_TOOL]) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    text = "".join(event.delta for event in events if event.type == "content.delta")
    assert text.strip() == "Checking the forecast."
    assert "<tool_call>" not in text  # the call never shows as text
    [call] = final.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == PARIS
    assert final.choices[0].finish_reason == "tool_calls"


def test_openai_truncated_stream_is_an_error(client: openai.OpenAI,
                                             prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(
        text_reply('Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"ci'))
    shown: list[str] = []
    with pytest.raises(openai.APIError) as caught, client.chat.completions.stream(
            model=MODEL, messages=ASK, tools=[WEATHER_TOOL]) as stream:  # type: ignore[arg-type]
        shown.extend(event.delta for event in stream if event.type == "content.delta")
    # The prose had been streamed: the stream ends with an error event, not [DONE].
    assert "".join(shown).strip() == "Sure."
    assert isinstance(caught.value.body, dict), caught.value
    assert caught.value.body["code"] == "provider_partial_response"
    assert "ends inside a tool call" in caught.value.body["message"]


def test_openai_tool_result_round_trip(client: openai.OpenAI,
                                       prompted_server: LiveServer) -> None:
    prompted_server.native.script += [tagged_call("get_weather", PARIS),
                                      text_reply("It is 21 degrees in Paris.")]
    messages: list[Any] = list(ASK)
    message = tool_call(client).choices[0].message
    [call] = message.tool_calls or []
    messages += [message, {"role": "tool", "tool_call_id": call.id, "content": "21 degrees"}]
    final = client.chat.completions.create(model=MODEL, messages=messages,
                                           tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert final.choices[0].message.content == "It is 21 degrees in Paris."
    assert final.choices[0].finish_reason == "stop"
    # The text-only model saw the history as plain turns: the call as its own tagged text,
    # the result as a user turn naming the call.
    turns = prompted_server.sent()["messages"]
    assert {turn["role"] for turn in turns} <= {"system", "user", "assistant"}
    assert "<tool_call>" in turns[-2]["content"] and turns[-2]["role"] == "assistant"
    assert call.id in turns[-1]["content"] and "21 degrees" in turns[-1]["content"]


@pytest.mark.parametrize("reply", [
    '{"city": "Paris", "temperature": 21, "raining": false}',
    'Here is the weather:\n```json\n{"city": "Paris", "temperature": 21, "raining": false}\n```',
], ids=["bare", "fenced-in-prose"])
def test_openai_parse(client: openai.OpenAI, prompted_server: LiveServer, reply: str) -> None:
    prompted_server.native.script.append(text_reply(reply))
    completion = client.chat.completions.parse(model=MODEL, messages=ASK,  # type: ignore[arg-type]
                                               response_format=Weather)
    assert completion.choices[0].message.parsed == Weather(city="Paris", temperature=21,
                                                           raining=False)
    assert_prompted(prompted_server, "json", "temperature")


@pytest.mark.parametrize("reply", [
    '{"city": "Paris", "temperature": "warm"}',  # valid JSON, not the schema
    '{"city": "Paris", "temperature": 21, "rain',  # cut off
], ids=["against-schema", "truncated"])
def test_openai_parse_unparsable_is_an_error(client: openai.OpenAI,
                                             prompted_server: LiveServer, reply: str) -> None:
    prompted_server.native.script.append(text_reply(reply))
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.parse(model=MODEL, messages=ASK,  # type: ignore[arg-type]
                                      response_format=Weather)
    assert_unparsable(caught.value)


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"21 degrees in {city}"


@pytest.fixture
def chat(prompted_server: LiveServer) -> Iterator[ChatOpenAI]:
    model = ChatOpenAI(model=MODEL, base_url=prompted_server.base_url,  # type: ignore[arg-type]
                       api_key=API_KEY, max_retries=0, timeout=20)
    yield model
    model.root_client.close()


def test_langchain_bind_tools(chat: ChatOpenAI, prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(
        tagged_call("get_weather", {"city": "Paris"}, prose="I will check."))
    message = chat.bind_tools([get_weather]).invoke("What is the weather in Paris?")
    [call] = message.tool_calls  # type: ignore[attr-defined]
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris"}


def test_langchain_bind_tools_stream(chat: ChatOpenAI, prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(tagged_call("get_weather", {"city": "Paris"}))
    chunks = list(chat.bind_tools([get_weather]).stream("What is the weather in Paris?"))
    merged: Any = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    [call] = merged.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris"}


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_langchain_structured_output(chat: ChatOpenAI, prompted_server: LiveServer,
                                     method: str) -> None:
    weather = {"city": "Paris", "temperature": 21, "raining": False}
    prompted_server.native.script.append(
        text_reply(f"```json\n{json.dumps(weather)}\n```") if method == "json_schema"
        else tagged_call("Weather", weather))
    structured = chat.with_structured_output(Weather, method=method)  # type: ignore[arg-type]
    assert structured.invoke("What is the weather in Paris?") == Weather(**weather)


async def test_pydantic_ai_agent(prompted_server: LiveServer) -> None:
    prompted_server.native.script += [
        tagged_call("weather_in", {"city": "Paris"}, prose="Let me check."),
        tagged_call("final_result", {"city": "Paris", "temperature": 21, "raining": False})]
    asked: list[str] = []
    def weather_in(city: str) -> str:
        """The current temperature in a city, in degrees Celsius."""
        asked.append(city)
        return f"21 degrees in {city}"

    async with async_openai_for(prompted_server) as client:
        model = OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client))
        agent = Agent(model, output_type=Weather, retries=0, tools=[weather_in])
        result = await agent.run("What is the weather in Paris?")
    assert result.output == Weather(city="Paris", temperature=21, raining=False)
    assert asked == ["Paris"]
    assert_prompted(prompted_server, "tools", "weather_in", "final_result")


async def test_openai_agents_agent(prompted_server: LiveServer) -> None:
    from agents import Agent as AgentsAgent
    from agents import OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled

    set_tracing_disabled(True)  # traces would go to OpenAI's servers
    prompted_server.native.script += [
        tagged_call("get_forecast", {"city": "Paris"}, prose="I'll look it up."),
        text_reply("It is 21 degrees in Paris.")]
    asked: list[str] = []

    @function_tool
    def get_forecast(city: str) -> str:
        """The current temperature in a city, in degrees Celsius."""
        asked.append(city)
        return f"21 degrees in {city}"

    async with async_openai_for(prompted_server) as client:
        agent = AgentsAgent(name="weather", tools=[get_forecast],
                            model=OpenAIChatCompletionsModel(model=MODEL, openai_client=client))
        result = await Runner.run(agent, "What is the weather in Paris?")
    assert asked == ["Paris"]
    assert result.final_output == "It is 21 degrees in Paris."
    assert "21 degrees in Paris" in prompted_server.sent()["messages"][-1]["content"]
