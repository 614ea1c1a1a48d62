"""The test kit for the discovery, error-reply and embedding hooks: make_embedding_request,
make_error_reply and ProviderHarness.discover()/events(), as a plugin author uses them."""

from __future__ import annotations

import asyncio

import pytest

from discovering import DiscoveringProvider, PassingProvider, started
from jackfield import (
    AuthenticationError,
    InvalidRequestError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    UnknownModelError,
)
from jackfield.provider import Capabilities, EmbeddingRequest, ModelSpec, Usage, Vector
from jackfield.testing import (
    ProviderHarness,
    ServeApp,
    make_config,
    make_embedding_request,
    make_error_reply,
)

SPEC = DiscoveringProvider(static=[ModelSpec("chat-1"), ModelSpec("emb-a", kind="embedding"),
                                   ModelSpec("emb-b", kind="embedding")]).jackfield_provider()


def test_make_embedding_request() -> None:
    request = make_embedding_request(SPEC, ["one", "two"], dimensions=8)
    assert isinstance(request, EmbeddingRequest)
    assert (request.provider, request.model.id, request.inputs, request.dimensions) == (
        "disc", "emb-a", ("one", "two"), 8)
    assert make_embedding_request(SPEC, "solo", model="emb-b").inputs == ("solo",)
    unlisted = make_embedding_request(SPEC, "x", model="emb-new")  # SPEC passes through
    assert (unlisted.model.kind, unlisted.model.capabilities) == ("embedding",
                                                                  Capabilities.unknown())


def test_make_embedding_request_checks_as_embed_does() -> None:
    with pytest.raises(InvalidRequestError, match="empty"):
        make_embedding_request(SPEC, [""])
    with pytest.raises(InvalidRequestError, match="dimensions"):
        make_embedding_request(SPEC, "x", dimensions=0)
    with pytest.raises(InvalidRequestError, match="chat model, not an embedding model"):
        make_embedding_request(SPEC, "x", model="chat-1")
    with pytest.raises(InvalidRequestError, match="does not accept the option"):
        make_embedding_request(SPEC, "x", colour="blue")
    plain = PassingProvider(pass_through=False, static=[ModelSpec("c")]).jackfield_provider()
    with pytest.raises(ValueError, match="lists no embedding model"):
        make_embedding_request(plain, "x")
    with pytest.raises(ValueError, match="does not pass unlisted ids through"):
        make_embedding_request(plain, "x", model="nope")


def test_make_error_reply_feeds_an_error_hook() -> None:
    plugin = PassingProvider()
    reply = make_error_reply(SPEC, 404, {"error": {"message": "model 'x' not found"}},
                             model="x")
    assert reply.error_object() == {"message": "model 'x' not found"}
    assert reply.headers["Content-Type"] == "application/json" and reply.model == "x"
    error = plugin.jackfield_error_reply(request=None, reply=reply)
    assert isinstance(error, UnknownModelError) and "model 'x' not found" in str(error)
    refused = make_error_reply("disc", 400, '{"error": {"message": "too long", "param": "m"}}')
    answer = plugin.jackfield_error_reply(request=None, reply=refused)
    assert isinstance(answer, InvalidRequestError) and answer.param == "m"
    limited = make_error_reply("disc", 429, b"slow down", headers={"Retry-After": "3"})
    assert isinstance(limited.default, RateLimitError) and limited.default.retry_after == 3
    assert plugin.jackfield_error_reply(request=None, reply=limited) is None
    assert isinstance(make_error_reply("disc", 401).default, AuthenticationError)
    assert limited.text == "slow down" and limited.json() is None


async def test_the_harness_runs_discovery_and_embeddings(serve_app: ServeApp,
                                                         provider_harness: ProviderHarness
                                                         ) -> None:
    service = await started(serve_app, ["m1", "emb-a"])
    plugin = DiscoveringProvider()
    spec = plugin.jackfield_provider()
    config = make_config(spec, base_url=service.url, api_key="harness-key")
    found = await provider_harness.discover(plugin, spec, config)
    assert [(m.id, m.kind) for m in found or ()] == [("m1", "chat"), ("emb-a", "embedding")]
    assert service.headers[-1]["Authorization"] == "Bearer harness-key"
    events = await provider_harness.events(plugin, make_embedding_request(spec, ["ab"],
                                                                          model="emb-a"), config)
    assert events == [Vector(0, (2.0, 0.5, 0.5)), Usage(prompt_tokens=1, total_tokens=1)]
    with pytest.raises(UnknownModelError, match="try pulling it first"):  # the error hook
        await provider_harness.events(plugin, make_embedding_request(spec, "x", model="e-9"),
                                      config)
    service.listing = "500"
    with pytest.raises(ProviderUnavailableError, match="listing is broken today"):
        await provider_harness.discover(plugin, spec, config)
    service.listing, service.delay = "slow", 5
    with pytest.raises(ProviderTimeoutError, match=r"0\.2 s"):
        await provider_harness.discover(plugin, spec, config, timeout=0.2)

    async def hangs(_config: object) -> None:
        await asyncio.sleep(5)  # the hook's own wait, which no transport timeout bounds

    plugin.on_discover = hangs
    with pytest.raises(ProviderTimeoutError, match=r"discovery timeout of 0\.2 s"):
        await provider_harness.discover(plugin, spec, config, timeout=0.2)


@pytest.mark.parametrize(("body", "found"), [
    ({"error": {"message": "m", "type": "t", "param": "p", "code": "c"}},
     {"message": "m", "type": "t", "param": "p", "code": "c"}),
    ({"error": "model 'x' not found"}, {"message": "model 'x' not found"}),
    ({"detail": "Not Found"}, {"message": "Not Found"}),
    ({"message": "bad input"}, {"message": "bad input"}),
    ({"error": ["a list"]}, {}),
    ({"detail": [{"loc": ["body"], "msg": "field required"}]}, {}),
    ("[1, 2]", {}),
    ("<html>502 Bad Gateway</html>", {}),
    (b"\xff\xfe not utf-8", {}),
])
def test_error_object_reads_the_common_shapes(body: object, found: object) -> None:
    assert make_error_reply("disc", 400, body).error_object() == found  # type: ignore[arg-type]
