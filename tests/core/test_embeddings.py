"""registry.embed(): its input checks (before any I/O), the reply's checks, usage, fallback
and timeouts; logprobs events, which reach Completion.logprobs and Chunk.logprobs."""

from __future__ import annotations

import math
from typing import Any

import pytest

from discovering import LOGPROB, DiscoveringProvider, ModelService, PassingProvider, started
from jackfield import (
    Embeddings,
    InvalidRequestError,
    ProviderTimeoutError,
    Registry,
    ResponseFormatError,
    RetryPolicy,
)
from jackfield.provider import ModelSpec
from jackfield.testing import RegistryFactory, ServeApp


@pytest.fixture
async def service(serve_app: ServeApp) -> ModelService:
    return await started(serve_app, ["m1", "emb-1", "emb-2"])


@pytest.fixture
def registry(make_registry: RegistryFactory, service: ModelService) -> Registry:
    return make_registry([DiscoveringProvider()], base_urls={"disc": service.url},
                         retry=RetryPolicy(attempts=1))


async def test_one_vector_per_input_in_order(registry: Registry, service: ModelService) -> None:
    service.vectors = lambda inputs: [{"index": i, "embedding": [float(i), 1.0]}
                                      for i in reversed(range(len(inputs)))]
    found = await registry.embed("emb-1", ["a", "b", "c"])
    assert isinstance(found, Embeddings)
    assert list(found) == [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)] and len(found) == 3
    assert found[2] == (2.0, 1.0) and (found.model, found.provider) == ("emb-1", "disc")
    assert (found.usage.prompt_tokens, found.usage.total_tokens) == (3, 3)  # type: ignore[union-attr]
    assert "1.0" not in repr(found)  # vectors are summarized, not printed
    one = await registry.embed("emb-1", "just one")
    assert len(one) == 1 and service.calls[-1]["input"] == ["just one"]


async def test_dimensions_are_sent_and_checked(registry: Registry,
                                               service: ModelService) -> None:
    found = await registry.embed("emb-1", ["ab"], dimensions=5)
    assert service.calls[-1]["dimensions"] == 5 and len(found[0]) == 5
    service.vectors = lambda inputs: [{"index": 0, "embedding": [1.0, 2.0, 3.0]}]
    with pytest.raises(ResponseFormatError, match="3 dimensions, not the 5 asked for"):
        await registry.embed("emb-1", ["ab"], dimensions=5)


@pytest.mark.parametrize(("inputs", "dimensions", "says", "param"), [
    (b"bytes", None, "must be a string or a list of strings", "input"),
    (None, None, "must be a string or a list of strings", "input"),
    ({"a": 1}, None, "must be a string or a list of strings, got dict", "input"),
    ([], None, "1 to 2048 texts", "input"),
    (["x"] * 2049, None, "1 to 2048 texts, got 2049", "input"),
    (["ok", ""], None, r"inputs\[1\] is empty", "input[1]"),
    (["   "], None, r"inputs\[0\] is empty", "input[0]"),
    ([[1, 2, 3]], None, "token ids are not accepted", "input[0]"),
    ([17], None, "token ids are not accepted", "input[0]"),
    (["a", None], None, r"inputs\[1\] must be a string, got NoneType", "input[1]"),
    (["bad \ud800 text"], None, "unpaired surrogate", "input[0]"),
    (["ok"], 0, "dimensions must be a whole number from 1 to 65536", "dimensions"),
    (["ok"], 65537, "dimensions must be", "dimensions"),
    (["ok"], True, "dimensions must be", "dimensions"),
    (["ok"], 1.5, "dimensions must be", "dimensions"),
    (["ok"], "8", "dimensions must be", "dimensions"),
])
async def test_bad_input_is_refused_before_any_io(registry: Registry, service: ModelService,
                                                  inputs: Any, dimensions: Any, says: str,
                                                  param: str) -> None:
    with pytest.raises(InvalidRequestError, match=says) as caught:
        await registry.embed("emb-1", inputs, dimensions=dimensions)
    assert caught.value.param == param
    assert service.listings == 0 and service.calls == []  # not even a discovery request


