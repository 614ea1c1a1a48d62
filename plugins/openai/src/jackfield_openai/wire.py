"""Building the requests: chat completions, image generations and embeddings (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jackfield.provider import (
    CompletionRequest,
    EmbeddingRequest,
    HttpRequest,
    InvalidRequestError,
    ProviderConfig,
    ProviderRequest,
)

from .spec import auth_headers, needs_key

__all__ = ["ENCODINGS", "build_request", "models_request"]

ENCODINGS = ("base64", "float")
_JSON = {"content-type": "application/json", "accept": "application/json"}
# Options that go into a chat body as they are; the image ones go to image models only (the
# core fills option defaults per kind, so a chat call never carries them).
_CHAT_OPTIONS = ("user", "logit_bias", "store", "metadata", "service_tier", "prompt_cache_key",
                 "safety_identifier", "verbosity")
_IMAGE_OPTIONS = ("size", "quality", "style", "user")
_BASE64_ONLY = ("gpt-image", "chatgpt-image")


def _set(body: dict[str, Any], options: Mapping[str, Any], names: tuple[str, ...]) -> None:
    # A None default means "the service's own default": nothing is sent for it.
    for name in names:
        value = options.get(name)
        if value is not None:
            body[name] = value


def models_request(config: ProviderConfig) -> HttpRequest:
    """Return GET {base}/models, raising AuthenticationError first if a key is required."""
    headers = {"accept": "application/json", **auth_headers(config)}
    return HttpRequest("GET", config.url("models"), headers=headers)


def _chat(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    body: dict[str, Any] = {"model": request.model.id,
                            "messages": [message.to_dict() for message in request.messages]}
    body.update(request.params.to_openai())
    if "max_tokens" in body and needs_key(config):
        # OpenAI's reasoning models refuse max_tokens, its deprecated name; most other
        # servers (older vLLM, llama.cpp, LM Studio) know only max_tokens.
        body["max_completion_tokens"] = body.pop("max_tokens")
    _set(body, request.options, _CHAT_OPTIONS)
    headers = {**_JSON, **auth_headers(config)}
    if request.stream:
        body["stream"] = True
        # Without it the stream carries no token counts.
        body["stream_options"] = {"include_usage": True}
        headers["accept"] = "text/event-stream"
    return HttpRequest("POST", config.url("chat/completions"), headers=headers, json=body,
                       stream=request.stream)


def _image(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    prompt = request.prompt
    if not prompt.strip():
        raise InvalidRequestError("an image prompt must not be empty", param="prompt")
    body: dict[str, Any] = {"model": request.model.id, "prompt": prompt}
    _set(body, request.options, _IMAGE_OPTIONS)
    if not request.model.id.lower().rsplit("/", 1)[-1].startswith(_BASE64_ONLY):
        # The bytes in the reply itself: DALL-E (and most servers) answer with short-lived
        # URLs on another host by default. GPT Image models always send base64 and refuse
        # the field.
        body["response_format"] = "b64_json"
    return HttpRequest("POST", config.url("images/generations"),
                       headers={**_JSON, **auth_headers(config)}, json=body)


def _embedding(request: EmbeddingRequest, config: ProviderConfig) -> HttpRequest:
    encoding = request.options.get("encoding_format", "base64")
    if encoding not in ENCODINGS:
        raise InvalidRequestError(f"encoding_format must be one of {list(ENCODINGS)}, got "
                                  f"{encoding!r}", param="encoding_format")
    body: dict[str, Any] = {"model": request.model.id, "input": list(request.inputs),
                            "encoding_format": encoding}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    _set(body, request.options, _CHAT_OPTIONS)
    return HttpRequest("POST", config.url("embeddings"),
                       headers={**_JSON, **auth_headers(config)}, json=body)


def build_request(request: ProviderRequest, config: ProviderConfig) -> HttpRequest:
    """Return the HTTP request for a chat, image or embedding call."""
    if isinstance(request, EmbeddingRequest):
        return _embedding(request, config)
    if request.model.kind == "image":
        return _image(request, config)
    return _chat(request, config)
