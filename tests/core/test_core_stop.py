"""`stop` applied by the core for a model that cannot stop (mock/echo): the reply ends before
the first stop string, streamed text is held back only while it may begin one, and the
upstream connection is closed as soon as a stop is seen."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jackfield import Registry
from jackfield._engine.stops import held_back
from jackfield.provider import Capabilities, ModelSpec
from jackfield.testing import STATS_KEY
from mockprovider import MockServer
from nativeprovider import NativeProvider, NativeServer

# The mock service answers "You said: <prompt>" in the pieces "You", " said:", " a", ...


async def wait_for(condition: object, what: str) -> None:
    for _ in range(300):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(("stop", "text"), [
    ("two", "You said: one"),            # inside a piece
    ("d: o", "You sai"),                 # across two pieces
    (["three", " t"], "You said: one"),  # the earliest of several wins
    ("You", ""),                         # at the very start
    ("zzz", "You said: one two three"),  # never: the whole reply
])
@pytest.mark.parametrize("stream", [False, True])
async def test_the_reply_ends_before_the_first_stop(
        mock_registry: Registry, mock_server: MockServer, stop: str | list[str], text: str,
        stream: bool) -> None:
    if stream:
        async with await mock_registry.complete("echo", "one two three", stream=True,
                                                stop=stop) as chunks:
            pieces = [chunk.text async for chunk in chunks]
            reply = chunks.completion
        full = "You said: one two three"
        hits = [full.find(each) for each in ([stop] if isinstance(stop, str) else stop)]
        assert "".join(pieces) == full[:min([hit for hit in hits if hit >= 0] or [len(full)])]
    else:
        reply = await mock_registry.complete("echo", "one two three", stop=stop)
    assert reply.text == text
    assert reply.finish_reason == "stop"
    assert reply.emulated == ("stop",) and reply.warnings == ()
    assert "stop" not in mock_server.seen[-1]["params"]  # the model was not asked to stop


async def test_pieces_are_delivered_at_once_unless_they_may_begin_a_stop(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    stream = await mock_registry.complete("echo", "a b c d", stream=True, stop="c!")
    received: list[str] = []

    async def reader() -> None:
        async for chunk in stream:
            received.append(chunk.text)

    task = asyncio.create_task(reader())
    # Exactly one more piece leaves the server each time; none may begin "c!" but " c",
    # of which only the "c" is held back while the next piece is awaited.
    for piece, delivered in (("You", "You"), (" said:", " said:"), (" a", " a"),
                             (" b", " b"), (" c", " ")):
        mock_server.gate.set()
        await wait_for(lambda d=delivered: received and received[-1] == d, repr(piece))
    await asyncio.sleep(0.05)
    assert received[-1] == " "  # "c" waits: it may yet be the start of "c!"
    mock_server.gate.set()  # " d": it was not
    await task
    assert received == ["You", " said:", " a", " b", " ", "c d"]
    assert stream.completion.text == "You said: a b c d"


async def test_the_connection_is_closed_once_a_stop_is_seen(
        mock_registry: Registry, mock_server: MockServer) -> None:
    mock_server.gate = gate = asyncio.Event()  # the server sends a piece only when let
    stats = mock_server.app[STATS_KEY]
    stream = await mock_registry.complete("echo", "one two three", stream=True, stop=" one")
    reader = asyncio.create_task(stream.text())
    for _ in range(3):  # "You", " said:", " one": the stop is in the third piece
        await wait_for(lambda: not gate.is_set(), "the server to take the last piece")
        gate.set()
    # Never let the rest out: a core that kept reading would wait here for ever.
    assert await asyncio.wait_for(reader, 5) == "You said:"
    await wait_for(lambda: stats.in_flight == 0, "the server to see the connection closed")
    assert stream.completion.finish_reason == "stop"


async def test_a_model_that_stops_itself_is_sent_stop(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("omni", "one two", stop=["two"])
    assert native_server.seen[-1]["stop"] == ["two"]
    assert reply.emulated == ()
    assert reply.text == "You said: one two"  # the service is trusted with it, not re-cut


async def test_the_core_stops_a_text_only_model_of_another_provider(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("plain", "one two", stop=["two"])
    assert "stop" not in native_server.seen[-1]
    assert (reply.text, reply.emulated) == ("You said: one", ("stop",))


async def test_reasoning_passes_the_stop_filter_untouched(
        native_server: NativeServer, serve_app: Any, make_registry: Any) -> None:
    # A reasoning model that cannot stop: the core cuts the answer, not the reasoning.
    musing = ModelSpec("musing", capabilities=Capabilities(reasoning=True))
    url = await serve_app(native_server.app)
    registry = make_registry([NativeProvider(extra_models=[musing])],
                             base_urls={"native": url})
    for stream in (False, True):
        native_server.script.append({"role": "assistant", "content": "Answer: it is.",
                                     "reasoning_content": "Is it? it is."})
        if stream:
            async with await registry.complete("musing", "q", stop="it", stream=True) as chunks:
                async for _ in chunks:
                    pass
                reply = chunks.completion
        else:
            reply = await registry.complete("musing", "q", stop="it")
        assert (reply.text, reply.reasoning) == ("Answer:", "Is it? it is.")


@pytest.mark.parametrize(("text", "stops", "kept"), [
    ("abc", ["cd"], 1), ("abc", ["bcd"], 2), ("abc", ["x"], 0), ("ab", ["abc", "bx"], 2),
    ("aaa", ["aab"], 2), ("", ["a"], 0), ("xa", ["a"], 0),
])
def test_only_a_possible_start_of_a_stop_is_held_back(text: str, stops: list[str],
                                                      kept: int) -> None:
    assert held_back(text, stops) == kept
