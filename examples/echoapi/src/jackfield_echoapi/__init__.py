"""jackfield provider plugin for EchoAPI, the worked example of CONTRIBUTING.md.

This module holds the hook implementations only; it stays light (no aiohttp import) because
`jackfield models` imports it just to list models.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from jackfield.provider import (
    Capabilities,
    CompletionRequest,
    HttpRequest,
    InvalidRequestError,
    ModelSpec,
    Option,
    ProviderConfig,
    ProviderSpec,
    Setting,
    hookimpl,
)

if TYPE_CHECKING:  # these names import aiohttp: for annotations only
    from jackfield.provider import Event, HttpResponse, ProviderTransport

__all__ = ["ECHO_CAPABILITIES", "ROLES", "WHO"]

#: The service's names for the unified message roles.
WHO = {"system": "system", "user": "user", "assistant": "echo"}
ROLES = frozenset(WHO)

#: What echo-1 can do: text in and out, and a word limit (EchoAPI's `max_words`), which is
#: complete()'s `max_tokens`. The core sends only what a model declares: the other sampling
#: parameters and `seed` come back as warnings, `stop` is applied by the core, and a call
#: that needs tools, images or a JSON mode goes to another model or is refused.
ECHO_CAPABILITIES = Capabilities(sampling={"max_tokens"})

CHAT_PATH = "/v1/echo"
SKETCH_PATH = "/v1/sketch"


@hookimpl
def jackfield_provider() -> ProviderSpec:
    """Describe the echoapi provider: its models and what they can do, alias, option and
    token setting."""
    return ProviderSpec(
        name="echoapi",
        base_url="https://api.echoapi.invalid",
        models=(ModelSpec("echo-1", capabilities=ECHO_CAPABILITIES),
                ModelSpec("sketch-1", kind="image")),
        default_model="echo-1",
        aliases={"echo": "echo-1"},
        options={"shout": Option(bool, False, kinds=("chat",), doc="reply in upper case")},
        settings={"token": Setting(doc="EchoAPI bearer token", secret=True)},
        auth_hint="set JACKFIELD_ECHOAPI_TOKEN or config={'echoapi': {'token': ...}}",
    )


@hookimpl
def jackfield_build_request(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Translate a unified request into an EchoAPI call (no I/O)."""
    headers = {
        "authorization": f"Bearer {config.require('token')}",
        "content-type": "application/json",
    }
    if request.model.kind == "image":
        if not request.prompt.strip():
            raise InvalidRequestError("echoapi: sketch-1 needs a non-empty prompt")
        return HttpRequest("POST", config.url(SKETCH_PATH), headers=headers,
                           json={"model": request.model.id, "prompt": request.prompt})
    turns = []
    for message in request.messages:
        if message.role not in WHO:
            raise InvalidRequestError(f"echoapi: cannot send a message with role {message.role!r}")
        turns.append({"who": WHO[message.role], "say": message.content})
    headers["accept"] = "application/x-ndjson" if request.stream else "application/json"
    body: dict[str, Any] = {
        "model": request.model.id,
        "turns": turns,
        "stream": request.stream,
        "shout": bool(request.options["shout"]),
    }
    if request.params.max_tokens is not None:  # set only when the caller asked for a limit
        body["max_words"] = request.params.max_tokens
    return HttpRequest("POST", config.url(CHAT_PATH), headers=headers, json=body,
                       stream=request.stream)


@hookimpl
def jackfield_parse_response(
    request: CompletionRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Translate an EchoAPI reply into unified events."""
    from .parse import parse  # heavy imports stay out of model listing

    return parse(request, response, transport)


@hookimpl
def jackfield_emulator() -> Callable[[], Any]:
    """Return the factory of the EchoAPI emulator app."""
    from .emulator import create_app

    return create_app
