"""POST /v1/completions (legacy text completions) on chat models, with the openai SDK: the
prompt as one user message, each field sent or refused before any provider call, the
legacy logprobs shape, echo, and streamed `text_completion` chunks ending with [DONE]."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import attrs
import openai
import pytest
from server_helpers import MakeClient, StartServer, raw

from jackfield import Registry, RetryPolicy
from jackfield.provider import ModelSpec
from mockprovider import MockServer
from nativeprovider import ALL, NativeProvider, NativeServer


@pytest.fixture
async def url(native_registry: Registry, start_server: StartServer) -> str:
    return await start_server(native_registry)


@pytest.fixture
async def scorer_api(native_server: NativeServer, serve_app: Any, make_registry: Any,
                     start_server: StartServer, client: MakeClient) -> openai.AsyncOpenAI:
    """A server whose native model `scorer` gives logprobs."""
    scorer = ModelSpec("scorer", capabilities=attrs.evolve(ALL, logprobs=True))
    registry = make_registry([NativeProvider(extra_models=[scorer])],
                             base_urls={"native": await serve_app(native_server.app)},
                             retry=RetryPolicy(attempts=1))
    return client(await start_server(registry))


async def test_a_prompt_is_one_user_message_answered_as_a_text_completion(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    reply = await native_api.completions.create(
        model="gpt-4o", prompt="Say hi", max_tokens=20, temperature=0.3, top_p=0.9,
        stop=["\n\n"], seed=4, user="someone")
    assert reply.object == "text_completion" and reply.id.startswith("cmpl-")
    assert reply.model == "omni"
    [choice] = reply.choices
    assert (choice.text, choice.index, choice.finish_reason) == ("You said: Say hi", 0, "stop")
    assert choice.logprobs is None
    assert reply.usage is not None and reply.usage.total_tokens == 8
    sent = native_server.seen[-1]
    assert sent["messages"] == [{"role": "user", "content": "Say hi"}]
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"], sent["stop"],
            sent["seed"]) == (20, 0.3, 0.9, ["\n\n"], 4)


async def test_a_list_of_one_prompt_n_replies_and_echo(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    reply = await native_api.completions.create(model="omni", prompt=["Once"], n=2, echo=True)
    assert [c.text for c in reply.choices] == ["OnceYou said: Once"] * 2
    assert [c.index for c in reply.choices] == [0, 1]
    assert len(native_server.seen) == 2  # n replies are n calls


async def test_a_reply_cut_short_finishes_with_length(
        native_api: openai.AsyncOpenAI, native_server: NativeServer) -> None:
    native_server.finish = "length"
    reply = await native_api.completions.create(model="omni", prompt="hi", max_tokens=1)
    assert reply.choices[0].finish_reason == "length"


async def test_logprobs_come_in_the_legacy_shape(scorer_api: openai.AsyncOpenAI,
                                                 native_server: NativeServer) -> None:
    reply = await scorer_api.completions.create(model="scorer", prompt="two words",
                                                logprobs=1)
    sent = native_server.seen[-1]
    assert sent["logprobs"] is True and sent["top_logprobs"] == 1
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and logprobs.tokens is not None
    assert "".join(logprobs.tokens) == reply.choices[0].text == "You said: two words"
    assert logprobs.token_logprobs is not None and all(
        value < 0 for value in logprobs.token_logprobs)
    assert logprobs.top_logprobs is not None
    assert [list(top) for top in logprobs.top_logprobs] == [[t] for t in logprobs.tokens]
    assert logprobs.text_offset is not None
    assert logprobs.text_offset[0] == 0
    assert logprobs.text_offset[1] == len(logprobs.tokens[0])


REFUSED = [
    ({"prompt": ["one", "two"]}, "prompt", "2 prompts"),
    ({"prompt": [1, 2, 3]}, "prompt", "token ids"),
    ({"prompt": [[1, 2]]}, "prompt", "token ids"),
    ({"prompt": ""}, "prompt", "empty"),
    ({"prompt": None}, "prompt", "required"),
    ({"suffix": "end"}, "suffix", "fill in the middle"),
    ({"best_of": 3}, "best_of", "'n'"),
    ({"echo": True, "logprobs": 1}, "echo", "prompt's log probabilities"),
    ({"logprobs": True}, "logprobs", "a number"),
    ({"logprobs": 6}, "logprobs", "0 to 5"),
    ({"echo": "yes"}, "echo", "true or false"),
    ({"messages": []}, "messages", "/v1/chat/completions"),
    ({"tools": []}, "tools", "/v1/chat/completions"),
    ({"proxy": "http://x"}, "proxy", "server's"),
    ({"temperature": 9}, "temperature", "0 to 2"),
    ({"logit_bias": {"1": 2}}, "logit_bias", "does not accept"),
    ({"stream_options": 1}, "stream_options", "object"),
]


@pytest.mark.parametrize(("fields", "param", "said"), REFUSED)
async def test_bad_input_is_refused_before_any_provider_call(
        url: str, native_server: NativeServer, fields: dict[str, Any], param: str,
        said: str) -> None:
    body = {"model": "omni", "prompt": "hi"} | fields
    status, _, reply = await raw("POST", f"{url}/v1/completions",
                                 data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    assert status == 400, reply
    assert reply["error"]["param"] == param and said in reply["error"]["message"], reply
    assert native_server.seen == []


async def test_a_stream_is_text_completion_chunks_then_usage_and_done(url: str) -> None:
    body = {"model": "omni", "prompt": "four words in all", "stream": True,
            "stream_options": {"include_usage": True}}
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/v1/completions", json=body) as response:
        assert response.status == 200
        text = (await response.read()).decode()
    lines = [block.removeprefix("data: ") for block in text.strip().split("\n\n")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"text_completion"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    *pieces, last, usage = chunks
    assert len(pieces) > 1
    assert "".join(p["choices"][0]["text"] for p in pieces) == "You said: four words in all"
    assert all(p["choices"][0]["finish_reason"] is None for p in pieces)
    assert last["choices"][0]["finish_reason"] == "stop" and last["provider"] == "native"
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] == 8


async def test_the_sdk_streams_with_echo_and_logprobs(scorer_api: openai.AsyncOpenAI,
                                                      native_api: openai.AsyncOpenAI) -> None:
    echoed = await native_api.completions.create(model="omni", prompt="Hi.", echo=True,
                                                 stream=True)
    texts = [chunk.choices[0].text async for chunk in echoed]
    assert texts[0] == "Hi." and "".join(texts) == "Hi.You said: Hi."
    scored = await scorer_api.completions.create(model="scorer", prompt="two words",
                                                 logprobs=0, stream=True)
    chunks = [chunk async for chunk in scored]
    with_text = [chunk.choices[0] for chunk in chunks if chunk.choices[0].text]
    assert all(c.logprobs is not None and c.logprobs.tokens == [c.text] for c in with_text)
    offsets = [c.logprobs.text_offset[0] for c in with_text if c.logprobs and
               c.logprobs.text_offset]
    assert offsets == [sum(len(c.text) for c in with_text[:i]) for i in range(len(with_text))]


async def test_a_failure_after_the_headers_is_one_error_event_and_no_done(
        strict_registry: Registry, start_server: StartServer, client: MakeClient,
        mock_server: MockServer) -> None:
    mock_server.gate = asyncio.Event()
    mock_server.gate.set()
    url = await start_server(strict_registry)
    stream = await client(url).completions.create(model="echo", prompt="hi", stream=True)
    received = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            received.append(chunk.choices[0].text)
    assert received == ["You"]
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "provider_partial_response"
