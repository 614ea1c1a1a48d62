"""Embeddings through `registry.embed()`: one request, one Vector per input, usage."""

from __future__ import annotations

import math

import pytest
from ollama_helpers import start

from jackfield import InvalidRequestError, UnknownModelError
from jackfield.testing import RegistryFactory, ServeApp


async def test_embed_returns_a_vector_per_input(serve_app: ServeApp,
                                                make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    vectors = await ollama.registry.embed("nomic-embed-text:latest", ["one", "two words"])
    assert len(vectors) == 2 and vectors.provider == "ollama"
    assert all(len(vector) == 8 for vector in vectors)
    assert math.isclose(sum(v * v for v in vectors[0]), 1.0, rel_tol=1e-4)
    assert vectors[0] != vectors[1]
    assert vectors.usage is not None and vectors.usage.prompt_tokens == 3
    assert ollama.stats.last_json == {"model": "nomic-embed-text:latest",
                                      "input": ["one", "two words"]}
    again = await ollama.registry.embed("ollama/nomic-embed-text:latest", "one")
    assert again[0] == vectors[0]  # the emulator is deterministic


async def test_dimensions_and_the_embedding_options_are_sent(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    vectors = await ollama.registry.embed("nomic-embed-text:latest", "x", dimensions=4,
                                          truncate=True, keep_alive="1m")
    assert len(vectors[0]) == 4
    assert ollama.stats.last_json == {"model": "nomic-embed-text:latest", "input": ["x"],
                                      "dimensions": 4, "truncate": True, "keep_alive": "1m"}
    with pytest.raises(InvalidRequestError, match="num_ctx"):
        await ollama.registry.embed("nomic-embed-text:latest", "x", num_ctx=10)  # chat's


async def test_a_chat_model_is_no_embedding_model(serve_app: ServeApp,
                                                  make_registry: RegistryFactory) -> None:
    ollama = await start(serve_app, make_registry)
    with pytest.raises(InvalidRequestError, match="not an embedding model"):
        await ollama.registry.embed("llama3.2:3b", "x")
    assert ollama.stats.by_path.get("/api/embed") is None  # refused before any I/O
    with pytest.raises(UnknownModelError, match="try pulling it first"):
        await ollama.registry.embed("ollama/all-minilm:latest", "x")
