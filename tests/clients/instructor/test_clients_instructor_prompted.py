"""instructor against a text-only model (native/plain) with prompted tools and JSON on, its
scripted replies written as a real model writes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import instructor
import openai
import pytest
from clientkit import LiveServer, openai_for, tagged_call, text_reply
from instructor.core import InstructorRetryException
from pydantic import BaseModel

pytestmark = pytest.mark.prompted
MODEL = "native/plain"
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


class Weather(BaseModel):
    """The weather in a city."""

    city: str
    temperature: int


@pytest.fixture
def openai_client(prompted_server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai_for(prompted_server) as made:
        yield made


def create(client: openai.OpenAI, mode: Any, **kwargs: Any) -> Any:
    return instructor.from_openai(client, mode=mode).chat.completions.create(
        model=MODEL, response_model=Weather, messages=ASK, max_retries=0, **kwargs)


def test_tools_mode(openai_client: openai.OpenAI, prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(
        tagged_call("Weather", {"city": "Paris", "temperature": 21}, prose="Here it is:"))
    weather = create(openai_client, instructor.Mode.TOOLS)
    assert weather.model_dump() == {"city": "Paris", "temperature": 21}
    sent = prompted_server.sent()
    assert "tools" not in sent and "Weather" in sent["messages"][0]["content"]


def test_tools_mode_malformed_reply_is_an_error(openai_client: openai.OpenAI,
                                                prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(
        text_reply('<tool_call>\n{"name": "Weather", "arguments": {"city": "Paris", '))
    with pytest.raises(InstructorRetryException) as caught:
        create(openai_client, instructor.Mode.TOOLS)
    assert isinstance(caught.value.__cause__, openai.APIStatusError)
    assert caught.value.__cause__.status_code == 502
    assert "did not follow the prompted format" in str(caught.value.__cause__)


def test_json_schema_mode(openai_client: openai.OpenAI, prompted_server: LiveServer) -> None:
    prompted_server.native.script.append(
        text_reply('Sure!\n```json\n{"city": "Paris", "temperature": 21}\n```'))
    weather = create(openai_client, instructor.Mode.JSON_SCHEMA)
    assert weather.model_dump() == {"city": "Paris", "temperature": 21}
