"""POST /v1/responses: OpenAI's Responses API over any chat model, stateless.

The request is decoded into the one ChatCall (responses_shapes), run by start_chat() and
answered as a `response` object (responses_objects) or, streamed, as the API's semantic
events (responses_stream). Nothing is stored, so the routes that read or change a stored
response answer a 404 that says so, rather than the generic "no route".
"""

from __future__ import annotations

from aiohttp import web

from jackfield._server.body import read_json
from jackfield._server.call import start_chat
from jackfield._server.chat_shapes import notice_headers
from jackfield._server.errors import ApiError, Refusal
from jackfield._server.openai_shapes import now
from jackfield._server.responses_objects import new_id, response_of
from jackfield._server.responses_shapes import STATELESS, parse_responses_call
from jackfield._server.responses_stream import ResponsesEncoder
from jackfield._server.routes import Route
from jackfield._server.sse import serve_stream

__all__ = ["ROUTES", "create_response"]


async def create_response(request: web.Request) -> web.StreamResponse:
    """POST /v1/responses: one `response` object, or its events when stream is true."""
    responses_call = parse_responses_call(await read_json(request))
    call = responses_call.call
    if call.stream:
        stream = await start_chat(request, call, True)
        return await serve_stream(
            request, stream, call.warnings,
            lambda writer, stream, warnings: ResponsesEncoder(writer, stream, warnings,
                                                              responses_call))
    completion = await start_chat(request, call, False)
    warnings = (*call.warnings, *completion.warnings)
    return web.json_response(response_of(completion, responses_call, new_id("resp"), now(),
                                         warnings),
                             headers=notice_headers(warnings, completion.emulated))


async def stored_response(request: web.Request) -> web.StreamResponse:
    """GET/DELETE /v1/responses/{id}, its input_items, its cancel: nothing is stored."""
    raise Refusal(ApiError(404, "invalid_request_error", "response_not_found",
                           f"No response {request.match_info['response_id']!r}: {STATELESS}",
                           param="response_id"))


ROUTES = (
    Route("POST", "/v1/responses", create_response),
    Route("GET", "/v1/responses/{response_id}", stored_response),
    Route("DELETE", "/v1/responses/{response_id}", stored_response),
    Route("GET", "/v1/responses/{response_id}/input_items", stored_response),
    Route("POST", "/v1/responses/{response_id}/cancel", stored_response),
)
