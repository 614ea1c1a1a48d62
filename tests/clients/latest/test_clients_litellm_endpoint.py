"""litellm → `jackfield serve` → jackfield-openai → its strict emulator, through litellm's
OpenAI-compatible route (`openai/<model>` with api_base): completion() whole and streamed,
tools (streamed tool-call deltas, then the tool's result), and embedding().

litellm reads its bundled model cost map (LITELLM_LOCAL_MODEL_COST_MAP=True, set by
conftest.py and scripts/test_clients.sh) instead of fetching one at import.
"""

from __future__ import annotations

import json
from typing import Any

import litellm
import pytest
from clientkit import API_KEY, WEATHER_TOOL, litellm_completion, openai_for, streamed_call
from clientkit import tool_names as offered
from endpointkit import EndpointServer

from jackfield_openai.emulator.embeddings import embed_text

pytestmark = pytest.mark.usefixtures("litellm_loop")  # litellm's loop, closed (conftest.py)

QUESTION = "What is the weather in Reykjavik?"
ASK = [{"role": "user", "content": QUESTION}]
ARGUMENTS = {"city": QUESTION, "unit": "celsius"}  # the emulator's instance of the schema


def complete(server: EndpointServer, messages: list[Any], model: str = "gpt-4o-mini",
             **kwargs: Any) -> Any:
    return litellm_completion(server, messages, model, **kwargs)


def test_completion(endpoint_server: EndpointServer) -> None:
    response = complete(endpoint_server, ASK)
    assert response.choices[0].message.content == (
        f"Hello from the OpenAI emulator (gpt-4o-mini). You said: {QUESTION}")
    assert response.usage.prompt_tokens == len(QUESTION.split()) + 3
    assert endpoint_server.sent()["messages"] == ASK


def test_completion_streamed(endpoint_server: EndpointServer) -> None:
    chunks = list(complete(endpoint_server, ASK, stream=True))
    pieces = [chunk.choices[0].delta.content for chunk in chunks
              if chunk.choices and chunk.choices[0].delta.content]
    assert len(pieces) > 3
    assert "".join(pieces) == (
        f"Hello from the OpenAI emulator (gpt-4o-mini). You said: {QUESTION}")
    assert endpoint_server.sent()["stream"] is True


def test_tools_streamed_then_the_tools_result(endpoint_server: EndpointServer) -> None:
    chunks = list(complete(endpoint_server, ASK, tools=[WEATHER_TOOL], stream=True))
    first, arguments, finishes = streamed_call(chunks)
    assert first.function.name == "get_weather" and arguments == ARGUMENTS
    assert finishes == ["tool_calls"]
    assert offered(endpoint_server.sent()) == ["get_weather"]
    rebuilt = litellm.stream_chunk_builder(chunks, messages=ASK)
    assert rebuilt is not None
    message = rebuilt.choices[0].message
    [call] = message.tool_calls
    assert call.id == first.id
    messages = [*ASK, message.model_dump(),
                {"role": "tool", "tool_call_id": call.id, "content": "4 degrees, windy"}]
    second = complete(endpoint_server, messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "The tool returned: 4 degrees, windy"
    replayed = endpoint_server.sent()["messages"]
    assert [m["role"] for m in replayed] == ["user", "assistant", "tool"]
    assert json.loads(replayed[1]["tool_calls"][0]["function"]["arguments"]) == ARGUMENTS


def test_embedding(endpoint_server: EndpointServer) -> None:
    texts = ["geysers", "glaciers and lava"]
    with openai_for(endpoint_server) as client:
        response = litellm.embedding(model="openai/text-embedding-3-small", input=texts,
                                     api_base=endpoint_server.base_url, api_key=API_KEY,
                                     dimensions=24, timeout=20, client=client)
    vectors = [entry["embedding"] for entry in response.data]
    assert vectors == [embed_text(text, 24) for text in texts]
    assert response.model == "text-embedding-3-small"
    [sent] = endpoint_server.sent_to("/v1/embeddings")
    assert sent["input"] == texts and sent["dimensions"] == 24
