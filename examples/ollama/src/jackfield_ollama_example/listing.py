"""Model discovery: which models the Ollama server has pulled, and what each can do.

`GET /api/tags` names them; `POST /api/show` says what each can do (its `capabilities`:
"completion", "embedding", "tools", "vision", "thinking"). A server too old to say keeps the
model's tools, images and thinking unknown, so the server decides per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from jackfield.provider import (
    SAMPLING,
    Capabilities,
    HttpRequest,
    ModelSpec,
    ProviderConfig,
    ProviderSpec,
    ProviderTransport,
    ResponseFormatError,
)

from . import NATIVE


async def discover(provider: ProviderSpec, config: ProviderConfig, transport: ProviderTransport,
                   headers: Mapping[str, str]) -> list[ModelSpec]:
    """Return every model the server lists, with what `/api/show` says it can do."""
    tags = await transport.fetch_json(HttpRequest("GET", config.url("/api/tags"),
                                                  headers=headers))
    names = _model_names(provider.name, tags)
    # One /api/show per model, side by side: the core's discovery timeout covers them all.
    # Every request ends before a failure is raised, so none is left running behind it.
    shown = await asyncio.gather(*(
        transport.fetch_json(HttpRequest("POST", config.url("/api/show"), headers=headers,
                                         json={"model": name}))
        for name in names), return_exceptions=True)
    failed = next((error for error in shown if isinstance(error, BaseException)), None)
    if failed is not None:
        raise failed
    return [model_spec(name, details) for name, details in zip(names, shown, strict=True)]


def _model_names(provider: str, tags: Any) -> list[str]:
    """Return the names of a `{"models": [{"name": ...}, ...]}` reply, refusing any other."""
    models = tags.get("models") if isinstance(tags, dict) else None
    if not isinstance(models, list):
        raise ResponseFormatError(provider, '/api/tags did not answer {"models": [...]}')
    names = []
    for entry in models:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise ResponseFormatError(provider, "/api/tags lists a model without a name")
        names.append(name)
    return names


def model_spec(name: str, shown: Any) -> ModelSpec:
    """Return the ModelSpec of one model from its `/api/show` reply."""
    said = shown.get("capabilities") if isinstance(shown, dict) else None
    if not isinstance(said, list):
        return ModelSpec(name, capabilities=NATIVE)  # an older server: the call decides
    if "embedding" in said and "completion" not in said:
        return ModelSpec(name, kind="embedding")
    return ModelSpec(name, capabilities=Capabilities(
        tools="tools" in said, image_input="vision" in said, reasoning="thinking" in said,
        json_object=True, json_schema=True, stop=True, seed=True, sampling=SAMPLING))

