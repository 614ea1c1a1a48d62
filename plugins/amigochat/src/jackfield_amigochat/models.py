"""AmigoChat's model table: ids, personaIds, availability and aliases (the one source of truth).

The plugin and its emulator both read this table, so a change here changes both sides at once.
Kept free of aiohttp so that listing models never loads the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from jackfield.provider import SAMPLING, Capabilities, ModelSpec

__all__ = [
    "ALIASES", "CHAT_MODELS", "DEFAULT_MODEL", "IMAGE_MODELS", "MODELS",
    "model_by_id", "persona_of",
]

DEFAULT_MODEL = "gpt-4o-mini"

# (model id, personaId, available). Unavailable rows failed upstream with "balance is not
# enough" or "Error handling AIML chat completion stream"; they are listed but not routed to
# unless pinned. The three o1 ids really end in "-" upstream.
_CHAT_ROWS: tuple[tuple[str, str, bool], ...] = (
    ("gpt-4o-2024-11-20", "gpt", True),
    ("gpt-4o", "summarizer", True),
    ("gpt-4o-mini", "amigo", True),
    ("o1-preview-", "openai-o-one", False),
    ("o1-preview-2024-09-12-", "orion", False),
    ("o1-mini-", "openai-o-one-mini", False),
    ("meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", "llama-three-point-one", True),
    ("meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo", "llama-3-2", True),
    ("codellama/CodeLlama-34b-Instruct-hf", "codellama-CodeLlama-34b-Instruct-hf", True),
    ("gemini-1.5-pro", "gemini-1-5-pro", False),
    ("gemini-1.5-flash", "gemini-1.5-flash", True),
    ("claude-3-5-sonnet-20240620", "claude", True),
    ("claude-3-5-sonnet-20241022", "clude-claude-3-5-sonnet-20241022", True),
    ("claude-3-5-haiku-latest", "3-5-haiku", True),
    ("Qwen/Qwen2.5-72B-Instruct-Turbo", "qwen-2-5", True),
    ("google/gemma-2b-it", "google-gemma-2b-it", True),
    ("google/gemma-7b", "google-gemma-7b", False),
    ("Gryphe/MythoMax-L2-13b", "Gryphe-MythoMax-L2-13b", True),
    # The personaId really says v0.1 for the v0.3 model upstream.
    ("mistralai/Mistral-7B-Instruct-v0.3", "mistralai-Mistral-7B-Instruct-v0.1", True),
    ("mistralai/mistral-tiny", "mistralai-mistral-tiny", True),
    ("mistralai/mistral-nemo", "mistralai-mistral-nemo", True),
    ("deepseek-ai/deepseek-llm-67b-chat", "deepseek-ai-deepseek-llm-67b-chat", True),
    ("databricks/dbrx-instruct", "databricks-dbrx-instruct", True),
    ("NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", "NousResearch-Nous-Hermes-2-Mixtral-8x7B-DPO",
     True),
    ("x-ai/grok-beta", "x-ai-grok-beta", True),
    ("anthracite-org/magnum-v4-72b", "anthracite-org-magnum-v4-72b", True),
    ("cohere/command-r-plus", "cohere-command-r-plus", True),
    ("ai21/jamba-1-5-mini", "ai21-jamba-1-5-mini", True),
    ("zero-one-ai/Yi-34B", "zero-one-ai-Yi-34B", False),
)

_IMAGE_ROWS: tuple[tuple[str, str, bool], ...] = (
    ("flux-pro/v1.1", "flux-1-1-pro", False),
    ("flux-realism", "flux-realism", True),
    ("flux-pro", "flux-pro", False),
    ("flux-pro/v1.1-ultra", "flux-pro-v1.1-ultra", False),
    ("flux-pro/v1.1-ultra-raw", "flux-pro-v1.1-ultra-raw", False),
    ("flux/dev", "flux-dev", True),
    ("dall-e-3", "dalle-three", True),
    ("recraft-v3", "recraft", True),
)

# What the web client offered: text in and out, with the five sampling parameters it sent.
# No tools, image input, JSON modes, stop or seed (the core refuses, emulates or reports
# those).
CHAT_CAPABILITIES = Capabilities(sampling=SAMPLING)

CHAT_MODELS: tuple[ModelSpec, ...] = tuple(
    ModelSpec(model_id, "chat", available=ok, extra={"persona_id": persona},
              capabilities=CHAT_CAPABILITIES)
    for model_id, persona, ok in _CHAT_ROWS
)
IMAGE_MODELS: tuple[ModelSpec, ...] = tuple(
    ModelSpec(model_id, "image", available=ok, extra={"persona_id": persona})
    for model_id, persona, ok in _IMAGE_ROWS
)
MODELS: tuple[ModelSpec, ...] = CHAT_MODELS + IMAGE_MODELS

# alias -> model id. Aliases are resolved before ids, so "gpt-4o" (also an id, persona
# "summarizer") is sent as gpt-4o-2024-11-20 / "gpt". Upstream listed claude-3.5-sonnet twice;
# its later entry (20241022) won, and that is the one kept.
ALIASES: Mapping[str, str] = MappingProxyType({
    "gpt-4o": "gpt-4o-2024-11-20",
    "gpt-4o-mini": "gpt-4o-mini",
    "llama-3.1-405b": "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
    "llama-3.2-90b": "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo",
    "codellama-34b": "codellama/CodeLlama-34b-Instruct-hf",
    "gemini-flash": "gemini-1.5-flash",
    "claude-3.5-sonnet": "claude-3-5-sonnet-20241022",
    "claude-3.5-haiku": "claude-3-5-haiku-latest",
    "qwen-2.5-72b": "Qwen/Qwen2.5-72B-Instruct-Turbo",
    "gemma-2b": "google/gemma-2b-it",
    "mythomax-13b": "Gryphe/MythoMax-L2-13b",
    "mixtral-7b": "mistralai/Mistral-7B-Instruct-v0.3",
    "mistral-nemo": "mistralai/mistral-nemo",
    "deepseek-chat": "deepseek-ai/deepseek-llm-67b-chat",
    "dbrx-instruct": "databricks/dbrx-instruct",
    "mixtral-8x7b-dpo": "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
    "grok-beta": "x-ai/grok-beta",
    "magnum-72b": "anthracite-org/magnum-v4-72b",
    "command-r-plus": "cohere/command-r-plus",
    "jamba-mini": "ai21/jamba-1-5-mini",
    "flux-dev": "flux/dev",
})

_BY_ID: Mapping[str, ModelSpec] = MappingProxyType({spec.id: spec for spec in MODELS})


def persona_of(model_id: str) -> str:
    """Return the personaId sent with a model id (KeyError for an id not in the table)."""
    persona: str = _BY_ID[model_id].extra["persona_id"]
    return persona


def model_by_id(model_id: str) -> ModelSpec | None:
    """Return the model with this wire id, or None (aliases are not looked at)."""
    return _BY_ID.get(model_id)
