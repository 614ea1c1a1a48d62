"""The emulator's models: a list the tests may change while it runs, `GET /v1/models` (paged
with `limit`, `after_id` and `before_id`, as the API pages it) and `GET /v1/models/{id}`."""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs
from aiohttp import web

from .refusals import Refusal, check_headers, refusals

__all__ = ["DEFAULT_MODELS", "MODELS_KEY", "PAGE_KEY", "EmulatedModel", "ModelList", "get_model",
           "list_models", "model_for"]


@attrs.frozen
class EmulatedModel:
    """One model the emulator serves: its id, its largest max_tokens, whether it thinks
    (extended thinking) and sees images."""

    id: str
    max_output: int = 64000
    thinking: bool = True
    vision: bool = True
    display_name: str = ""
    created_at: str = "2025-05-14T00:00:00Z"

    def to_dict(self) -> dict[str, object]:
        """Return Anthropic's model object."""
        return {"type": "model", "id": self.id, "created_at": self.created_at,
                "display_name": self.display_name or self.id}


DEFAULT_MODELS: tuple[EmulatedModel, ...] = (
    EmulatedModel("claude-sonnet-4-5-20250929", display_name="Claude Sonnet 4.5",
                  created_at="2025-09-29T00:00:00Z"),
    EmulatedModel("claude-opus-4-1-20250805", 32000, display_name="Claude Opus 4.1",
                  created_at="2025-08-05T00:00:00Z"),
    EmulatedModel("claude-3-7-sonnet-20250219", display_name="Claude Sonnet 3.7",
                  created_at="2025-02-24T00:00:00Z"),
    EmulatedModel("claude-3-5-haiku-20241022", 8192, thinking=False,
                  display_name="Claude Haiku 3.5", created_at="2024-10-22T00:00:00Z"),
    EmulatedModel("claude-3-haiku-20240307", 4096, thinking=False,
                  display_name="Claude Haiku 3", created_at="2024-03-07T00:00:00Z"),
)


class ModelList(dict[str, EmulatedModel]):
    """The models the emulator serves now, by id in the listing's order: `add` one to serve
    it, `del models[id]` to drop it."""

    def __init__(self, models: Iterable[EmulatedModel | str]) -> None:
        super().__init__()
        for model in models:
            self.add(model)

    def add(self, model: EmulatedModel | str) -> EmulatedModel:
        """Serve model from now on (a bare id thinks and sees images); return it."""
        entry = EmulatedModel(model) if isinstance(model, str) else model
        self[entry.id] = entry
        return entry


MODELS_KEY = web.AppKey("anthropic_emulator_models", ModelList)
# The most models one page holds, whatever `limit` asks (1000, the API's own bound, unless a
# test lowers it to see a client follow has_more).
PAGE_KEY = web.AppKey("anthropic_emulator_page_size", int)


_DATED = re.compile(r"-\d{8}$")


def model_for(request: web.Request, model_id: str) -> EmulatedModel:
    """Return the served model, or the API's 404 not_found_error ("model: <id>"). As the
    API does, an id without its date ("claude-sonnet-4-5") names the newest dated one."""
    models = request.app[MODELS_KEY]
    model = models.get(model_id) or next(
        (m for m in models.values() if _DATED.sub("", m.id) == model_id), None)
    if model is None:
        raise Refusal(f"model: {model_id}", "not_found_error")
    return model


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "20")
    try:
        limit = int(raw)
    except ValueError:
        raise Refusal("limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise Refusal("limit: Input should be between 1 and 1000")
    return limit


def _window(ids: list[str], request: web.Request, limit: int) -> tuple[int, int]:
    after, before = request.query.get("after_id"), request.query.get("before_id")
    if after is not None and before is not None:
        raise Refusal("Only one of after_id and before_id may be given.")
    for cursor in (after, before):
        if cursor is not None and cursor not in ids:
            raise Refusal(f"Invalid cursor: {cursor}")
    if before is not None:
        end = ids.index(before)
        return max(0, end - limit), end
    start = ids.index(after) + 1 if after is not None else 0
    return start, min(len(ids), start + limit)


@refusals
async def list_models(request: web.Request) -> web.Response:
    """GET /v1/models: a page of the models served, newest first as the API lists them."""
    check_headers(request)
    models = list(request.app[MODELS_KEY].values())
    ids = [model.id for model in models]
    start, end = _window(ids, request, min(_limit(request), request.app[PAGE_KEY]))
    page = models[start:end]
    more = start > 0 if "before_id" in request.query else end < len(models)
    return web.json_response({
        "data": [model.to_dict() for model in page], "has_more": more,
        "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None})


@refusals
async def get_model(request: web.Request) -> web.Response:
    """GET /v1/models/{model_id}: one model, or 404 not_found_error."""
    check_headers(request)
    return web.json_response(model_for(request, request.match_info["model_id"]).to_dict())
