"""Accept and report what does not change the answer: each such field is accepted, not sent,
and listed in Completion.warnings (streams: once the first chunk came); Registry(strict=True)
refuses each one by name before any I/O. Only the delivering candidate's warnings count."""

from __future__ import annotations

from typing import Any

import pytest

from jackfield import InvalidRequestError, Registry, RetryPolicy
from jackfield.testing import STATS_KEY
from mockprovider import MockProvider, MockServer
from nativeprovider import NativeProvider, NativeServer

WEATHER = {"type": "function", "function": {"name": "get_weather"}}
# (model, keyword arguments, the warning's param, the wire field that must not be sent)
REPORTED: list[tuple[str, dict[str, Any], str, str]] = [
    ("plain", {"temperature": 0.5}, "temperature", "temperature"),
    ("plain", {"top_p": 0.5}, "top_p", "top_p"),
    ("plain", {"max_tokens": 10}, "max_tokens", "max_tokens"),
    ("plain", {"presence_penalty": 1}, "presence_penalty", "presence_penalty"),
    ("plain", {"frequency_penalty": 1}, "frequency_penalty", "frequency_penalty"),
    ("plain", {"seed": 42}, "seed", "seed"),
    ("omni", {"reasoning_effort": "high"}, "reasoning_effort", "reasoning_effort"),
    ("omni", {"user": "u-1"}, "user", "user"),
    ("omni", {"store": True}, "store", "store"),
    ("omni", {"metadata": {"k": "v"}}, "metadata", "metadata"),
    ("omni", {"service_tier": "auto"}, "service_tier", "service_tier"),
    ("omni", {"stream_options": {"include_usage": True}}, "stream_options", "stream_options"),
    ("omni", {"logprobs": False}, "logprobs", "logprobs"),
    ("omni", {"response_format": {"type": "text"}}, "response_format", "response_format"),
    ("omni", {"tool_choice": "none"}, "tool_choice", "tool_choice"),
    ("omni", {"tool_choice": "auto"}, "tool_choice", "tool_choice"),
    ("omni", {"parallel_tool_calls": True}, "parallel_tool_calls", "parallel_tool_calls"),
    ("plain", {"tools": [WEATHER], "tool_choice": "none"}, "tools", "tools"),
]
IDS = [f"{model}-{param}" for model, _, param, _ in REPORTED]


@pytest.mark.parametrize(("model", "options", "param", "field"), REPORTED, ids=IDS)
async def test_what_changes_nothing_is_accepted_not_sent_and_reported(
        native_registry: Registry, native_server: NativeServer, model: str,
        options: dict[str, Any], param: str, field: str) -> None:
    reply = await native_registry.complete(model, "hi", **options)
    assert reply.text == "You said: hi"
    assert [w.param for w in reply.warnings] == [param]
    assert param in str(reply.warnings[0])
    assert field not in native_server.seen[-1]


@pytest.mark.parametrize(("model", "options", "param", "field"), REPORTED, ids=IDS)
async def test_strict_mode_refuses_each_by_name_before_any_io(
        native_server: NativeServer, serve_app: Any, make_registry: Any, model: str,
        options: dict[str, Any], param: str, field: str) -> None:
    url = await serve_app(native_server.app)
    registry = make_registry([NativeProvider()], base_urls={"native": url}, strict=True)
    with pytest.raises(InvalidRequestError, match="Strict mode") as caught:
        await registry.complete(model, "hi", **options)
    assert caught.value.param == param
    assert native_server.seen == []


async def test_replayed_message_fields_are_refused_in_strict_mode(
        native_server: NativeServer, serve_app: Any, make_registry: Any) -> None:
    url = await serve_app(native_server.app)
    registry = make_registry([NativeProvider()], base_urls={"native": url}, strict=True)
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "no", "refusal": "no"},
                {"role": "user", "content": "y"}]
    with pytest.raises(InvalidRequestError) as caught:
        await registry.complete("omni", messages)
    assert caught.value.param == "messages[1].refusal"
    # what a client replays as null is no request at all, strict or not
    messages[1] = {"role": "assistant", "content": "no", "refusal": None, "annotations": []}
    assert (await registry.complete("omni", messages)).warnings == ()


