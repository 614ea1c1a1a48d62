"""llama-index's OpenAILike → `jackfield serve` → jackfield-openai → its strict emulator: chat,
stream_chat and a tool call; and the chain (→ a second `jackfield serve` whose providers are
the seed plugins) streamed to AmigoChat's emulator.

(Embeddings are not here: llama-index-embeddings-openai would be another distribution in
this environment; the other groups test /v1/embeddings.)
"""

from __future__ import annotations

from typing import Any

from clientkit import API_KEY
from clientkit import tool_names as offered
from endpointkit import EndpointServer
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai_like import OpenAILike

QUESTION = "How long is the Danube?"


def make_llm(server: EndpointServer, model: str, **kwargs: Any) -> OpenAILike:
    return OpenAILike(model=model, api_base=server.base_url, api_key=API_KEY,
                      is_chat_model=True, context_window=8192, max_retries=0, timeout=20,
                      **kwargs)


def river_length(river: str) -> str:
    """The length of a river, in kilometres."""
    return f"{river}: {len(river) * 100} km"


def test_chat(endpoint_server: EndpointServer) -> None:
    response = make_llm(endpoint_server, "gpt-4o").chat([ChatMessage(role="user",
                                                                      content=QUESTION)])
    assert response.message.content == (
        f"Hello from the OpenAI emulator (gpt-4o). You said: {QUESTION}")
    assert endpoint_server.sent()["messages"] == [{"role": "user", "content": QUESTION}]


def test_stream_chat(endpoint_server: EndpointServer) -> None:
    llm = make_llm(endpoint_server, "gpt-4o-mini")
    pieces = list(llm.stream_chat([ChatMessage(role="user", content=QUESTION)]))
    assert len(pieces) > 3
    expected = f"Hello from the OpenAI emulator (gpt-4o-mini). You said: {QUESTION}"
    assert "".join(piece.delta or "" for piece in pieces) == expected
    assert pieces[-1].message.content == expected
    assert endpoint_server.sent()["stream"] is True


def test_tool_call(endpoint_server: EndpointServer) -> None:
    llm = make_llm(endpoint_server, "gpt-4o", is_function_calling_model=True)
    tool = FunctionTool.from_defaults(fn=river_length)
    response = llm.chat_with_tools([tool], user_msg=QUESTION)
    [call] = llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)
    assert call.tool_name == "river_length" and call.tool_kwargs == {"river": QUESTION}
    assert offered(endpoint_server.sent()) == ["river_length"]


def test_chained_stream_to_amigochat() -> None:
    with EndpointServer(chain=True) as server:
        llm = make_llm(server, "openai/amigochat/gemini-1.5-flash")
        pieces = list(llm.stream_chat([ChatMessage(role="user", content=QUESTION)]))
        assert len(pieces) > 3
        assert pieces[-1].message.content == (
            f"Hello from the AmigoChat emulator (gemini-1.5-flash). You said: {QUESTION}")
        assert server.sent()["model"] == "amigochat/gemini-1.5-flash"
