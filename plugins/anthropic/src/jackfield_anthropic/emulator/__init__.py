"""A strict loopback emulator of Anthropic's Messages API (docs/protocols/anthropic.md):
`POST /v1/messages` (streamed and not), `GET /v1/models` (paged) and `/v1/models/{id}`.

It refuses what the API refuses, with Anthropic's error object and status (a missing or
wrong x-api-key when it has one, no anthropic-version, unknown fields, wrong types, no
max_tokens, a tool_result without its tool_use, an unknown model), answers
deterministically from the request (answers.py) and shares the fault modes of
docs/faults.md on `POST /v1/messages`.

    app = create_app(api_key="sk-ant-test", models=["claude-x", EmulatedModel("y", 4096)])
    app[MODELS_KEY].add("served-later")   # listed and served from now on
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from jackfield.testing import FAULTS_KEY, new_app

from .messages import create_message
from .models import (
    DEFAULT_MODELS,
    MODELS_KEY,
    PAGE_KEY,
    EmulatedModel,
    ModelList,
    get_model,
    list_models,
)
from .refusals import API_KEY

__all__ = ["DEFAULT_MODELS", "FAULTS_KEY", "MODELS_KEY", "PAGE_KEY", "EmulatedModel",
           "ModelList", "create_app"]

# Faults apply to the messages endpoint (docs/faults.md); the listing is left alone unless a
# test widens `app[FAULTS_KEY].endpoints`.
FAULT_ENDPOINTS = ("/v1/messages",)


async def _reply_type(request: web.Request) -> str:
    """The content type the protocol answers with: SSE for a streamed request."""
    if request.path == "/v1/messages" and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            return "application/json"
        if isinstance(body, dict) and body.get("stream") is True:
            return "text/event-stream"
    return "application/json"


def create_app(*, api_key: str | None = None,
               models: Iterable[EmulatedModel | str] | None = None,
               fault: str | None = None, page_size: int = 1000) -> web.Application:
    """Return the emulator. Every request needs `anthropic-version`; with api_key, also that
    key as `x-api-key` (or a bearer token; 401 otherwise), without, no key (as a local
    compatible server, and as `jackfield emulate` expects). `models`
    (bare ids think and see images) replaces DEFAULT_MODELS; `app[MODELS_KEY]` changes them
    later; `page_size` caps a model list page (the API's cap is 1000)."""
    app = new_app(fault=fault, fault_endpoints=FAULT_ENDPOINTS, reply_type=_reply_type)
    app[API_KEY] = api_key or ""
    app[MODELS_KEY] = ModelList(DEFAULT_MODELS if models is None else models)
    app[PAGE_KEY] = page_size
    app.router.add_post("/v1/messages", create_message)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model_id}", get_model)
    return app
