"""langchain-openai's ChatOpenAI against `jackfield serve`: bind_tools (invoke, stream and a
tool loop) and with_structured_output in its three methods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from clientkit import API_KEY, LiveServer
from clientkit import tool_names as offered
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


class Answer(BaseModel):
    """What json_mode gets back from the native model: {"answer": <the question>}."""

    answer: str


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"21 degrees in {city}"


@pytest.fixture
def chat(server: LiveServer) -> Iterator[ChatOpenAI]:
    # An HTTP client of the test's own: langchain-openai caches its default one per base URL
    # and timeout for the whole process, so closing that one broke a later test whose server
    # got the same port ("client has been closed").
    with openai.DefaultHttpxClient() as http_client:
        yield ChatOpenAI(model="gpt-4o", base_url=server.base_url, api_key=API_KEY,  # type: ignore[arg-type]
                         max_retries=0, timeout=20, http_client=http_client)


QUESTION = "What is the weather in Paris? Answer in JSON."


def test_bind_tools_invoke(chat: ChatOpenAI, server: LiveServer) -> None:
    message = chat.bind_tools([get_weather]).invoke(QUESTION)
    [call] = message.tool_calls  # type: ignore[attr-defined]
    assert call["name"] == "get_weather" and call["args"] == {"city": "sunny"}
    assert call["id"]
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert offered(server.sent()) == ["get_weather"]


def test_bind_tools_stream(chat: ChatOpenAI, server: LiveServer) -> None:
    chunks = list(chat.bind_tools([get_weather]).stream(QUESTION))
    assert len(chunks) > 2  # the arguments came in fragments
    merged: Any = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    [call] = merged.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "sunny"}
    assert server.sent()["stream"] is True


def test_tool_loop(chat: ChatOpenAI, server: LiveServer) -> None:
    bound = chat.bind_tools([get_weather])
    history: list[Any] = [HumanMessage(QUESTION)]
    reply = bound.invoke(history)
    [call] = reply.tool_calls  # type: ignore[attr-defined]
    history += [reply, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    final = bound.invoke(history)
    assert final.content == "The tool said 21 degrees in sunny"
    assert [m["role"] for m in server.sent()["messages"]] == ["user", "assistant", "tool"]


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output(chat: ChatOpenAI, server: LiveServer, method: str) -> None:
    structured = chat.with_structured_output(Weather, method=method)  # type: ignore[arg-type]
    assert structured.invoke(QUESTION) == Weather(city="sunny", temperature=7)
    sent = server.sent()
    if method == "json_schema":
        assert sent["response_format"]["type"] == "json_schema"
        assert sent["response_format"]["json_schema"]["name"] == "Weather"
    else:
        assert offered(sent) == ["Weather"]
        assert sent["tool_choice"]["function"]["name"] == "Weather"


def test_structured_output_json_mode(chat: ChatOpenAI, server: LiveServer) -> None:
    structured = chat.with_structured_output(Answer, method="json_mode")
    assert structured.invoke(QUESTION) == Answer(answer=QUESTION)
    assert server.sent()["response_format"] == {"type": "json_object"}


# langchain-openai 1.7.4 calls model_dump() on the SDK's stream events, and pydantic warns that
# the generic `parsed` field of the final content.done event holds a model: a client-side
# warning that any server (api.openai.com too) triggers, so it is no finding about jackfield.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
def test_structured_output_streamed(chat: ChatOpenAI, server: LiveServer) -> None:
    structured = chat.with_structured_output(Weather, method="json_schema")
    parts = list(structured.stream(QUESTION))
    assert parts[-1] == Weather(city="sunny", temperature=7)
