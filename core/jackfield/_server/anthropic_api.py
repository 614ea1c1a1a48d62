"""Anthropic's Messages API on the server: POST /v1/messages and /v1/messages/count_tokens.

Any provider's chat model is reachable through them, tools included (natively, or described
in the prompt when the server runs with --prompted): the body is checked into a ChatCall
(anthropic_shapes), run by call.start_chat, and written back as Anthropic's `message`
(anthropic_replies) or its event stream (anthropic_stream). Errors on these routes, from
the auth check and the guard too, take Anthropic's shape (`ANTHROPIC_ERRORS`).

count_tokens answers the server's estimate (chat_shapes.prompt_tokens: characters / 4,
images at their least), marked `"jackfield_estimated": true`: no provider behind the server
is asked, and none counts tokens the way the model it serves does without a call.
"""

from __future__ import annotations

from aiohttp import web

from jackfield._server.anthropic_replies import ANTHROPIC_ERRORS, message_id, message_object
from jackfield._server.anthropic_shapes import parse_count_call, parse_messages_call
from jackfield._server.anthropic_stream import stream_messages
from jackfield._server.body import read_json
from jackfield._server.call import REGISTRY_KEY, check_kind, start_chat
from jackfield._server.chat_shapes import notice_headers, prompt_tokens
from jackfield._server.routes import Route

__all__ = ["ROUTES", "count_tokens", "messages"]


async def messages(request: web.Request) -> web.StreamResponse:
    """POST /v1/messages: one `message`, or Anthropic's SSE events when stream is true."""
    call = parse_messages_call(await read_json(request))
    if call.stream:
        return await stream_messages(request, await start_chat(request, call, True), call)
    completion = await start_chat(request, call, False)
    warnings = (*call.warnings, *completion.warnings)
    return web.json_response(message_object(completion, call, message_id(), warnings),
                             headers=notice_headers(warnings, completion.emulated))


async def count_tokens(request: web.Request) -> web.Response:
    """POST /v1/messages/count_tokens: the prompt's estimated input tokens (404 for a model
    no provider serves, 400 for one that is not a chat model)."""
    call = parse_count_call(await read_json(request))
    registry = request.app[REGISTRY_KEY]
    await check_kind(registry, call.model, "chat")
    registry.resolve(call.model, "chat")  # UnknownModelError: the 404 a call would get
    return web.json_response({"input_tokens": prompt_tokens(call),
                              "jackfield_estimated": True},
                             headers=notice_headers(call.warnings, ()))


ROUTES = (
    Route("POST", "/v1/messages", messages, ANTHROPIC_ERRORS),
    Route("POST", "/v1/messages/count_tokens", count_tokens, ANTHROPIC_ERRORS),
)
