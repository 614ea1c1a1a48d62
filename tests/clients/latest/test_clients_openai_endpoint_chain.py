"""The chain: the openai SDK → `jackfield serve` (A, whose provider is jackfield-openai) →
`jackfield serve` (B, whose providers are the seed plugins aichats and amigochat) → their
emulators. A discovers B's models from B's /v1/models and passes a pinned
`openai/<provider>/<model>` on to B as B's own pin; streaming goes through both servers.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from clientkit import openai_for
from endpointkit import EndpointServer

import jackfield_aichats
import jackfield_amigochat

QUESTION = "Which river runs through Porto?"
ASK = [{"role": "user", "content": QUESTION}]
AICHATS = f"Hello from the AiChats emulator. You said: {QUESTION}"


def amigochat(model: str) -> str:
    return f"Hello from the AmigoChat emulator ({model}). You said: {QUESTION}"


@pytest.fixture
def client(chained_server: EndpointServer) -> Iterator[openai.OpenAI]:
    with openai_for(chained_server) as made:
        yield made


def test_a_lists_the_models_of_bs_providers(client: openai.OpenAI) -> None:
    listed = {model.id: (model.model_extra or {})["kind"] for model in client.models.list()}
    seeds = [*jackfield_aichats.jackfield_provider().models,
             *jackfield_amigochat.jackfield_provider().models]
    assert listed == {model.id: model.kind for model in seeds}
    assert {model.owned_by for model in client.models.list()} == {"openai"}


@pytest.mark.parametrize(("model", "expected", "sent_as"), [
    ("gpt-4", AICHATS, "gpt-4"),
    ("claude-3-5-haiku-latest", amigochat("claude-3-5-haiku-latest"),
     "claude-3-5-haiku-latest"),
    # Pinned twice: to A's provider `openai`, then to B's provider, which A sends on.
    ("openai/aichats/gpt-4", AICHATS, "aichats/gpt-4"),
    ("openai/amigochat/mistralai/mistral-nemo", amigochat("mistralai/mistral-nemo"),
     "amigochat/mistralai/mistral-nemo"),
])
def test_chat_not_streamed(client: openai.OpenAI, chained_server: EndpointServer, model: str,
                           expected: str, sent_as: str) -> None:
    response = client.chat.completions.create(model=model, messages=ASK)  # type: ignore[arg-type]
    assert response.choices[0].message.content == expected
    assert response.choices[0].finish_reason == "stop"
    assert response.model == sent_as  # B's answer names what A asked it for
    assert chained_server.sent() == {"model": sent_as, "messages": ASK}
    # B's own usage reached the client through A, not an estimate of A's.
    assert response.usage is not None
    assert response.usage.model_extra == {"jackfield_estimated": False}


@pytest.mark.parametrize(("model", "expected"), [
    ("gpt-4", AICHATS),
    ("openai/amigochat/gpt-4o-mini", amigochat("gpt-4o-mini")),
])
def test_chat_streamed(client: openai.OpenAI, chained_server: EndpointServer, model: str,
                       expected: str) -> None:
    stream = client.chat.completions.create(model=model, messages=ASK,  # type: ignore[arg-type]
                                            stream=True, stream_options={"include_usage": True})
    with stream:
        chunks = list(stream)
    pieces = [choice.delta.content for chunk in chunks for choice in chunk.choices
              if choice.delta.content]
    assert len(pieces) > 3  # streamed through both servers piece by piece
    assert "".join(pieces) == expected
    assert [choice.finish_reason for chunk in chunks for choice in chunk.choices
            if choice.finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    sent = chained_server.sent()
    assert sent["stream"] is True and sent["messages"] == ASK


def test_a_model_b_does_not_have_is_not_found(client: openai.OpenAI,
                                              chained_server: EndpointServer) -> None:
    # A passes the pinned id through; B answers 404 model_not_found in OpenAI's shape, which
    # jackfield-openai turns back into "unknown model": 404 again at A.
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="openai/aichats/gpt-5-imaginary", messages=ASK)  # type: ignore[arg-type]
    assert "gpt-5-imaginary" in caught.value.message
    assert chained_server.sent()["model"] == "aichats/gpt-5-imaginary"
