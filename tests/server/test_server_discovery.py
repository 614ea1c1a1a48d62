"""The server over a provider whose models live on its service: /v1/models asks it (within
the TTL), route groups are models of their own, models pulled after start can be called,
pass-through pins, the service's own "no such model" and refusals, and logprobs."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from server_helpers import MakeClient, StartServer, raw

from jackfield import DiscoveryPolicy, Registry, RetryPolicy
from nativeprovider import DiscoveringProvider, NativeServer

ROUTES = {"fast": ["disco/plain", "disco/omni"], "vectors": ["disco/embedder"]}


@pytest.fixture
async def disco_server(serve_app: Any) -> tuple[NativeServer, str]:
    server = NativeServer()
    server.known_only = True
    return server, await serve_app(server.app)


def _registry(make_registry: Any, url: str, **kwargs: Any) -> Registry:
    registry: Registry = make_registry(
        [DiscoveringProvider()], base_urls={"disco": url}, retry=RetryPolicy(attempts=1),
        routes=ROUTES, **kwargs)
    return registry


@pytest.fixture
async def disco_api(disco_server: tuple[NativeServer, str], make_registry: Any,
                    start_server: StartServer, client: MakeClient) -> openai.AsyncOpenAI:
    registry = _registry(make_registry, disco_server[1],
                         discovery=DiscoveryPolicy(ttl=300, retry=0))
    return client(await start_server(registry))


async def test_models_lists_what_the_service_has_and_the_route_groups(
        disco_server: tuple[NativeServer, str], disco_api: openai.AsyncOpenAI) -> None:
    server, _ = disco_server
    page = await disco_api.models.list()
    by_id = {model.id: model.model_dump() for model in page.data}
    assert server.listings == 1
    assert {"omni", "thinker", "plain", "embedder", "fast", "vectors"} <= set(by_id)
    assert by_id["embedder"]["kind"] == "embedding"
    assert by_id["thinker"]["owned_by"] == "disco"
    assert by_id["thinker"]["capabilities"]["tools"] is None  # unknown: the service decides
    fast = by_id["fast"]
    assert (fast["owned_by"], fast["provider"], fast["members"]) == (
        "jackfield-route", "", ["disco/plain", "disco/omni"])
    assert fast["capabilities"]["tools"] is True  # omni, one of its members, has tools
    assert by_id["vectors"]["kind"] == "embedding"
    await disco_api.models.list()
    assert server.listings == 1  # within the TTL: the last answer is used


async def test_a_model_pulled_after_start_is_listed_once_the_ttl_passed(
        disco_server: tuple[NativeServer, str], make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    server, url = disco_server
    registry = _registry(make_registry, url, discovery=DiscoveryPolicy(ttl=0, retry=0))
    api = client(await start_server(registry))
    assert "llava" not in {m.id for m in (await api.models.list()).data}
    server.listed.append("llava")
    assert "llava" in {m.id for m in (await api.models.list()).data}
    assert (await api.models.retrieve("llava")).model_dump()["provider"] == "disco"


async def test_a_call_naming_a_model_pulled_after_start_works(
        disco_server: tuple[NativeServer, str], disco_api: openai.AsyncOpenAI) -> None:
    server, _ = disco_server
    await disco_api.models.list()  # the list is fresh: only a name nobody lists asks again
    server.listed.append("llava:7b")
    reply = await disco_api.chat.completions.create(
        model="llava:7b", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "You said: hi"
    assert server.seen[-1]["model"] == "llava:7b"
    assert server.listings == 2
    stream = await disco_api.chat.completions.create(
        model="llava:7b", messages=[{"role": "user", "content": "hi"}], stream=True)
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream
                    if chunk.choices])
    assert text == "You said: hi"


async def test_a_name_nobody_has_is_a_404_after_asking(
        disco_server: tuple[NativeServer, str], disco_api: openai.AsyncOpenAI) -> None:
    server, _ = disco_server
    with pytest.raises(openai.NotFoundError) as caught:
        await disco_api.chat.completions.create(
            model="nobody-has-it", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"
    assert server.listings >= 1
    with pytest.raises(openai.NotFoundError):
        await disco_api.models.retrieve("nobody-has-it")


async def test_a_pinned_unlisted_id_passes_through_and_the_services_404_is_a_404(
        disco_server: tuple[NativeServer, str], disco_api: openai.AsyncOpenAI) -> None:
    server, _ = disco_server
    info = (await disco_api.models.retrieve("disco/not-pulled")).model_dump()
    assert (info["id"], info["provider"], info["pass_through"]) == ("not-pulled", "disco", True)
    with pytest.raises(openai.NotFoundError) as caught:
        await disco_api.chat.completions.create(
            model="disco/not-pulled", messages=[{"role": "user", "content": "hi"}])
    assert server.seen[-1]["model"] == "not-pulled"  # it was sent as it is
    assert caught.value.code == "model_not_found"
    assert "does not exist" in caught.value.message  # the service's own words
    assert "jackfield models --refresh" in caught.value.message
    server.known_only = False  # a service that serves ids it does not list
    reply = await disco_api.chat.completions.create(
        model="disco/not-pulled", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "You said: hi"


async def test_the_services_refusal_is_a_400_with_its_message_and_param(
        disco_server: tuple[NativeServer, str], disco_api: openai.AsyncOpenAI) -> None:
    server, _ = disco_server
    server.refuse.append((400, {"message": "This model's maximum context length is 8 tokens.",
                                "type": "invalid_request_error", "param": "messages",
                                "code": "context_length_exceeded"}))
    with pytest.raises(openai.BadRequestError) as caught:
        await disco_api.chat.completions.create(
            model="omni", messages=[{"role": "user", "content": "hi " * 50}])
    assert caught.value.param == "messages"
    assert "maximum context length is 8 tokens" in caught.value.message


async def test_a_route_group_is_retrieved_and_called_by_its_name(
        disco_api: openai.AsyncOpenAI) -> None:
    info = (await disco_api.models.retrieve("fast")).model_dump()
    assert (info["owned_by"], info["members"]) == ("jackfield-route", ["disco/plain",
                                                                       "disco/omni"])
    reply = await disco_api.chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "You said: hi"


async def test_a_service_that_does_not_answer_leaves_the_static_list_and_a_warning(
        disco_server: tuple[NativeServer, str], disco_api: openai.AsyncOpenAI,
        start_server: StartServer) -> None:
    server, _ = disco_server
    server.listing_status = 503
    page = await disco_api.models.list()
    ids = {model.id for model in page.data}
    assert {"omni", "plain"} <= ids and "embedder" not in ids
    warnings = page.model_dump()["jackfield_warnings"]
    assert [w["param"] for w in warnings] == ["disco"]
    assert "could not be listed" in warnings[0]["message"]


async def test_logprobs_reach_the_reply_and_the_stream(
        disco_api: openai.AsyncOpenAI) -> None:
    messages: Any = [{"role": "user", "content": "two words"}]
    reply = await disco_api.chat.completions.create(model="thinker", messages=messages,
                                                    logprobs=True, top_logprobs=1)
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert "".join(entry.token for entry in logprobs.content) == reply.choices[0].message.content
    assert logprobs.content[0].top_logprobs[0].token == logprobs.content[0].token
    plain = await disco_api.chat.completions.create(model="thinker", messages=messages)
    assert plain.choices[0].logprobs is None  # not asked: null, as OpenAI's
    stream = await disco_api.chat.completions.create(model="thinker", messages=messages,
                                                     logprobs=True, stream=True)
    tokens, text = [], []
    async for chunk in stream:
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            if choice.logprobs is not None:
                tokens.extend(entry.token for entry in choice.logprobs.content or ())
    assert "".join(tokens) == "".join(text) == "You said: two words"


async def test_a_chat_model_at_embeddings_and_an_embedding_model_at_chat_are_400s(
        disco_server: tuple[NativeServer, str], disco_api: openai.AsyncOpenAI) -> None:
    server, _ = disco_server
    await disco_api.models.list()
    with pytest.raises(openai.BadRequestError) as caught:
        await disco_api.chat.completions.create(
            model="embedder", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.param == "model"
    assert "POST /v1/embeddings" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:
        await disco_api.embeddings.create(model="omni", input="hi")
    assert caught.value.param == "model"
    assert "POST /v1/chat/completions" in caught.value.message
    assert not [body for body in server.seen if body.get("model") in ("embedder", "omni")]


async def test_models_reply_is_openai_shaped_over_raw_http(
        disco_api: openai.AsyncOpenAI) -> None:
    status, _, body = await raw("GET", f"{disco_api.base_url}models")
    assert status == 200 and body["object"] == "list"
    assert all(entry["object"] == "model" and isinstance(entry["owned_by"], str)
               for entry in body["data"])


async def test_an_allow_listed_embedding_model_of_an_instance_embeds_at_once(
        disco_server: tuple[NativeServer, str], make_registry: Any,
        start_server: StartServer, client: MakeClient) -> None:
    _, url = disco_server
    registry: Registry = make_registry(
        [DiscoveringProvider()], base_urls={"disco": url},
        config={"local": {"plugin": "disco", "base_url": url, "models": ["embedder"]}})
    api = client(await start_server(registry))
    # The first request: nothing asked yet, and the allow-list alone says no kind.
    reply = await api.embeddings.create(model="local/embedder", input="x",
                                        encoding_format="float")
    assert len(reply.data[0].embedding) == 3
