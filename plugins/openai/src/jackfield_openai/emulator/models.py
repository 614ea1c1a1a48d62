"""The emulator's models: a list the tests may change while it runs, and `GET /v1/models`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import attrs
from aiohttp import web

from .validation import Refusal, check_auth, refusals

__all__ = ["DEFAULT_MODELS", "MODELS_KEY", "EmulatedModel", "ModelList", "list_models",
           "model_for"]

Family = Literal["chat", "embedding", "image"]


@attrs.frozen
class EmulatedModel:
    """One model the emulator serves: its id, what it does and, for embeddings, its size.

    A chat model whose id holds "reasoner" streams `reasoning_content` first (as DeepSeek and
    vLLM do), one whose id holds "thinking" streams `reasoning` (as OpenRouter and Ollama).
    `resizable` embedding models honour `dimensions`; others refuse it, as ada-002 does.
    """

    id: str
    family: Family = "chat"
    dimensions: int = 0
    resizable: bool = False
    owned_by: str = "openai"

    def to_dict(self) -> dict[str, object]:
        """Return OpenAI's model object."""
        return {"id": self.id, "object": "model", "created": 1_700_000_000,
                "owned_by": self.owned_by}


DEFAULT_MODELS: tuple[EmulatedModel, ...] = (
    EmulatedModel("gpt-4o-mini"),
    EmulatedModel("gpt-4o"),
    EmulatedModel("deepseek-reasoner", owned_by="deepseek"),
    EmulatedModel("qwen3-thinking", owned_by="qwen"),
    EmulatedModel("text-embedding-3-small", "embedding", 1536, resizable=True),
    EmulatedModel("text-embedding-ada-002", "embedding", 1536),
    EmulatedModel("dall-e-3", "image"),
    EmulatedModel("gpt-image-1", "image"),
    EmulatedModel("flux-schnell", "image", owned_by="black-forest-labs"),
)


class ModelList:
    """The models the emulator serves now: `add` one to "pull" it, `remove` one to drop it."""

    def __init__(self, models: Iterable[EmulatedModel | str]) -> None:
        self._models: dict[str, EmulatedModel] = {}
        for model in models:
            self.add(model)

    def add(self, model: EmulatedModel | str) -> EmulatedModel:
        """Serve model from now on (a bare id is a chat model); return it."""
        entry = EmulatedModel(model) if isinstance(model, str) else model
        self._models[entry.id] = entry
        return entry

    def remove(self, model_id: str) -> None:
        """Stop serving model_id (KeyError if it is not served)."""
        del self._models[model_id]

    def get(self, model_id: str) -> EmulatedModel | None:
        """Return the model with this id, or None."""
        return self._models.get(model_id)

    def ids(self) -> list[str]:
        """Return the ids served, in the order they were added."""
        return list(self._models)

    def __iter__(self) -> Iterator[EmulatedModel]:
        return iter(list(self._models.values()))


MODELS_KEY = web.AppKey("openai_emulator_models", ModelList)


def model_for(request: web.Request, model_id: str, family: Family) -> EmulatedModel:
    """Return the served model, 404 `model_not_found` if none, 400 if it does another job."""
    model = request.app[MODELS_KEY].get(model_id)
    if model is None:
        raise Refusal(404, f"The model `{model_id}` does not exist or you do not have access "
                           "to it.", code="model_not_found")
    if model.family != family:
        endpoint = {"chat": "v1/chat/completions", "embedding": "v1/embeddings",
                    "image": "v1/images/generations"}[family]
        raise Refusal(400, f"The model `{model_id}` is not supported by the {endpoint} "
                           "endpoint.", param="model", code="model_not_supported")
    return model


@refusals
async def list_models(request: web.Request) -> web.Response:
    """GET /v1/models: every model served, in OpenAI's list shape."""
    check_auth(request)
    return web.json_response({"object": "list",
                              "data": [m.to_dict() for m in request.app[MODELS_KEY]]})
