"""What echo-1 declares (text, and max_tokens as EchoAPI's max_words) held to through a
Registry against the emulator: the rest is reported, applied by the core, or refused."""

from __future__ import annotations

import pytest
from echoapi_helpers import echo_registry

from jackfield import CapabilityError, Completion, CompletionStream
from jackfield.testing import STATS_KEY, RegistryFactory, ServeApp


@pytest.mark.parametrize("stream", [False, True])
async def test_max_tokens_is_sent_as_max_words(serve_app: ServeApp,
                                              make_registry: RegistryFactory,
                                              stream: bool) -> None:
    registry, app = await echo_registry(serve_app, make_registry)
    if stream:
        chunks = await registry.complete("echo", "one two three four", stream=True,
                                         max_tokens=2)
        assert isinstance(chunks, CompletionStream)
        assert [chunk.text async for chunk in chunks] == ["one", " two"]
        completion = chunks.completion
    else:
        completion = await registry.complete("echo", "one two three four", max_tokens=2)
        assert isinstance(completion, Completion)
    assert (completion.text, completion.finish_reason) == ("one two", "length")
    assert completion.warnings == ()
    assert app[STATS_KEY].last_json["max_words"] == 2


async def test_what_echo_1_does_not_honour_is_reported_not_sent(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    registry, app = await echo_registry(serve_app, make_registry)
    completion = await registry.complete("echo", "hello there, world", temperature=0.2,
                                         seed=7, stop=",")
    assert isinstance(completion, Completion)
    assert completion.text == "hello there"  # stop: cut by the core, not the service
    assert completion.emulated == ("stop",)
    assert [warning.param for warning in completion.warnings] == ["temperature", "seed"]
    assert set(app[STATS_KEY].last_json) == {"model", "turns", "stream", "shout"}


async def test_a_tool_call_is_refused_before_io(serve_app: ServeApp,
                                                make_registry: RegistryFactory) -> None:
    registry, app = await echo_registry(serve_app, make_registry)
    tool = {"type": "function", "function": {"name": "lookup"}}
    with pytest.raises(CapabilityError) as caught:
        await registry.complete("echo", "hi", tools=[tool])
    assert caught.value.capability == "tools"
    assert app[STATS_KEY].requests == 0
