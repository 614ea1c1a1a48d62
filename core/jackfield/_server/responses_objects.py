"""The Responses API's reply shapes: the `response` object and its output items, exactly as
the openai SDK's `openai.types.responses.Response` parses them.

Output items come in the order the model produced them: its reasoning (a `reasoning` item
whose summary is the reasoning text), its text (a `message` with one `output_text` part),
then its tool calls (`function_call` items, `call_id` the id a `function_call_output`
answers). A reply cut by max_output_tokens is `incomplete` with its reason, as OpenAI's.
`usage` is always present, estimated where the provider gave no counts (chat_shapes).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jackfield._engine.completion import Completion
from jackfield._server.chat_shapes import usage_object, warning_list
from jackfield._server.responses_shapes import ResponsesCall
from jackfield._types.content import ToolCall
from jackfield._types.notices import CallWarning

__all__ = ["function_call_item", "message_item", "new_id", "reasoning_item",
           "response_object", "response_of", "responses_usage", "status_of", "text_part"]

# The finish reasons that leave a response incomplete, and the reason OpenAI gives.
_INCOMPLETE = {"length": "max_output_tokens", "max_tokens": "max_output_tokens",
               "content_filter": "content_filter"}


def new_id(prefix: str) -> str:
    """Return a fresh id in OpenAI's style: resp_..., msg_..., fc_..., rs_..."""
    return f"{prefix}_{uuid.uuid4().hex}"


def status_of(finish_reason: str | None) -> tuple[str, dict[str, str] | None]:
    """Return a response's status and its incomplete_details for a finish reason."""
    reason = _INCOMPLETE.get(finish_reason or "")
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def _logprob(entry: Any) -> Any:
    # The core's entries are the chat API's (token, logprob, bytes, top_logprobs): the same
    # fields the Responses API has, top_logprobs a list there too.
    if isinstance(entry, Mapping):
        return {**entry, "bytes": entry.get("bytes") or [],
                "top_logprobs": entry.get("top_logprobs") or []}
    return entry


def logprob_list(entries: Iterable[Any]) -> list[Any]:
    """Return the core's logprob entries in the Responses API's shape."""
    return [_logprob(entry) for entry in entries]


def text_part(text: str, logprobs: Iterable[Any] = ()) -> dict[str, Any]:
    """Return one output_text content part."""
    return {"type": "output_text", "text": text, "annotations": [],
            "logprobs": logprob_list(logprobs)}


def message_item(item_id: str, status: str, content: Sequence[dict[str, Any]]
                 ) -> dict[str, Any]:
    """Return an assistant message item holding content (output_text parts)."""
    return {"type": "message", "id": item_id, "status": status, "role": "assistant",
            "content": list(content)}


def function_call_item(item_id: str, call: ToolCall, status: str) -> dict[str, Any]:
    """Return a function_call item: what the model called, to be answered by call_id."""
    return {"type": "function_call", "id": item_id, "call_id": call.id, "name": call.name,
            "arguments": call.arguments, "status": status}


def reasoning_item(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    """Return a reasoning item whose summary is the reasoning (None: no summary part yet)."""
    summary = [] if text is None else [{"type": "summary_text", "text": text}]
    return {"type": "reasoning", "id": item_id, "summary": summary, "status": status}


def responses_usage(completion: Completion, call: ResponsesCall) -> dict[str, Any]:
    """Return the Responses API's usage object (chat_shapes' counts, under its names)."""
    usage = usage_object(completion, call.call)
    return {"input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["total_tokens"],
            "jackfield_estimated": usage["jackfield_estimated"]}


def response_object(response_id: str, created: int, model: str, call: ResponsesCall, *,
                    status: str, output: list[dict[str, Any]],
                    usage: dict[str, Any] | None = None,
                    incomplete: dict[str, str] | None = None,
                    error: dict[str, str] | None = None) -> dict[str, Any]:
    """Return a `response` object (its request fields echoed from call)."""
    response: dict[str, Any] = {
        "id": response_id, "object": "response", "created_at": created, "status": status,
        "error": error, "incomplete_details": incomplete, "model": model, "output": output,
        "usage": usage, **call.echo,
    }
    if status == "completed":
        response["completed_at"] = int(time.time())
    return response


def response_of(completion: Completion, call: ResponsesCall, response_id: str, created: int,
                warnings: Sequence[CallWarning]) -> dict[str, Any]:
    """Return the `response` object of a finished, not streamed, reply."""
    status, incomplete = status_of(completion.finish_reason)
    item_status = "incomplete" if status == "incomplete" else "completed"
    output: list[dict[str, Any]] = []
    if completion.reasoning:
        output.append(reasoning_item(new_id("rs"), completion.reasoning, "completed"))
    if completion.text or not completion.tool_calls:
        logprobs = completion.logprobs if call.call.logprobs else ()
        output.append(message_item(new_id("msg"), item_status,
                                   [text_part(completion.text, logprobs)]))
    output.extend(function_call_item(new_id("fc"), tool_call, "completed")
                  for tool_call in completion.tool_calls)
    response = response_object(response_id, created, completion.model or call.call.model,
                               call, status=status, output=output,
                               usage=responses_usage(completion, call), incomplete=incomplete)
    return response | {"provider": completion.provider,
                       "jackfield_warnings": warning_list(warnings)}