async def test_honoured_parameters_are_sent_without_a_warning(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("thinker", "hi", reasoning_effort="high", seed=1,
                                           temperature=0.3)
    assert reply.warnings == ()
    body = native_server.seen[-1]
    assert (body["reasoning_effort"], body["seed"], body["temperature"]) == ("high", 1, 0.3)


async def test_the_mock_echo_honours_temperature_but_not_top_p(
        mock_registry: Registry, mock_server: MockServer) -> None:
    reply = await mock_registry.complete("echo", "hi", temperature=0.4, top_p=0.9)
    assert mock_server.seen[-1]["params"] == {"temperature": 0.4}
    assert [w.param for w in reply.warnings] == ["top_p"]


async def test_nulls_of_no_op_fields_ask_for_nothing_and_are_not_reported(
        native_registry: Registry, native_server: NativeServer) -> None:
    reply = await native_registry.complete("omni", "hi", user=None, store=None, metadata=None,
                                           stream_options=None, logprobs=None)
    assert reply.warnings == ()


async def test_a_stream_knows_its_warnings_once_the_first_chunk_came(
        native_registry: Registry) -> None:
    async with await native_registry.complete("plain", "hi there", stream=True, seed=1,
                                              user="u") as stream:
        assert stream.warnings == ()  # nothing is sent before the first chunk is awaited
        await stream.__anext__()
        assert sorted(w.param for w in stream.warnings) == ["seed", "user"]
        assert stream.emulated == ()
        async for _ in stream:
            pass
    assert stream.completion.warnings == stream.warnings


@pytest.fixture
async def fallback(mock_server: MockServer, native_server: NativeServer, serve_app: Any,
                   make_registry: Any) -> Registry:
    """Route 'r': mock/echo (no seed) first, then native/omni (seed honoured)."""
    mock_url, native_url = await serve_app(mock_server.app), await serve_app(native_server.app)
    registry: Registry = make_registry([MockProvider(), NativeProvider()],
                                       base_urls={"mock": mock_url, "native": native_url},
                                       routes={"r": ["mock/echo", "native/omni"]},
                                       retry=RetryPolicy(attempts=1))
    return registry


@pytest.mark.parametrize("stream", [False, True])
async def test_a_failed_candidate_s_warnings_are_not_the_answer_s(
        fallback: Registry, mock_server: MockServer, native_server: NativeServer,
        stream: bool) -> None:
    mock_server.fail.append((503, {}, '{"error": "down"}'))
    if stream:
        async with await fallback.complete("r", "hi", stream=True, seed=5) as chunks:
            text = "".join([chunk.text async for chunk in chunks])
            reply = chunks.completion
        assert text == "You said: hi"
    else:
        reply = await fallback.complete("r", "hi", seed=5)
    assert (reply.provider, reply.model) == ("native", "omni")
    assert len(mock_server.seen) == 1 and native_server.seen[-1]["seed"] == 5
    assert reply.warnings == ()  # mock would not have sent seed; omni did


async def test_the_delivering_candidate_s_warnings_are_reported(
        fallback: Registry, mock_server: MockServer) -> None:
    reply = await fallback.complete("r", "hi", seed=5)
    assert reply.provider == "mock"
    assert [w.param for w in reply.warnings] == ["seed"]
    assert "seed" not in mock_server.seen[-1]["params"]


async def test_strict_mode_routes_to_a_candidate_that_can_send_it(
        mock_server: MockServer, native_server: NativeServer, serve_app: Any,
        make_registry: Any) -> None:
    mock_url, native_url = await serve_app(mock_server.app), await serve_app(native_server.app)
    registry = make_registry([MockProvider(), NativeProvider()], strict=True,
                             base_urls={"mock": mock_url, "native": native_url},
                             routes={"r": ["mock/echo", "native/omni"]})
    reply = await registry.complete("r", "hi", seed=5)
    assert (reply.provider, reply.warnings) == ("native", ())
    assert mock_server.seen == [] and mock_server.app[STATS_KEY].requests == 0
