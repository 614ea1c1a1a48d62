"""GET /v1/models and /v1/models/{model}: what the providers serve now, route groups included.

Each listing first asks the services whose list is older than the discovery TTL, so models
pulled after the server started appear (within the TTL; a service that does not answer
leaves its last list, and the reply's `jackfield_warnings` says so). Route groups are
models of their own, owned by "jackfield-route", so front ends that pick from the list can
choose them.
"""

from __future__ import annotations

from typing import Any

from jackfield._engine.registry import Registry
from jackfield._server.chat_shapes import warning_list
from jackfield._types.notices import CallWarning
from jackfield._types.specs import ModelInfo

__all__ = ["ROUTE_OWNER", "model_listing", "model_lookup", "model_object"]

ROUTE_OWNER = "jackfield-route"


def model_object(model: ModelInfo) -> dict[str, Any]:
    """Return an OpenAI model object, plus jackfield's provider, kind, aliases, availability
    and capabilities (and, for a route group, its members)."""
    result = {"id": model.id, "object": "model", "created": 0,
              "owned_by": model.provider or ROUTE_OWNER, "provider": model.provider,
              "qualified_id": model.qualified_id, "kind": model.kind,
              "aliases": list(model.aliases), "available": model.available,
              "default": model.default, "capabilities": model.capabilities.to_dict()}
    if not model.provider:
        result["members"] = list(model.members)
    return result


def _warnings(registry: Registry) -> list[dict[str, str]]:
    return warning_list(CallWarning(provider, text)
                        for provider, text in sorted(registry.discovery_warnings().items()))


async def model_listing(registry: Registry) -> dict[str, Any]:
    """Return the list reply, after refreshing the lists due for it."""
    models = await registry.refresh_models(stale_only=True, include_routes=True)
    return {"object": "list", "data": [model_object(m) for m in models],
            "jackfield_warnings": _warnings(registry)}


async def model_lookup(registry: Registry, name: str) -> dict[str, Any]:
    """Return the model a name means: a route group, a listed model, or an unlisted id
    pinned to a pass-through provider (marked "pass_through"); 404 for none."""
    models = await registry.refresh_models(stale_only=True, include_routes=True)
    for model in models:
        if not model.provider and model.id == name:
            return model_object(model)
    candidate = registry.resolve(name)[0]  # UnknownModelError: a 404
    provider, model_id = candidate.provider.name, candidate.model.id
    for model in models:
        if model.provider == provider and model.id == model_id:
            return model_object(model)
    unlisted = ModelInfo(model_id, provider, candidate.model.kind,
                         capabilities=candidate.model.capabilities)
    return model_object(unlisted) | {"pass_through": True}