async def test_a_bad_timeout_is_refused_before_any_io(registry: Registry,
                                                      service: ModelService) -> None:
    with pytest.raises(InvalidRequestError, match="timeout must be"):
        await registry.embed("emb-1", "x", timeout=-1)
    with pytest.raises(InvalidRequestError, match="messages"):
        await registry.complete("m1", [{"role": "nobody", "content": "x"}])
    with pytest.raises(InvalidRequestError, match="timeout must be"):
        await registry.complete("m1", "hi", timeout=math.nan)
    assert service.listings == 0 and service.calls == []


async def test_a_chat_model_is_not_embedded(registry: Registry, service: ModelService) -> None:
    with pytest.raises(InvalidRequestError, match="'m1' is a chat model, not an embedding "
                                                  "model; embedding models: disc/emb-1, "
                                                  r"disc/emb-2\. Use registry.complete") as e:
        await registry.embed("m1", "x")
    assert e.value.param == "model"
    with pytest.raises(InvalidRequestError, match="'emb-1' is an embedding model: use "
                                                  r"registry.embed\(model, inputs\)"):
        await registry.complete("emb-1", "x")
    assert service.calls == []


def vectors(*rows: Any) -> Any:
    return lambda inputs: [{"index": index, "embedding": row} for index, row in rows]


@pytest.mark.parametrize(("reply", "says"), [
    (vectors((0, [1.0])), r"has 1 vectors for 2 inputs \(none for input 1\)"),
    (vectors((0, [1.0]), (0, [2.0])), "two vectors for input 0"),
    (vectors((0, [1.0]), (2, [2.0])), "a vector for input 2, of 2"),
    (vectors((0, [1.0]), (-1, [2.0])), "a vector for input -1, of 2"),
    (vectors((0, [1.0]), (True, [2.0])), "a vector for input True"),
    (vectors((0, [1.0]), (1, [math.nan])), "not all finite numbers"),
    (vectors((0, [1.0]), (1, [math.inf])), "not all finite numbers"),
    (vectors((0, [1.0]), (1, ["2.0"])), "not all finite numbers"),
    (vectors((0, [1.0]), (1, [True])), "not all finite numbers"),
    (vectors((0, [1.0]), (1, [10 ** 400])), "not all finite numbers"),
    (vectors((0, [1.0]), (1, [1e308, 1e308])), "differ in length"),  # finite, sum is not
    (vectors((0, [1.0]), (1, [])), "an empty vector for input 1"),
    (vectors((0, [1.0]), (1, [1.0, 2.0])), "vectors differ in length"),
])
async def test_a_reply_that_is_not_one_vector_per_input(registry: Registry,
                                                        service: ModelService, reply: Any,
                                                        says: str) -> None:
    service.vectors = reply
    with pytest.raises(ResponseFormatError, match=says) as caught:
        await registry.embed("emb-1", ["a", "b"])
    assert caught.value.provider == "disc"


async def test_fallback_between_two_embedding_providers(make_registry: RegistryFactory,
                                                        service: ModelService,
                                                        unused_tcp_port: int) -> None:
    down = f"http://127.0.0.1:{unused_tcp_port}/v1"
    both = [ModelSpec("emb-1", kind="embedding")]
    registry = make_registry([PassingProvider("a", static=both), PassingProvider("b", static=both)],
                             base_urls={"a": down, "b": service.url},
                             retry=RetryPolicy(attempts=1))
    found = await registry.embed("emb-1", ["xyz"])
    assert found.provider == "b" and found[0][0] == 3.0


async def test_an_embedding_call_times_out(registry: Registry, service: ModelService) -> None:
    service.embed_delay = 5
    with pytest.raises(ProviderTimeoutError):
        await registry.embed("emb-1", "x", timeout=0.3)


async def test_logprobs_reach_the_completion_and_the_chunks(registry: Registry,
                                                            service: ModelService) -> None:
    completion = await registry.complete("m1", "hi", logprobs=True)
    assert service.calls[-1]["logprobs"] is True
    assert completion.logprobs == (LOGPROB,)
    stream = await registry.complete("m1", "hi", stream=True, logprobs=True)
    chunks = [chunk async for chunk in stream]
    assert [chunk.logprobs for chunk in chunks if chunk.logprobs] == [(LOGPROB,), (LOGPROB,)]
    assert "".join(chunk.text for chunk in chunks) == "m1 says hi"
    assert stream.completion.logprobs == (LOGPROB, LOGPROB)  # type: ignore[union-attr]
    plain = await registry.complete("m1", "hi")
    assert plain.logprobs == ()
