"""The seed providers with prompted tools: AmigoChat and AiChats have no native tool calling,
so the tools travel in the prompt; their emulators echo, and an echo is a plain answer."""

from __future__ import annotations

import pytest
from scripted import TOOLS, ask

import jackfield_aichats
import jackfield_amigochat
from jackfield import CapabilityError
from jackfield.testing import STATS_KEY, RegistryFactory, ServeApp
from jackfield_aichats.emulator import create_app as aichats_app
from jackfield_amigochat.emulator import create_app as amigochat_app

QUESTION = "What is the weather in Paris?"


async def test_amigochat_sends_the_tools_in_the_prompt(
        serve_app: ServeApp, make_registry: RegistryFactory, stream: bool) -> None:
    app = amigochat_app()
    url = await serve_app(app)
    registry = make_registry([jackfield_amigochat], base_urls={"amigochat": url},
                             prompted={"tools"})
    completion = await ask(registry, stream, QUESTION, model="amigochat", tools=TOOLS)
    assert completion.text.startswith("Hello from the AmigoChat emulator")
    assert completion.text.endswith(f"You said: {QUESTION}")
    assert completion.tool_calls == ()
    assert completion.finish_reason == "stop"
    assert completion.emulated == ("tools",)
    sent = app[STATS_KEY].last_json["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    assert "### get_weather\nCurrent weather in a city." in sent[0]["content"]
    assert "<tool_call>" in sent[0]["content"]


async def test_aichats_sends_the_tools_in_its_single_prompt(
        serve_app: ServeApp, make_registry: RegistryFactory, stream: bool) -> None:
    app = aichats_app()
    url = await serve_app(app)
    registry = make_registry([jackfield_aichats], base_urls={"aichats": url},
                             config={"aichats": {"cookie": "session=made-up"}}, prompted=True)
    completion = await ask(registry, stream, QUESTION, model="aichats/gpt-4", tools=TOOLS)
    # The echo repeats the whole prompt, the format's template included: still no call.
    assert completion.text.startswith("Hello from the AiChats emulator. You said: System: "
                                      "You can call the following tools")
    assert completion.text.endswith(f"User: {QUESTION} Assistant:")
    assert completion.tool_calls == ()
    assert completion.emulated == ("tools",)
    [entry] = app[STATS_KEY].last_json["messagesHistory"]
    assert "### get_time\nThe time in a zone" in entry["content"]
    assert entry["content"].endswith(f"User: {QUESTION}\nAssistant:")


async def test_without_prompted_the_seed_providers_refuse_tools(
        make_registry: RegistryFactory) -> None:
    registry = make_registry([jackfield_amigochat, jackfield_aichats],
                             config={"aichats": {"cookie": "session=made-up"}})
    for model in ("amigochat", "aichats/gpt-4"):
        with pytest.raises(CapabilityError, match="prompted="):
            await registry.complete(model, QUESTION, tools=TOOLS)
