"""llama-index's OpenAILike against `jackfield serve`: chat with a temperature to a model that
honours none (aichats/gpt-4: answered, with a warning), and tool calls against omni."""

from __future__ import annotations

from typing import Any

from clientkit import API_KEY, LiveServer
from clientkit import tool_names as offered
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai_like import OpenAILike

GREETING = "Hello from the AiChats emulator. You said:"


def make_llm(server: LiveServer, model: str, **kwargs: Any) -> OpenAILike:
    return OpenAILike(model=model, api_base=server.base_url, api_key=API_KEY, is_chat_model=True,
                      context_window=8192, max_retries=0, timeout=20, **kwargs)


def get_weather(city: str) -> str:
    """The current temperature in a city, in degrees Celsius."""
    return f"21 degrees in {city}"


def test_chat_with_temperature_to_aichats(aichats_server: LiveServer) -> None:
    llm = make_llm(aichats_server, "aichats/gpt-4", temperature=0.3)
    response = llm.chat([ChatMessage(role="user", content="Tell me about Paris")])
    assert response.message.content is not None
    assert response.message.content.startswith(GREETING)
    assert "Tell me about Paris" in response.message.content
    reply = aichats_server.last_chat()
    assert reply.status == 200
    assert "temperature" in reply.warned(), reply


def test_stream_chat_with_temperature_to_aichats(aichats_server: LiveServer) -> None:
    llm = make_llm(aichats_server, "aichats/gpt-4", temperature=0.3)
    pieces = list(llm.stream_chat([ChatMessage(role="user", content="Tell me about Paris")]))
    assert len(pieces) > 1
    assert (pieces[-1].message.content or "").startswith(GREETING)
    assert "temperature" in aichats_server.last_chat().warned()


def test_tool_call_against_omni(server: LiveServer) -> None:
    llm = make_llm(server, "gpt-4o", is_function_calling_model=True)
    tool = FunctionTool.from_defaults(fn=get_weather)
    response = llm.chat_with_tools([tool], user_msg="What is the weather in Paris?")
    [call] = llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)
    assert call.tool_name == "get_weather" and call.tool_kwargs == {"city": "sunny"}
    assert offered(server.sent()) == ["get_weather"]


def test_predict_and_call_against_omni(server: LiveServer) -> None:
    llm = make_llm(server, "gpt-4o", is_function_calling_model=True)
    tool = FunctionTool.from_defaults(fn=get_weather)
    response = llm.predict_and_call([tool], user_msg="What is the weather in Paris?")
    assert response.response == "21 degrees in sunny"
