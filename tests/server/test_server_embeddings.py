"""POST /v1/embeddings through the openai SDK (base64 by default, and float) and raw HTTP:
vectors, usage, dimensions, token ids refused, errors in OpenAI's shape with `param`."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import openai
import pytest
from server_helpers import MakeClient, StartServer, raw

from jackfield import Embeddings, Registry, ResponseFormatError, RetryPolicy
from jackfield._server.embeddings import embedding_object, parse_embedding_call
from nativeprovider import DiscoveringProvider, NativeServer, vector_of


@pytest.fixture
async def service(serve_app: Any) -> tuple[NativeServer, str]:
    server = NativeServer()
    server.known_only = True
    return server, await serve_app(server.app)


@pytest.fixture
async def server_url(service: tuple[NativeServer, str], make_registry: Any,
                     start_server: StartServer) -> str:
    registry: Registry = make_registry([DiscoveringProvider()], base_urls={"disco": service[1]},
                                       retry=RetryPolicy(attempts=1),
                                       routes={"vectors": ["disco/embedder"]})
    return await start_server(registry)


@pytest.fixture
def api(server_url: str, client: MakeClient) -> openai.AsyncOpenAI:
    return client(server_url)


async def test_the_sdks_default_base64_gives_the_services_vectors(
        service: tuple[NativeServer, str], api: openai.AsyncOpenAI) -> None:
    server, _ = service
    reply = await api.embeddings.create(model="embedder", input=["first text", "second"])
    assert [entry.index for entry in reply.data] == [0, 1]
    assert reply.data[0].embedding == pytest.approx(vector_of("first text"), rel=1e-6)
    assert reply.data[1].embedding == pytest.approx(vector_of("second"), rel=1e-6)
    assert reply.model == "embedder"
    assert (reply.usage.prompt_tokens, reply.usage.total_tokens) == (3, 3)
    assert server.seen[-1] == {"model": "embedder", "input": ["first text", "second"]}


async def test_float_encoding_and_dimensions(api: openai.AsyncOpenAI) -> None:
    reply = await api.embeddings.create(model="disco/embedder", input="one text",
                                        encoding_format="float", dimensions=5)
    [entry] = reply.data
    assert entry.embedding == vector_of("one text", 5)  # floats: exactly the service's


async def test_base64_is_little_endian_float32_over_raw_http(server_url: str) -> None:
    body = json.dumps({"model": "embedder", "input": "abc", "encoding_format": "base64"})
    status, _, reply = await raw("POST", f"{server_url}/v1/embeddings", data=body.encode(),
                                 headers={"content-type": "application/json"})
    assert status == 200
    assert reply["object"] == "list" and reply["data"][0]["object"] == "embedding"
    packed = base64.b64decode(reply["data"][0]["embedding"])
    expected = vector_of("abc")
    assert struct.unpack(f"<{len(expected)}f", packed) == pytest.approx(expected, rel=1e-6)
    assert set(reply["usage"]) >= {"prompt_tokens", "total_tokens"}


async def test_token_ids_are_refused_with_what_to_send(
        service: tuple[NativeServer, str], api: openai.AsyncOpenAI) -> None:
    server, _ = service
    for tokens in ([1, 2, 3], [[1, 2], [3]]):
        with pytest.raises(openai.BadRequestError) as caught:
            await api.embeddings.create(model="embedder", input=tokens)
        assert caught.value.param in ("input", "input[0]")
        assert "check_embedding_ctx_length=False" in caught.value.message
    assert server.seen == []


@pytest.mark.parametrize(("body", "param"), [
    ({"input": "x"}, "model"),
    ({"model": "embedder"}, "input"),
    ({"model": "embedder", "input": []}, "input"),
    ({"model": "embedder", "input": ["ok", ""]}, "input[1]"),
    ({"model": "embedder", "input": "x", "encoding_format": "int8"}, "encoding_format"),
    ({"model": "embedder", "input": "x", "dimensions": 0}, "dimensions"),
    ({"model": "embedder", "input": "x", "timeout": 1}, "timeout"),
])
async def test_bad_input_is_a_400_naming_the_field_before_any_call(
        service: tuple[NativeServer, str], server_url: str, body: dict[str, Any],
        param: str) -> None:
    server, _ = service
    status, _, reply = await raw("POST", f"{server_url}/v1/embeddings",
                                 data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    assert status == 400, reply
    assert reply["error"]["param"] == param
    assert reply["error"]["type"] == "invalid_request_error"
    assert server.seen == []


async def test_user_is_accepted_with_a_warning(server_url: str) -> None:
    body = json.dumps({"model": "embedder", "input": "x", "user": "someone"}).encode()
    status, headers, reply = await raw("POST", f"{server_url}/v1/embeddings", data=body,
                                       headers={"content-type": "application/json"})
    assert status == 200
    assert json.loads(headers["X-Jackfield-Warnings"])[0]["param"] == "user"
    assert reply["jackfield_warnings"][0]["param"] == "user"


async def test_an_unknown_embedding_model_is_a_404(api: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await api.embeddings.create(model="disco/not-pulled-embedder", input="x")
    assert caught.value.code == "model_not_found"


async def test_the_services_refusal_of_an_embedding_is_a_400(
        service: tuple[NativeServer, str], api: openai.AsyncOpenAI) -> None:
    server, _ = service
    server.refuse.append((400, {"message": "input is too long for this model", "param": "input",
                                "type": "invalid_request_error", "code": None}))
    with pytest.raises(openai.BadRequestError) as caught:
        await api.embeddings.create(model="embedder", input="x")
    assert caught.value.param == "input"
    assert "too long" in caught.value.message


async def test_a_route_group_of_embedding_models_embeds(api: openai.AsyncOpenAI) -> None:
    reply = await api.embeddings.create(model="vectors", input="x", encoding_format="float")
    assert reply.data[0].embedding == vector_of("x")
    assert reply.model == "embedder"


def test_a_value_float32_cannot_hold_is_a_provider_error_in_base64_only() -> None:
    huge = Embeddings(((1e300, 0.5),), "embedder", "disco")
    call = parse_embedding_call({"model": "embedder", "input": "x",
                                 "encoding_format": "base64"})
    with pytest.raises(ResponseFormatError, match="encoding_format 'float'"):
        embedding_object(huge, call)
    as_floats = parse_embedding_call({"model": "embedder", "input": "x"})
    assert embedding_object(huge, as_floats)["data"][0]["embedding"] == [1e300, 0.5]
