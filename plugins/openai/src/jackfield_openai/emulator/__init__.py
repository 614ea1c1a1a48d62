"""A strict loopback emulator of OpenAI's API (docs/protocols/openai.md): `GET /v1/models`,
`POST /v1/chat/completions` (streamed and not), `/v1/embeddings`, `/v1/images/generations`
(each also without the /v1 prefix).

It refuses what OpenAI refuses (unknown fields, wrong types, unknown models: OpenAI's error
object and status), answers deterministically from the request (answers.py) and shares the
fault modes of docs/faults.md on its POST endpoints.

    app = create_app(api_key="sk-test", models=["my-model", EmulatedModel("e", "embedding", 8)])
    app[MODELS_KEY].add("pulled-later")   # listed and served from now on
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from aiohttp import web

from jackfield.testing import FAULTS_KEY, new_app

from .chat import chat_completions
from .embeddings import embeddings
from .images import IMAGES_KEY, generate_images, image_file
from .models import DEFAULT_MODELS, MODELS_KEY, EmulatedModel, ModelList, list_models
from .validation import API_KEY

__all__ = ["DEFAULT_MODELS", "FAULTS_KEY", "MODELS_KEY", "EmulatedModel", "ModelList",
           "create_app"]

# Faults apply to these (docs/faults.md); model listing and image downloads are left alone
# unless a test widens `app[FAULTS_KEY].endpoints`.
ENDPOINTS = ("/chat/completions", "/embeddings", "/images/generations")
FAULT_ENDPOINTS = (*(f"/v1{path}" for path in ENDPOINTS), *ENDPOINTS)


async def _reply_type(request: web.Request) -> str:
    """The content type the protocol answers with: SSE for a streamed chat request."""
    if request.path.endswith("/chat/completions") and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            return "application/json"
        if isinstance(body, dict) and body.get("stream") is True:
            return "text/event-stream"
    return "application/json"


def create_app(*, api_key: str | None = None,
               models: Iterable[EmulatedModel | str] | None = None,
               fault: str | None = None) -> web.Application:
    """Return the emulator. With api_key, every request needs `Authorization: Bearer
    <api_key>` (401 otherwise); without, none is needed (as a local server). `models` (bare
    ids are chat models) replaces DEFAULT_MODELS; `app[MODELS_KEY]` changes them later."""
    app = new_app(fault=fault, fault_endpoints=FAULT_ENDPOINTS, reply_type=_reply_type)
    app[API_KEY] = api_key or ""
    app[MODELS_KEY] = ModelList(DEFAULT_MODELS if models is None else models)
    app[IMAGES_KEY] = OrderedDict()
    # Under /v1 as OpenAI serves it, and at the root too, so that the bare URL
    # `jackfield emulate` and serve_app print works as a base URL as well.
    for prefix in ("/v1", ""):
        app.router.add_get(f"{prefix}/models", list_models)
        app.router.add_post(f"{prefix}/chat/completions", chat_completions)
        app.router.add_post(f"{prefix}/embeddings", embeddings)
        app.router.add_post(f"{prefix}/images/generations", generate_images)
    app.router.add_get("/files/{name}", image_file)
    return app
