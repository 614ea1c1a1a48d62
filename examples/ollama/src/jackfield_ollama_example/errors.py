"""What Ollama's error replies mean: `{"error": "..."}` with a status, or a line in a stream."""

from __future__ import annotations

from jackfield.provider import (
    CompletionRequest,
    ErrorReply,
    InvalidRequestError,
    JackfieldError,
    UnknownModelError,
    error_for_status,
)

# Words of Ollama's 400 replies -> the parameter of complete() they are about.
REFUSED = {"does not support tools": "tools", "does not support thinking": "reasoning_effort",
           "does not support images": "messages"}


def error_for_reply(reply: ErrorReply) -> JackfieldError | None:
    """Return the typed error of a non-2xx reply, or None for the core's status mapping."""
    said = str(reply.error_object().get("message", ""))  # Ollama's {"error": "..."}
    if reply.status == 404 and reply.model is not None and "not found" in said:
        # "model 'x' not found, try pulling it first": the call goes to the next candidate,
        # and alone it is a 404 that quotes the server's advice.
        return UnknownModelError.from_service(reply.provider, reply.model, said)
    if reply.status == 400 and said:
        param = next((name for words, name in REFUSED.items() if words in said), None)
        return InvalidRequestError(f"{reply.provider}: {said}", param=param)
    return None  # 401, 429, 5xx, ...: the core's mapping says it well


def stream_error(request: CompletionRequest, said: str, line: str) -> JackfieldError:
    """Return the error an `{"error": ...}` line inside a 2xx stream means.

    Raised from the parser: before any text reached the caller the core retries or falls
    back as for a 5xx reply; after some, the caller gets a PartialResponseError.
    """
    if "not found" in said:
        return UnknownModelError.from_service(request.provider, request.model.id, said)
    return error_for_status(request.provider, 500, body=line,
                            reason="the model failed while answering")
