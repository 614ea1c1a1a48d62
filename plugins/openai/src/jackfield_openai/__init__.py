"""jackfield provider plugin for OpenAI's API and every server that speaks it (vLLM, Ollama's
/v1, OpenRouter, LM Studio, another `jackfield serve`).

The models are the server's (`GET {base}/models`), any pinned id is passed through, and each
`[providers.NAME] plugin = "openai"` table adds an instance with its own base URL and key.
Importing this module stays cheap (`jackfield models` lists without the HTTP stack): the
hooks import the modules that read replies, and the emulator, only when they run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING

from jackfield.provider import hookimpl

from .spec import PROVIDER, guess_kind, provider_spec

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield.provider import (
        ErrorReply,
        Event,
        HttpRequest,
        HttpResponse,
        JackfieldError,
        ModelSpec,
        ProviderConfig,
        ProviderRequest,
        ProviderSpec,
        ProviderTransport,
    )

__all__ = [
    "PROVIDER",
    "guess_kind",
    "jackfield_build_request",
    "jackfield_discover_models",
    "jackfield_emulator",
    "jackfield_error_reply",
    "jackfield_parse_response",
    "jackfield_provider",
]


@hookimpl
def jackfield_provider() -> ProviderSpec:
    """Return the `openai` provider: api.openai.com/v1, no static models, pass-through."""
    return provider_spec()


@hookimpl
async def jackfield_discover_models(provider: ProviderSpec, config: ProviderConfig,
                                    transport: ProviderTransport) -> Sequence[ModelSpec]:
    """Return the models `GET {base}/models` lists (OpenAI's own API needs a key first)."""
    from .replies import model_specs
    from .wire import models_request

    document = await transport.fetch_json(models_request(config))
    return model_specs(provider.name, document)


@hookimpl
def jackfield_error_reply(request: ProviderRequest | None, reply: ErrorReply
                          ) -> JackfieldError | None:
    """Return the typed error OpenAI's `{"error": {...}}` reply means."""
    from .errors import error_reply

    return error_reply(request, reply)


@hookimpl
def jackfield_build_request(request: ProviderRequest, config: ProviderConfig) -> HttpRequest:
    """Return the HTTP request for a chat, image or embedding call (no I/O)."""
    from .wire import build_request

    return build_request(request, config)


@hookimpl
def jackfield_parse_response(request: ProviderRequest, response: HttpResponse,
                             transport: ProviderTransport) -> AsyncIterator[Event]:
    """Return the events of a 2xx reply, each yielded as it arrives."""
    from jackfield.provider import EmbeddingRequest

    from .chat import parse_chat
    from .replies import parse_embeddings, parse_images

    if isinstance(request, EmbeddingRequest):
        return parse_embeddings(request, response)
    if request.model.kind == "image":
        return parse_images(request, response, transport)
    return parse_chat(request, response)


@hookimpl
def jackfield_emulator() -> Callable[..., web.Application]:
    """Return the factory of the loopback OpenAI emulator (create_app)."""
    from .emulator import create_app  # imports aiohttp: only when an emulator is wanted

    return create_app
