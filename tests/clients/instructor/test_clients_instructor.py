"""instructor over the openai SDK against `jackfield serve`: a pydantic response_model in its
default TOOLS mode (also streamed as partials), JSON mode and JSON_SCHEMA mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import instructor
import openai
import pytest
from clientkit import LiveServer, openai_for
from clientkit import tool_names as offered
from pydantic import BaseModel


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


class Answer(BaseModel):
    """What JSON mode gets back from the native model: {"answer": <the question>}."""

    answer: str


QUESTION = "What is the weather in Paris?"
ASK = [{"role": "user", "content": QUESTION}]


@pytest.fixture
def openai_client(server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai_for(server) as made:
        yield made


# instructor hands back an instance of a subclass it derives from the response model, so the
# tests compare fields, not models.
def patched(client: openai.OpenAI, mode: Any = None) -> Any:
    return instructor.from_openai(client) if mode is None else instructor.from_openai(
        client, mode=mode)


def test_tools_mode(openai_client: openai.OpenAI, server: LiveServer) -> None:
    weather = patched(openai_client).chat.completions.create(
        model="gpt-4o", response_model=Weather, messages=ASK, max_retries=0)
    assert isinstance(weather, Weather)
    assert weather.model_dump() == {"city": "sunny", "temperature": 7}
    sent = server.sent()
    assert offered(sent) == ["Weather"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "Weather"}}
    assert len(server.native.seen) == 1  # no retry was needed


def test_tools_mode_streamed_partials(openai_client: openai.OpenAI, server: LiveServer) -> None:
    partials = list(patched(openai_client).chat.completions.create_partial(
        model="gpt-4o", response_model=Weather, messages=ASK, max_retries=0))
    assert len(partials) > 1  # the arguments arrived in fragments
    final = partials[-1]
    assert (final.city, final.temperature) == ("sunny", 7)
    assert server.sent()["stream"] is True


def test_json_mode(openai_client: openai.OpenAI, server: LiveServer) -> None:
    answer = patched(openai_client, instructor.Mode.JSON).chat.completions.create(
        model="gpt-4o", response_model=Answer, messages=ASK, max_retries=0)
    assert isinstance(answer, Answer) and answer.model_dump() == {"answer": QUESTION}
    sent = server.sent()
    assert sent["response_format"] == {"type": "json_object"}
    assert "answer" in sent["messages"][0]["content"]  # the schema went in the system prompt


def test_json_schema_mode(openai_client: openai.OpenAI, server: LiveServer) -> None:
    weather = patched(openai_client, instructor.Mode.JSON_SCHEMA).chat.completions.create(
        model="gpt-4o", response_model=Weather, messages=ASK, max_retries=0)
    assert isinstance(weather, Weather)
    assert weather.model_dump() == {"city": "sunny", "temperature": 7}
    assert server.sent()["response_format"]["type"] == "json_schema"


def test_md_json_mode_on_a_text_only_model(openai_client: openai.OpenAI,
                                           server: LiveServer) -> None:
    # MD_JSON asks in the prompt itself: it works on a model with no JSON mode, unprompted.
    server.native.script.append({"role": "assistant", "content": (
        'Here is the answer:\n```json\n{"city": "Paris", "temperature": 21}\n```')})
    weather = patched(openai_client, instructor.Mode.MD_JSON).chat.completions.create(
        model="native/plain", response_model=Weather, messages=ASK, max_retries=0)
    assert weather.model_dump() == {"city": "Paris", "temperature": 21}
    assert "response_format" not in server.sent() and "tools" not in server.sent()
