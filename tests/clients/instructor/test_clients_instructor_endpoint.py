"""instructor over the openai SDK → `jackfield serve` → jackfield-openai → its strict emulator:
a pydantic response model in instructor's default TOOLS mode (whole, and streamed as
partials) and in JSON_SCHEMA mode.

The emulator answers a forced tool call or a json_schema with the minimal instance of the
schema, the user's words in its free strings, so the model instance carries the question.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import instructor
import openai
import pytest
from clientkit import openai_for
from clientkit import tool_names as offered
from endpointkit import EndpointServer
from pydantic import BaseModel, Field


class Trip(BaseModel):
    """A trip someone asked about."""

    destination: str
    nights: int = Field(ge=1)
    by_train: bool


QUESTION = "Plan two nights in Ghent by train."
ASK = [{"role": "user", "content": QUESTION}]
# The minimal instance: the words in the string, the schema's minimum for nights.
EXPECTED = {"destination": QUESTION, "nights": 1, "by_train": False}


@pytest.fixture
def openai_client(endpoint_server: EndpointServer) -> Iterator[openai.OpenAI]:
    with openai_for(endpoint_server) as made:
        yield made


def test_tools_mode(openai_client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    trip = instructor.from_openai(openai_client).chat.completions.create(
        model="gpt-4o", response_model=Trip, messages=ASK, max_retries=0)
    assert isinstance(trip, Trip)
    assert trip.model_dump() == EXPECTED
    sent = endpoint_server.sent()
    assert offered(sent) == ["Trip"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "Trip"}}
    parameters = sent["tools"][0]["function"]["parameters"]
    assert parameters["properties"]["nights"]["minimum"] == 1
    assert len(endpoint_server.sent_to("/v1/chat/completions")) == 1  # no retry was needed


def test_tools_mode_streamed_partials(openai_client: openai.OpenAI,
                                      endpoint_server: EndpointServer) -> None:
    partials: list[Any] = list(instructor.from_openai(openai_client).chat.completions
                               .create_partial(model="gpt-4o", response_model=Trip,
                                               messages=ASK, max_retries=0))
    assert len(partials) > 1  # the arguments came in fragments
    assert partials[-1].model_dump() == EXPECTED
    assert endpoint_server.sent()["stream"] is True


def test_json_schema_mode(openai_client: openai.OpenAI,
                          endpoint_server: EndpointServer) -> None:
    client = instructor.from_openai(openai_client, mode=instructor.Mode.JSON_SCHEMA)
    trip = client.chat.completions.create(model="gpt-4o-mini", response_model=Trip,
                                          messages=ASK, max_retries=0)
    assert trip.model_dump() == EXPECTED
    sent = endpoint_server.sent()
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "Trip"
