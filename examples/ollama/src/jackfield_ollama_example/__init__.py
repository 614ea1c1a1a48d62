"""jackfield provider plugin for Ollama's native API, the worked example of CONTRIBUTING.md.

Ollama's models live on the server (`ollama pull` adds one at any time), so this plugin
lists none of its own: it asks `GET /api/tags` (discovery) and passes any pinned
`ollama/<name>` through to the server, whose "not found, try pulling it first" becomes an
`UnknownModelError`. Chat streams NDJSON from `POST /api/chat`; images go as base64;
embeddings come from `POST /api/embed`.

This module holds the hook implementations only and stays light (no aiohttp import):
`jackfield models` imports it just to list models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from jackfield.provider import (
    SAMPLING,
    Capabilities,
    EmbeddingRequest,
    HttpRequest,
    JackfieldError,
    ModelSpec,
    Option,
    ProviderConfig,
    ProviderRequest,
    ProviderSpec,
    Setting,
    hookimpl,
)

if TYPE_CHECKING:  # these names import aiohttp: for annotations only
    from jackfield.provider import ErrorReply, Event, HttpResponse, ProviderTransport

__all__ = ["DEFAULT_BASE_URL", "NATIVE", "auth_headers"]

# Where `ollama serve` listens by default (its OLLAMA_HOST).
DEFAULT_BASE_URL = "http://127.0.0.1:11434"

# What Ollama's native API honours for every model: its `options` take the five sampling
# parameters, `stop` and `seed`, and `format` takes "json" or a JSON schema. Tools, images
# and thinking depend on the model, so an id nobody listed (pass-through) leaves them
# unknown: the server decides. Ollama's /api/chat has no logprobs.
NATIVE = Capabilities(tools=None, image_input=None, json_object=True, json_schema=True,
                      stop=True, seed=True, reasoning=None, logprobs=False, sampling=SAMPLING)


@hookimpl
def jackfield_provider() -> ProviderSpec:
    """Describe the ollama provider: no static models (the server lists them), pass-through
    of any pinned id, its own options and the optional key of a hosted or proxied server."""
    return ProviderSpec(
        name="ollama",
        base_url=DEFAULT_BASE_URL,
        models=(),  # discovered: see jackfield_discover_models
        pass_through=True,
        pass_through_capabilities=NATIVE,
        options={
            # A None default is not sent: the key is absent from request.options unless the
            # caller passes it, and then the server's own default applies.
            "keep_alive": Option((str, int), None, doc="how long the model stays loaded "
                                                       "after the call: '5m', 0, -1"),
            "num_ctx": Option(int, None, kinds=("chat",), doc="the context window, in tokens"),
            "truncate": Option(bool, None, kinds=("embedding",),
                               doc="cut inputs longer than the context instead of failing"),
        },
        settings={
            # Ollama needs no key on your own machine; a hosted or proxied one may. The
            # fallback is read for the `ollama` provider only, never for a named instance.
            "api_key": Setting(doc="bearer token of a hosted or proxied Ollama", secret=True,
                               fallback_env=("OLLAMA_API_KEY",)),
        },
        auth_hint="Set JACKFIELD_OLLAMA_API_KEY (or OLLAMA_API_KEY) for a server that needs one.",
    )


def auth_headers(config: ProviderConfig) -> dict[str, str]:
    """Return the Authorization header when a key is configured (none is needed locally)."""
    key = config.get("api_key")
    return {"authorization": f"Bearer {key}"} if key else {}


@hookimpl
async def jackfield_discover_models(provider: ProviderSpec, config: ProviderConfig,
                                    transport: ProviderTransport) -> Sequence[ModelSpec]:
    """Ask the server which models it has pulled (`GET /api/tags`, then `/api/show`)."""
    from .listing import discover  # heavy imports stay out of model listing

    return await discover(provider, config, transport, auth_headers(config))


@hookimpl
def jackfield_build_request(request: ProviderRequest, config: ProviderConfig) -> HttpRequest:
    """Translate a chat or embedding request into an Ollama call (no I/O)."""
    from .wire import chat_body, embed_body

    headers = {"content-type": "application/json", **auth_headers(config)}
    if isinstance(request, EmbeddingRequest):  # a model of kind "embedding"
        return HttpRequest("POST", config.url("/api/embed"), headers=headers,
                           json=embed_body(request))
    return HttpRequest("POST", config.url("/api/chat"), headers=headers,
                       json=chat_body(request), stream=request.stream)


@hookimpl
def jackfield_parse_response(request: ProviderRequest, response: HttpResponse,
                             transport: ProviderTransport) -> AsyncIterator[Event]:
    """Translate an Ollama reply into unified events (an async generator)."""
    from .parse import parse

    return parse(request, response)


@hookimpl
def jackfield_error_reply(request: ProviderRequest | None, reply: ErrorReply
                          ) -> JackfieldError | None:
    """Read Ollama's `{"error": "..."}` replies: an unknown model, input it refuses."""
    from .errors import error_for_reply

    return error_for_reply(reply)


@hookimpl
def jackfield_emulator() -> Callable[[], Any]:
    """Return the factory of the Ollama emulator app."""
    from .emulator import create_app

    return create_app
