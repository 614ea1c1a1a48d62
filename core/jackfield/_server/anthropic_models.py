"""GET /v1/models and /v1/models/{model} in Anthropic's shapes, for a request that carries
the `anthropic-version` header (Anthropic's SDK always sends it; Claude Code lists models
with it): `{"data": [{"type": "model", "id", "display_name", "created_at"}], "has_more",
"first_id", "last_id"}`, paged by `limit`, `after_id` and `before_id` as Anthropic pages.

Only chat models are listed (the Messages API serves nothing else). An id that two
providers share is listed as its qualified "provider/model" id, so that every id in the
list is one model and paging by id cannot repeat a page. `created_at` is the Unix epoch:
providers do not say when a model came out, and Anthropic's clients read the field as a
date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from jackfield._engine.registry import Registry
from jackfield._errors import InvalidRequestError, JackfieldError
from jackfield._server.anthropic_replies import ANTHROPIC_ERRORS
from jackfield._server.errors import classify
from jackfield._server.model_list import model_lookup

__all__ = ["VERSION_HEADER", "anthropic_listing", "anthropic_lookup", "anthropic_models",
           "wants_anthropic"]

VERSION_HEADER = "anthropic-version"
EPOCH = "1970-01-01T00:00:00Z"
_DEFAULT_LIMIT, _MAX_LIMIT = 20, 1000  # Anthropic's own


def wants_anthropic(request: web.Request) -> bool:
    """Return True if the request is Anthropic's (it names an Anthropic API version)."""
    return VERSION_HEADER in request.headers


def _model(model_id: str, qualified_id: str, provider: str | None) -> dict[str, Any]:
    return {"type": "model", "id": model_id, "display_name": model_id, "created_at": EPOCH,
            "lifecycle": "active", "provider": provider, "qualified_id": qualified_id}


def _limit(query: Mapping[str, str]) -> int:
    text = query.get("limit")
    if text is None:
        return _DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= _MAX_LIMIT:
        raise InvalidRequestError(f"limit must be a whole number from 1 to {_MAX_LIMIT}, got "
                                  f"{text!r}.", param="limit")
    return int(text)


def _position(ids: list[str], query: Mapping[str, str], name: str) -> int | None:
    wanted = query.get(name)
    if wanted is None:
        return None
    if wanted not in ids:
        raise InvalidRequestError(f"{name} {wanted!r} is not a model of this list.", param=name)
    return ids.index(wanted)


async def anthropic_listing(registry: Registry, query: Mapping[str, str]) -> dict[str, Any]:
    """Return one page of the chat models, after refreshing the lists due for it."""
    models = [model for model in await registry.refresh_models(stale_only=True,
                                                               include_routes=True)
              if model.kind == "chat"]
    shared = Counter(model.id for model in models)
    entries = [_model(model.id if shared[model.id] == 1 else model.qualified_id,
                      model.qualified_id, model.provider or None) for model in models]
    ids = [entry["id"] for entry in entries]
    limit = _limit(query)
    after, before = _position(ids, query, "after_id"), _position(ids, query, "before_id")
    if after is not None and before is not None:
        raise InvalidRequestError("Send after_id or before_id, not both.", param="before_id")
    if before is not None:
        page = entries[max(0, before - limit):before]
        more = before - limit > 0
    else:
        start = 0 if after is None else after + 1
        page = entries[start:start + limit]
        more = start + limit < len(entries)
    return {"data": page, "has_more": more,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None}


async def anthropic_lookup(registry: Registry, name: str) -> dict[str, Any]:
    """Return the model a name means, in Anthropic's shape (404 for none)."""
    found = await model_lookup(registry, name)
    return _model(name, found["qualified_id"], found["provider"])


async def anthropic_models(registry: Registry, query: Mapping[str, str],
                           name: str | None = None) -> web.Response:
    """Return the list (name None) or the model, or the error, in Anthropic's shapes: the
    route is OpenAI's, so its errors would otherwise be OpenAI's."""
    try:
        found = (await anthropic_listing(registry, query) if name is None
                 else await anthropic_lookup(registry, name))
    except JackfieldError as error:
        return ANTHROPIC_ERRORS.response(classify(error))
    return web.json_response(found)
