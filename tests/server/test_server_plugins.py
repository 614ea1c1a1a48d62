"""The server end to end over the real plugins and their emulators, with the openai client."""

from __future__ import annotations

import base64

import openai
import pytest


async def test_models_of_both_providers(seed_api: openai.AsyncOpenAI) -> None:
    models = [m.to_dict() for m in (await seed_api.models.list()).data]
    owners = {m["owned_by"] for m in models}
    assert owners == {"aichats", "amigochat"}
    assert {"id": "dalle", "kind": "image"}.items() <= next(
        m for m in models if m["id"] == "dalle").items()
    assert len(models) > 30


async def test_aichats_chat_streamed(seed_api: openai.AsyncOpenAI) -> None:
    stream = await seed_api.chat.completions.create(
        model="aichats/gpt-4", messages=[{"role": "user", "content": "hello there"}],
        stream=True)
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith("You said: hello there")
    assert len(chunks) > 5


async def test_aichats_refuses_options_it_does_not_take(seed_api: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="aichats does not accept") as caught:
        await seed_api.chat.completions.create(
            model="aichats/gpt-4", messages=[{"role": "user", "content": "hi"}],
            extra_body={"creativity": 0.3})
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "creativity"


async def test_amigochat_chat_with_options_and_usage(seed_api: openai.AsyncOpenAI) -> None:
    reply = await seed_api.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], temperature=0.3,
        max_completion_tokens=50)
    assert reply.model == "gpt-4o-2024-11-20"  # the alias resolved by AmigoChat
    assert reply.choices[0].message.content
    assert reply.usage is not None and reply.usage.total_tokens > 0
    stream = await seed_api.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


@pytest.mark.parametrize("model", ["dalle", "flux-realism"])
async def test_images_from_both_providers(seed_api: openai.AsyncOpenAI, model: str) -> None:
    encoded = await seed_api.images.generate(model=model, prompt="a lighthouse",
                                        response_format="b64_json")
    assert encoded.data is not None
    assert base64.b64decode(encoded.data[0].b64_json or "").startswith(b"\x89PNG")
    linked = await seed_api.images.generate(model=model, prompt="a lighthouse", n=2)
    assert linked.data is not None and len(linked.data) == 2
    assert all((d.url or "").startswith("http://127.0.0.1:") for d in linked.data)
