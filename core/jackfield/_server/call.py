"""The one call shape every chat wire format decodes into, and starting it.

Each wire format the server speaks (OpenAI chat completions, OpenAI Responses, Anthropic
Messages, legacy completions) is a codec: a `parse_*` function that checks a body and
returns a ChatCall, and writers that turn the Completion, or the CompletionStream through a
`sse.StreamEncoder`, back into its own shapes. What lies between is done once, here and in
the core: which kind of model a name is, strict mode, the server's call timeout, the access
log's record, then routing, retries, fallbacks and tool/JSON emulation in the Registry.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import attrs
from aiohttp import web

from jackfield._engine.completion import Completion, CompletionStream
from jackfield._engine.registry import Registry
from jackfield._errors import InvalidRequestError, UnknownModelError
from jackfield._server.access_log import note_call
from jackfield._types.notices import CallWarning
from jackfield._types.specs import Kind

__all__ = ["CALL_TIMEOUT_KEY", "ENDPOINTS", "REGISTRY_KEY", "ChatCall", "check_kind",
           "start_chat", "strict_error"]

REGISTRY_KEY = web.AppKey("jackfield_registry", Registry)
# `jackfield serve --timeout`: seconds a whole call may take (None: the registry's own).
CALL_TIMEOUT_KEY = web.AppKey("jackfield_call_timeout", float)  # absent: no timeout of its own
ENDPOINTS = {"chat": "/v1/chat/completions", "image": "/v1/images/generations",
             "embedding": "/v1/embeddings"}


@attrs.frozen
class ChatCall:
    """One checked chat call, whatever wire format it came in: what Registry.complete() gets.

    `messages` are what complete() takes: OpenAI-shaped dicts or `Message` objects (a codec
    whose format is not OpenAI's builds Messages, so nothing is re-encoded to be decoded
    again). `params` are complete()'s keyword parameters under the core's (OpenAI's) names,
    checked by the core; `warnings` what the codec itself accepted but does not act on.
    `include_usage` is the OpenAI stream's usage chunk, asked for; `logprobs` whether the
    client asked for log probabilities (they are sent, and null, only then).
    """

    model: str
    messages: list[Any]
    stream: bool
    params: dict[str, Any]
    warnings: tuple[CallWarning, ...] = ()
    include_usage: bool = False

    @property
    def logprobs(self) -> bool:
        """Return whether the call asked for logprobs."""
        return self.params.get("logprobs") is True


async def check_kind(registry: Registry, model: str, kind: Kind) -> None:
    """Refuse a model of another kind, naming the endpoint that serves it.

    A name no list has, or has as another kind, first has the stale lists asked for again
    (the call would ask them anyway): the model may have been pulled after the server
    started, and an allow-listed id of a pass-through provider counts as a chat model until
    its service says what it is. A name still unknown is left to the call, which asks the
    services not asked lately, then resolves it.
    """
    for attempt in range(2):
        try:
            routes = registry.resolve(model, kind)
        except UnknownModelError:
            routes = []
        if any(route.model.kind == kind for route in routes):
            return
        if attempt == 0:
            await registry.refresh_models(stale_only=True)
    if routes:
        other = routes[0].model.kind
        article = "an" if other[0] in "aeiou" else "a"
        raise InvalidRequestError(f"{model!r} is {article} {other} model; use POST "
                                  f"{ENDPOINTS[other]}.", param="model")


def strict_error(warning: CallWarning) -> InvalidRequestError:
    """Return the error strict mode raises for what the server accepts but does not do."""
    return InvalidRequestError(f"{warning} This server runs in strict mode, which refuses "
                               f"what it cannot act on: leave {warning.param} out.",
                               param=warning.param)


@overload
async def start_chat(request: web.Request, call: ChatCall,
                     stream: Literal[True]) -> CompletionStream: ...


@overload
async def start_chat(request: web.Request, call: ChatCall,
                     stream: Literal[False]) -> Completion: ...


async def start_chat(request: web.Request, call: ChatCall,
                     stream: bool) -> Completion | CompletionStream:
    """Check the call against the server's settings and run it: a finished Completion, or a
    CompletionStream not yet read (nothing is sent upstream until its first chunk).

    stream is call.stream, given again so that the type checker knows which comes back.
    """
    registry = request.app[REGISTRY_KEY]
    note_call(request, model=call.model)
    await check_kind(registry, call.model, "chat")
    if registry.strict and call.warnings:
        raise strict_error(call.warnings[0])
    options: dict[str, Any] = dict(call.params)
    timeout = request.app.get(CALL_TIMEOUT_KEY)
    if timeout is not None:
        options["timeout"] = timeout
    if stream:
        started: CompletionStream = await registry.complete(call.model, call.messages,
                                                             stream=True, **options)
        return started
    completion: Completion = await registry.complete(call.model, call.messages, **options)
    note_call(request, provider=completion.provider, usage=completion.usage)
    return completion
