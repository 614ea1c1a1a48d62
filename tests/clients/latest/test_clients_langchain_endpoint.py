"""langchain-openai → `jackfield serve` → jackfield-openai → its strict emulator: ChatOpenAI's
invoke, stream, bind_tools (with the tool's result sent back) and with_structured_output,
and OpenAIEmbeddings.

OpenAIEmbeddings runs with check_embedding_ctx_length=False. By default it cuts each text
into tokens with tiktoken and sends the token ids: tiktoken would first download its
encoding from the internet (these tests reach 127.0.0.1 only), and jackfield's server
embeds texts, never token ids (the provider behind it may use another tokenizer), so it
refuses them with a 400 that names this very setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from clientkit import API_KEY, check_structured
from clientkit import tool_names as offered
from endpointkit import EndpointServer
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel

from jackfield_openai.emulator.embeddings import embed_text

QUESTION = "Will it rain in Bergen? Answer in JSON."


class Forecast(BaseModel):
    """The forecast for a city: how many days ahead, and whether it rains."""

    city: str
    days: int
    raining: bool


class Answer(BaseModel):
    """What a json_object reply of the emulator holds."""

    answer: str


@tool
def get_forecast(city: str, days: int) -> str:
    """The forecast for a city, some days ahead."""
    return f"rain in {city} for {days + 3} days"


@pytest.fixture
def http_client() -> Iterator[openai.DefaultHttpxClient]:
    """The HTTP client langchain-openai is given. Its default one is cached per base URL and
    timeout for the whole process, so closing it would break a later test whose server got
    the same port; one of the test's own is closed with the test instead."""
    with openai.DefaultHttpxClient() as made:
        yield made


@pytest.fixture
def chat(endpoint_server: EndpointServer, http_client: openai.DefaultHttpxClient
         ) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o", base_url=endpoint_server.base_url, api_key=API_KEY,  # type: ignore[arg-type]
                      max_retries=0, timeout=20, http_client=http_client)


def test_invoke(chat: ChatOpenAI, endpoint_server: EndpointServer) -> None:
    message = chat.invoke(QUESTION)
    assert message.content == f"Hello from the OpenAI emulator (gpt-4o). You said: {QUESTION}"
    assert message.response_metadata["model_name"] == "gpt-4o"
    assert message.usage_metadata is not None  # type: ignore[attr-defined]
    assert message.usage_metadata["input_tokens"] == len(QUESTION.split()) + 3  # type: ignore[attr-defined]
    assert endpoint_server.sent()["messages"] == [{"role": "user", "content": QUESTION}]


def test_stream(chat: ChatOpenAI, endpoint_server: EndpointServer) -> None:
    chunks = list(chat.stream(QUESTION))
    texts = [chunk.content for chunk in chunks if chunk.content]
    assert len(texts) > 3
    assert "".join(texts) == f"Hello from the OpenAI emulator (gpt-4o). You said: {QUESTION}"  # type: ignore[arg-type]
    assert endpoint_server.sent()["stream"] is True


def test_logprobs_streamed(endpoint_server: EndpointServer,
                           http_client: openai.DefaultHttpxClient) -> None:
    chat = ChatOpenAI(model="gpt-4o", base_url=endpoint_server.base_url, api_key=API_KEY,  # type: ignore[arg-type]
                      max_retries=0, timeout=20, http_client=http_client, logprobs=True)
    merged: Any = None
    for chunk in chat.stream(QUESTION):
        merged = chunk if merged is None else merged + chunk
    entries = merged.response_metadata["logprobs"]["content"]
    assert "".join(entry["token"] for entry in entries) == merged.content
    assert merged.content.endswith(f"You said: {QUESTION}")
    assert endpoint_server.sent()["logprobs"] is True


def test_bind_tools_streamed_then_the_tools_result(chat: ChatOpenAI,
                                                   endpoint_server: EndpointServer) -> None:
    bound = chat.bind_tools([get_forecast])
    chunks = list(bound.stream(QUESTION))
    assert len(chunks) > 2  # the arguments came in fragments
    merged: Any = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    [call] = merged.tool_calls
    assert call["name"] == "get_forecast" and call["args"] == {"city": QUESTION, "days": 0}
    assert offered(endpoint_server.sent()) == ["get_forecast"]
    history: list[Any] = [HumanMessage(QUESTION), merged,
                          ToolMessage(get_forecast.invoke(call["args"]), tool_call_id=call["id"])]
    final = bound.invoke(history)
    assert final.content == f"The tool returned: rain in {QUESTION} for 3 days"
    replayed = endpoint_server.sent()["messages"]
    assert [m["role"] for m in replayed] == ["user", "assistant", "tool"]
    assert replayed[1]["tool_calls"][0]["id"] == call["id"] == replayed[2]["tool_call_id"]


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_with_structured_output(chat: ChatOpenAI, endpoint_server: EndpointServer,
                                method: str) -> None:
    structured = chat.with_structured_output(Forecast, method=method)  # type: ignore[arg-type]
    assert structured.invoke(QUESTION) == Forecast(city=QUESTION, days=0, raining=False)
    check_structured(endpoint_server.sent(), method, "Forecast")


def test_with_structured_output_json_mode(chat: ChatOpenAI,
                                          endpoint_server: EndpointServer) -> None:
    # json_object: the emulator answers {"answer": <the user's text>}.
    structured = chat.with_structured_output(Answer, method="json_mode")
    assert structured.invoke(QUESTION) == Answer(answer=QUESTION)
    assert endpoint_server.sent()["response_format"] == {"type": "json_object"}


def test_embeddings(endpoint_server: EndpointServer,
                    http_client: openai.DefaultHttpxClient) -> None:
    embeddings = OpenAIEmbeddings(model="text-embedding-3-small",
                                  base_url=endpoint_server.base_url, api_key=API_KEY,  # type: ignore[arg-type]
                                  check_embedding_ctx_length=False, max_retries=0,
                                  dimensions=16, http_client=http_client)
    texts = ["fjords and rain", "mountains"]
    vectors = embeddings.embed_documents(texts)
    query = embeddings.embed_query("a lonely query")
    assert vectors == [embed_text(text, 16) for text in texts]
    assert query == embed_text("a lonely query", 16)
    sent = endpoint_server.sent_to("/v1/embeddings")
    assert [body["input"] for body in sent] == [texts, ["a lonely query"]]
    assert {body["dimensions"] for body in sent} == {16}
