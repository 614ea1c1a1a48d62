"""llama-index's OpenAILike with its defaults (is_chat_model False: POST /v1/completions)
against `jackfield serve`: complete, stream_complete, and chat, which it turns into one
completion prompt; the async forms too."""

from __future__ import annotations

from typing import Any

from clientkit import API_KEY, LiveServer
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai_like import OpenAILike


def make_llm(server: LiveServer, **kwargs: Any) -> OpenAILike:
    """OpenAILike as its documentation sets it up: a model, the base URL and a key."""
    return OpenAILike(model="gpt-4o", api_base=server.base_url, api_key=API_KEY,
                      max_retries=0, timeout=20, **kwargs)


def completions(server: LiveServer) -> list[int]:
    """Return the statuses the server answered POST /v1/completions with."""
    return [reply.status for reply in server.replies if reply.path == "/v1/completions"]


def test_the_defaults_use_the_completions_api(server: LiveServer) -> None:
    assert make_llm(server).metadata.is_chat_model is False


def test_complete(server: LiveServer) -> None:
    response = make_llm(server, temperature=0.2).complete("Paris is")
    assert response.text == "You said: Paris is"
    assert completions(server) == [200]
    sent = server.sent()
    assert sent["messages"] == [{"role": "user", "content": "Paris is"}]
    assert sent["temperature"] == 0.2


def test_stream_complete(server: LiveServer) -> None:
    pieces = list(make_llm(server).stream_complete("four words in all"))
    assert len(pieces) > 2
    assert "".join(piece.delta or "" for piece in pieces) == "You said: four words in all"
    assert pieces[-1].text == "You said: four words in all"
    assert completions(server) == [200]


def test_chat_is_mapped_onto_one_completion(server: LiveServer) -> None:
    llm = make_llm(server, max_tokens=64)
    response = llm.chat([ChatMessage(role="system", content="Be brief."),
                         ChatMessage(role="user", content="Hello")])
    prompt = server.sent()["messages"][0]["content"]
    assert "Be brief." in prompt and "Hello" in prompt  # llama-index's own prompt format
    # The prompt ends "assistant: "; a finished reply's text is stripped, as the core's are.
    assert response.message.content == f"You said: {prompt}".strip()
    assert server.sent()["max_tokens"] == 64
    streamed = list(llm.stream_chat([ChatMessage(role="user", content="Hi again")]))
    assert (streamed[-1].message.content or "").startswith("You said: ")
    assert "Hi again" in (streamed[-1].message.content or "")
    assert completions(server) == [200, 200]


async def test_async_complete_and_stream(server: LiveServer) -> None:
    llm = make_llm(server)
    response = await llm.acomplete("async hello")
    assert response.text == "You said: async hello"
    pieces = [piece async for piece in await llm.astream_complete("async stream")]
    assert pieces[-1].text == "You said: async stream"
