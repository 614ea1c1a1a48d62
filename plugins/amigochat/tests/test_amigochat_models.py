"""The model table and the provider spec against shared/protocols/amigochat.md."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import jackfield_amigochat
from jackfield.provider import SAMPLING, Capabilities, ProviderSpec
from jackfield_amigochat.models import (
    ALIASES,
    CHAT_MODELS,
    DEFAULT_MODEL,
    IMAGE_MODELS,
    MODELS,
    model_by_id,
    persona_of,
)

UNAVAILABLE = {
    "o1-preview-", "o1-preview-2024-09-12-", "o1-mini-", "gemini-1.5-pro", "google/gemma-7b",
    "zero-one-ai/Yi-34B", "flux-pro/v1.1", "flux-pro", "flux-pro/v1.1-ultra",
    "flux-pro/v1.1-ultra-raw",
}


def test_counts() -> None:
    assert len(CHAT_MODELS) == 29
    assert len(IMAGE_MODELS) == 8
    assert len(ALIASES) == 21
    assert len({m.id for m in MODELS}) == 37
    assert all(m.kind == "chat" for m in CHAT_MODELS)
    assert all(m.kind == "image" for m in IMAGE_MODELS)


@pytest.mark.parametrize(("alias", "model_id", "persona"), [
    ("gpt-4o", "gpt-4o-2024-11-20", "gpt"),
    ("gpt-4o-mini", "gpt-4o-mini", "amigo"),
    ("claude-3.5-sonnet", "claude-3-5-sonnet-20241022", "clude-claude-3-5-sonnet-20241022"),
    ("flux-dev", "flux/dev", "flux-dev"),
    ("mixtral-7b", "mistralai/Mistral-7B-Instruct-v0.3", "mistralai-Mistral-7B-Instruct-v0.1"),
    ("gemini-flash", "gemini-1.5-flash", "gemini-1.5-flash"),
    ("jamba-mini", "ai21/jamba-1-5-mini", "ai21-jamba-1-5-mini"),
])
def test_aliases_resolve_to_ids_and_personas(alias: str, model_id: str, persona: str) -> None:
    assert ALIASES[alias] == model_id
    assert persona_of(model_id) == persona


@pytest.mark.parametrize(("model_id", "persona"), [
    ("gpt-4o", "summarizer"),
    ("claude-3-5-sonnet-20240620", "claude"),
    ("claude-3-5-haiku-latest", "3-5-haiku"),
    ("meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", "llama-three-point-one"),
    ("o1-preview-2024-09-12-", "orion"),
    ("dall-e-3", "dalle-three"),
    ("recraft-v3", "recraft"),
    ("flux-pro/v1.1", "flux-1-1-pro"),
])
def test_personas(model_id: str, persona: str) -> None:
    assert persona_of(model_id) == persona


def test_o1_ids_end_with_a_dash() -> None:
    o1 = [m.id for m in CHAT_MODELS if m.id.startswith("o1")]
    assert o1 == ["o1-preview-", "o1-preview-2024-09-12-", "o1-mini-"]


def test_unavailable_flags() -> None:
    assert {m.id for m in MODELS if not m.available} == UNAVAILABLE


def test_every_alias_targets_an_available_model_of_the_table() -> None:
    for target in ALIASES.values():
        spec = model_by_id(target)
        assert spec is not None and spec.available


def test_provider_spec() -> None:
    spec = jackfield_amigochat.jackfield_provider()
    assert isinstance(spec, ProviderSpec)
    assert (spec.name, spec.base_url, spec.default_model) == (
        "amigochat", "https://api.amigochat.io", DEFAULT_MODEL)
    assert spec.models == MODELS
    assert dict(spec.aliases) == dict(ALIASES)
    # The sampling parameters are complete()'s own now: no options of its own are left.
    assert dict(spec.options) == {}
    assert spec.settings["token"].secret
    assert "JACKFIELD_AMIGOCHAT_TOKEN" in spec.auth_hint
    assert spec.aliases_of("gpt-4o-2024-11-20") == ("gpt-4o",)


def test_chat_models_declare_text_only_with_the_five_sampling_parameters() -> None:
    for model in CHAT_MODELS:
        capabilities = model.capabilities
        assert capabilities.sampling == frozenset(SAMPLING), model.id
        assert not any(capabilities.has(name) for name in (
            "tools", "image_input", "json_object", "json_schema", "stop", "seed", "reasoning",
            "logprobs")), model.id
    # Image models take a prompt; chat parameters are refused for them whatever they declare.
    assert all(model.capabilities == Capabilities() for model in IMAGE_MODELS)


def test_listing_models_does_not_import_the_http_stack() -> None:
    code = (
        "import json, sys, jackfield_amigochat as p; spec = p.jackfield_provider(); "
        "print(json.dumps([len(spec.models), 'aiohttp' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert json.loads(out.stdout) == [37, False]
