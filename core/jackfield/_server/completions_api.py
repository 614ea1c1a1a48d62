"""POST /v1/completions: OpenAI's legacy text completions over chat models.

The request is decoded into the one ChatCall (completions_shapes: the prompt as one user
message), run by start_chat() and answered as a `text_completion`, or streamed as
`text_completion` chunks (`choices[0].text` the new text) ending with `data: [DONE]`; a
stream asked with `stream_options.include_usage` gets a usage chunk before it. A failure
after the headers is one OpenAI error event and no [DONE], as on /v1/chat/completions.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from jackfield._engine.completion import Completion, CompletionStream
from jackfield._server.body import read_json
from jackfield._server.call import start_chat
from jackfield._server.chat_shapes import notice_headers, usage_object, warning_list
from jackfield._server.completions_shapes import (
    TextCall,
    completion_text_id,
    legacy_logprobs,
    parse_text_call,
    text_choice,
    text_completion_object,
)
from jackfield._server.errors import OPENAI_ERRORS, ApiError
from jackfield._server.openai_shapes import now
from jackfield._server.routes import Route
from jackfield._server.sse import EventWriter, serve_stream
from jackfield._types.events import Chunk
from jackfield._types.notices import CallWarning

__all__ = ["ROUTES", "TextEncoder", "text_completions"]


class TextEncoder:
    """The `text_completion` chunks of one streamed reply (an `sse.StreamEncoder`).

    Asked for logprobs, each text delta waits for the Logprobs chunk that follows it, so
    that both go out in one chunk, as OpenAI's; its text_offset counts from the start of
    the reply (the prompt's length included when echoed).
    """

    def __init__(self, writer: EventWriter, stream: CompletionStream,
                 warnings: tuple[CallWarning, ...], call: TextCall) -> None:
        self._writer, self._call, self._warnings = writer, call, warnings
        self._id, self._created = completion_text_id(), now()
        self._model = stream.model or call.call.model
        self._held: str | None = None
        self._offset = 0  # characters sent so far

    async def _send(self, text: str, finish_reason: str | None = None,
                    logprobs: dict[str, Any] | None = None, **extra: Any) -> None:
        self._offset += len(text)
        await self._writer.send({"id": self._id, "object": "text_completion",
                                 "created": self._created, "model": self._model,
                                 "choices": [text_choice(0, text, finish_reason, logprobs)],
                                 **extra})

    async def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            await self._send(held, logprobs=legacy_logprobs((), self._offset))

    async def open(self, first: Chunk | None) -> None:
        if self._call.echo:
            await self._send(self._call.prompt)
        if first is not None:
            await self.chunk(first)

    async def chunk(self, chunk: Chunk) -> None:
        if chunk.logprobs and not chunk.text:
            held, self._held = self._held, None
            start = self._offset
            await self._send(held or "", logprobs=legacy_logprobs(chunk.logprobs, start))
            return
        if not chunk.text:
            return  # reasoning, tool calls and images have no place in a text completion
        await self._flush()
        if self._call.logprobs is not None:
            self._held = chunk.text
        else:
            await self._send(chunk.text)

    async def close(self, completion: Completion) -> None:
        await self._flush()
        self._model = completion.model or self._model
        await self._send("", completion.finish_reason or "stop",
                         provider=completion.provider,
                         jackfield_warnings=warning_list(self._warnings))
        if self._call.call.include_usage:
            await self._writer.send({"id": self._id, "object": "text_completion",
                                     "created": self._created, "model": self._model,
                                     "choices": [],
                                     "usage": usage_object(completion, self._call.call)})
        await self._writer.write(b"data: [DONE]\n\n")

    async def fail(self, error: ApiError) -> None:
        await self._flush()
        await self._writer.write(OPENAI_ERRORS.event_bytes(error))  # no [DONE] after it


async def text_completions(request: web.Request) -> web.StreamResponse:
    """POST /v1/completions: one `text_completion`, or its chunks when stream is true."""
    text_call = parse_text_call(await read_json(request))
    call = text_call.call
    if call.stream:
        stream = await start_chat(request, call, True)
        return await serve_stream(
            request, stream, call.warnings,
            lambda writer, stream, warnings: TextEncoder(writer, stream, warnings, text_call))
    completion = await start_chat(request, call, False)
    warnings = (*call.warnings, *completion.warnings)
    return web.json_response(
        text_completion_object(completion, text_call, completion_text_id(), now(), warnings),
        headers=notice_headers(warnings, completion.emulated))


ROUTES = (Route("POST", "/v1/completions", text_completions),)
