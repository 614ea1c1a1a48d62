"""The real anthropic SDK against `jackfield serve`'s `POST /v1/messages`, whose provider is
jackfield-anthropic over its strict emulator: a message, a stream, a tool round trip and an
image; and the round trip Anthropic → OpenAI → Anthropic: the SDK → serve A
(/v1/messages) → jackfield-openai → serve B (/v1/chat/completions) → jackfield-anthropic →
the emulator, tool calls and streaming intact through both translations.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from clientkit import API_KEY, LiveServer

from jackfield import Registry, RetryPolicy, create_app
from jackfield.testing import STATS_KEY, png_bytes, serve_app

anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK is in envs/latest.txt")

# The emulator's own key, which only jackfield-anthropic holds (made up: no real key
# belongs in the tests); the SDK sends API_KEY to jackfield.
EMULATOR_KEY = "sk-ant-emulator-key-not-a-secret-0123456789"
# A model the SDK does not call deprecated (it warns for claude-sonnet-4-5, and every warning
# is an error here); the emulator serves it, thinking and seeing images.
SONNET = "claude-sonnet-4-6"
CLOCK = {"name": "clock", "description": "The time in a city.",
         "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}


def said(words: str, model: str = SONNET) -> str:
    return f"Hello from the Anthropic emulator ({model}). You said: {words}"


class AnthropicEndpoint(LiveServer):
    """`with AnthropicEndpoint() as server:` jackfield serving jackfield-anthropic over its
    emulator; with chain=True that server is B, and the one the client talks to is A, whose
    only provider is jackfield-openai pointed at B's /v1. `server.received()` is the last
    body the emulator got."""

    def __init__(self, *, chain: bool = False) -> None:
        super().__init__()
        self.chain = chain
        self.paths_b: list[str] = []  # what server B answered, in the chain
        self._emulator: Any = None

    async def _start(self) -> None:
        import jackfield_anthropic

        self._emulator = jackfield_anthropic.jackfield_emulator()(api_key=EMULATOR_KEY,
                                                                  models=[SONNET])
        emulator_url = await self._stack.enter_async_context(serve_app(self._emulator))
        registry = Registry([jackfield_anthropic], environ={}, retry=RetryPolicy(attempts=1),
                            config={"anthropic": {"base_url": emulator_url,
                                                  "api_key": EMULATOR_KEY}})
        await registry.refresh_models()
        if not self.chain:
            self.url = await self._serve(registry)
            return
        import jackfield_openai

        self._stack.push_async_callback(registry.aclose)
        app_b = create_app(registry, api_key=API_KEY)
        app_b.on_response_prepare.append(self._record_b)
        server_b = await self._listen(app_b)
        front = Registry([jackfield_openai], environ={}, retry=RetryPolicy(attempts=1),
                         config={"openai": {"base_url": f"{server_b}/v1",
                                            "api_key": API_KEY}})
        await front.refresh_models()
        self.url = await self._serve(front)

    async def _record_b(self, request: Any, response: Any) -> None:
        self.paths_b.append(f"{request.method} {request.path}")

    def received(self) -> dict[str, Any]:
        body: dict[str, Any] = self._emulator[STATS_KEY].last_json
        return body


@pytest.fixture(params=[False, True], ids=["direct", "chain"])
def server(request: pytest.FixtureRequest) -> Iterator[AnthropicEndpoint]:
    with AnthropicEndpoint(chain=request.param) as live:
        yield live


@pytest.fixture
def client(server: AnthropicEndpoint) -> Iterator[Any]:
    with anthropic.Anthropic(base_url=server.url, api_key=API_KEY, max_retries=0,
                             timeout=20) as made:
        yield made


def test_a_message(client: Any, server: AnthropicEndpoint) -> None:
    message = client.messages.create(model=SONNET, max_tokens=200, system="Be brief.",
                                     messages=[{"role": "user", "content": "hi"}])
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == said("hi")
    assert message.stop_reason == "end_turn" and message.usage.output_tokens > 0
    sent = server.received()
    assert sent["system"] == "Be brief." and sent["max_tokens"] == 200
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def test_a_stream(client: Any, server: AnthropicEndpoint) -> None:
    with client.messages.stream(model=SONNET, max_tokens=200, messages=[
            {"role": "user", "content": "count the rivers of Porto"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 3  # piece by piece, through every server on the way
    assert "".join(pieces) == said("count the rivers of Porto")
    assert final.stop_reason == "end_turn" and final.content[0].text == "".join(pieces)
    assert server.received()["stream"] is True
    if server.chain:  # the middle leg was OpenAI's chat completions
        assert server.paths_b[-1] == "POST /v1/chat/completions"


def test_thinking_comes_back_as_thinking(client: Any, server: AnthropicEndpoint) -> None:
    message = client.messages.create(model=SONNET, max_tokens=20000, thinking={
        "type": "enabled", "budget_tokens": 4096}, messages=[{"role": "user",
                                                              "content": "why?"}])
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking == "Thinking about: why?"
    assert text.text == said("why?")
    assert server.received()["thinking"]["type"] == "enabled"


def test_a_tool_round_trip_streamed(client: Any, server: AnthropicEndpoint) -> None:
    messages: list[Any] = [{"role": "user", "content": "Porto"}]
    with client.messages.stream(model=SONNET, max_tokens=200, tools=[CLOCK],
                                messages=messages) as stream:
        events = list(stream)
        first = stream.get_final_message()
    fragments = [event.delta.partial_json for event in events
                 if event.type == "content_block_delta"
                 and event.delta.type == "input_json_delta"]
    assert "".join(fragments) and len(fragments) >= 2  # arguments streamed in fragments
    [use] = [block for block in first.content if block.type == "tool_use"]
    assert (use.name, use.input) == ("clock", {"city": "Porto"})
    assert first.stop_reason == "tool_use"
    assert server.received()["tools"][0]["input_schema"] == CLOCK["input_schema"]
    messages += [{"role": "assistant", "content": [{"type": "tool_use", "id": use.id,
                                                    "name": use.name, "input": use.input}]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                               "content": "09:15"}]}]
    after = client.messages.create(model=SONNET, max_tokens=200, tools=[CLOCK],
                                   messages=messages)
    assert after.content[0].text == "The tool returned: 09:15"
    sent = server.received()["messages"]
    assert sent[1]["content"][0]["type"] == "tool_use"
    assert sent[1]["content"][0]["input"] == {"city": "Porto"}
    assert sent[2]["content"][0]["tool_use_id"] == sent[1]["content"][0]["id"]


def test_an_image(client: Any, server: AnthropicEndpoint) -> None:
    png = png_bytes("heron")
    message = client.messages.create(model=SONNET, max_tokens=200, messages=[{
        "role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": base64.b64encode(png).decode()}},
            {"type": "text", "text": "what bird?"}]}])
    assert message.content[0].text == "I got 1 image (image/png). " + said("what bird?")
    [image] = [block for block in server.received()["messages"][0]["content"]
               if block["type"] == "image"]
    assert base64.b64decode(image["source"]["data"]) == png


def test_a_thinking_tool_loop(client: Any, server: AnthropicEndpoint) -> None:
    """As an agent with thinking on runs it: the turn answering the tool result replays the
    signed thinking block, which jackfield cannot pass on; that call goes without thinking."""
    thinking = {"type": "enabled", "budget_tokens": 2048}
    messages: list[Any] = [{"role": "user", "content": "Lisbon"}]
    first = client.messages.create(model=SONNET, max_tokens=8000, thinking=thinking,
                                   tools=[CLOCK], messages=messages)
    assert [block.type for block in first.content] == ["thinking", "tool_use"]
    use = first.content[1]
    messages += [{"role": "assistant", "content": first.content},  # as the SDK's docs do
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                               "content": "10:30"}]}]
    after = client.messages.create(model=SONNET, max_tokens=8000, thinking=thinking,
                                   tools=[CLOCK], messages=messages)
    assert after.content[-1].text == "The tool returned: 10:30"
    assert "thinking" not in server.received()
