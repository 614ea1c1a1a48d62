"""The openai SDK → `jackfield serve` → jackfield-openai → its emulator: embeddings (the SDK's
default base64 and float, `dimensions`, the service's refusal), the models jackfield lists
(discovered from the emulator, one "pulled" after the server started) and pass-through.

The emulator's vectors are a hash of each text (embed_text in the plugin's emulator), so the
vectors a client gets back can only match if they went through for the right text.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import openai
import pytest
from clientkit import openai_for
from endpointkit import EndpointServer

from jackfield import DiscoveryPolicy
from jackfield_openai.emulator.embeddings import embed_text

TEXTS = ["The quick brown fox", "jumps over the lazy dog"]
EMBEDDER = "text-embedding-3-small"  # 1536 dimensions, honours `dimensions`


@pytest.fixture
def client(endpoint_server: EndpointServer) -> Iterator[openai.OpenAI]:
    with openai_for(endpoint_server) as made:
        yield made


def test_embeddings_in_the_sdks_default_base64(client: openai.OpenAI,
                                               endpoint_server: EndpointServer) -> None:
    # No encoding_format: the SDK asks for base64 and decodes it as little-endian float32s.
    reply = client.embeddings.create(model=EMBEDDER, input=TEXTS)
    assert [entry.index for entry in reply.data] == [0, 1]
    for entry, text in zip(reply.data, TEXTS, strict=True):
        # The emulator's values are float32-exact, and base64 carries float32s.
        assert entry.embedding == embed_text(text, 1536)
    assert math.isclose(sum(v * v for v in reply.data[0].embedding), 1.0, rel_tol=1e-5)
    assert reply.model == EMBEDDER
    words = sum(len(text.split()) for text in TEXTS)
    assert (reply.usage.prompt_tokens, reply.usage.total_tokens) == (words, words)
    [sent] = endpoint_server.sent_to("/v1/embeddings")
    assert sent["model"] == EMBEDDER and sent["input"] == TEXTS


def test_embeddings_as_floats_with_dimensions(client: openai.OpenAI,
                                              endpoint_server: EndpointServer) -> None:
    reply = client.embeddings.create(model=EMBEDDER, input=TEXTS[1], encoding_format="float",
                                     dimensions=12)
    [entry] = reply.data
    assert entry.embedding == embed_text(TEXTS[1], 12)
    [sent] = endpoint_server.sent_to("/v1/embeddings")
    assert sent["dimensions"] == 12 and sent["input"] == [TEXTS[1]]


def test_dimensions_refused_by_a_fixed_size_model(client: openai.OpenAI,
                                                  endpoint_server: EndpointServer) -> None:
    # text-embedding-ada-002 refuses `dimensions`, as OpenAI's does: the service's 400
    # reaches the client with its message and param.
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-ada-002", input=TEXTS, dimensions=8)
    assert "does not support specifying dimensions" in caught.value.message
    assert caught.value.param == "dimensions"
    assert len(endpoint_server.sent_to("/v1/embeddings")) == 1  # asked once, not retried


def test_models_are_the_emulators(client: openai.OpenAI,
                                  endpoint_server: EndpointServer) -> None:
    listed = {model.id: model for model in client.models.list()}
    assert sorted(listed) == sorted(endpoint_server.emulator_models.ids())
    assert {model.owned_by for model in listed.values()} == {"openai"}  # the provider
    kinds = {model_id: (model.model_extra or {})["kind"] for model_id, model in listed.items()}
    assert kinds[EMBEDDER] == "embedding" and kinds["dall-e-3"] == "image"
    assert kinds["gpt-4o"] == "chat"
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"


def test_a_model_pulled_after_the_server_started() -> None:
    # A short TTL, so that the next listing after it asks the emulator again (as a user's
    # server does every 300 s by default).
    ttl = 1.0
    with EndpointServer(discovery=DiscoveryPolicy(ttl=ttl)) as server, \
            openai_for(server) as client:
        before = [model.id for model in client.models.list()]
        assert "llama-pulled-3b" not in before and "gpt-4o" in before
        server.emulator_models.add("llama-pulled-3b")
        started = time.monotonic()
        # Within the TTL the list is the one jackfield has (no request per listing).
        cached = [model.id for model in client.models.list()]
        if time.monotonic() - started < ttl:
            assert cached == before
        time.sleep(ttl + 0.1)
        after = [model.id for model in client.models.list()]
        assert after == [*before, "llama-pulled-3b"]
        reply = client.chat.completions.create(model="llama-pulled-3b", messages=[
            {"role": "user", "content": "Are you new here?"}])
        assert reply.choices[0].message.content == (
            "Hello from the OpenAI emulator (llama-pulled-3b). You said: Are you new here?")
        assert client.models.retrieve("llama-pulled-3b").id == "llama-pulled-3b"


def test_a_pinned_id_passes_through_before_any_listing_has_it(
        client: openai.OpenAI, endpoint_server: EndpointServer) -> None:
    assert "qwen-fresh-7b" not in [model.id for model in client.models.list()]
    endpoint_server.emulator_models.add("qwen-fresh-7b")
    # Pinned to the provider, the id is sent as is although jackfield's list lacks it.
    reply = client.chat.completions.create(model="openai/qwen-fresh-7b", messages=[
        {"role": "user", "content": "Hello?"}])
    assert reply.choices[0].message.content == (
        "Hello from the OpenAI emulator (qwen-fresh-7b). You said: Hello?")
    assert endpoint_server.sent()["model"] == "qwen-fresh-7b"
    retrieved = client.models.retrieve("openai/qwen-fresh-7b")
    assert retrieved.id == "qwen-fresh-7b"
