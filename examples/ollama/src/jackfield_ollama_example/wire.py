"""Request bodies for Ollama's native API: `/api/chat` and `/api/embed` (no I/O here)."""

from __future__ import annotations

import base64
import json
from typing import Any

from jackfield.provider import (
    CallParams,
    CompletionRequest,
    EmbeddingRequest,
    ImagePart,
    InvalidRequestError,
    Message,
)

# complete()'s names -> the keys of Ollama's `options` (its Modelfile parameters).
OPTION_NAMES = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "num_predict",
                "presence_penalty": "presence_penalty",
                "frequency_penalty": "frequency_penalty", "seed": "seed"}
# reasoning_effort -> Ollama's `think`: a level for the models that take one, or off.
THINK = {"none": False, "low": "low", "medium": "medium", "high": "high"}


def chat_body(request: CompletionRequest) -> dict[str, Any]:
    """Return the `/api/chat` body: messages, options, format, tools and think."""
    params = request.params
    body: dict[str, Any] = {"model": request.model.id, "stream": request.stream,
                            "messages": messages(request.messages)}
    options = {wire: value for name, wire in OPTION_NAMES.items()
               if (value := getattr(params, name)) is not None}
    if params.stop:
        options["stop"] = list(params.stop)
    if "num_ctx" in request.options:  # an option whose default is None is absent unless given
        options["num_ctx"] = request.options["num_ctx"]
    if options:
        body["options"] = options
    if "keep_alive" in request.options:
        body["keep_alive"] = request.options["keep_alive"]
    if params.response_format is not None:
        # Ollama's `format` is "json" or the JSON schema itself (no name, no strict flag).
        fmt = params.response_format
        body["format"] = "json" if fmt.type == "json_object" else dict(fmt.schema or {})
    tools = tool_list(params)
    if tools:
        body["tools"] = tools
    if params.reasoning_effort is not None:
        if params.reasoning_effort not in THINK:
            raise InvalidRequestError(
                f"ollama: reasoning_effort {params.reasoning_effort!r} has no Ollama "
                f"equivalent; use one of {', '.join(THINK)}.", param="reasoning_effort")
        body["think"] = THINK[params.reasoning_effort]
    return body


def tool_list(params: CallParams) -> list[dict[str, Any]]:
    """Return the tools in OpenAI's function form, which Ollama takes as it is.

    Ollama has no tool_choice: "auto" is its only behaviour and "none" is sent as no tools;
    a call that must use a tool is refused rather than silently left to the model.
    """
    choice = params.tool_choice.mode if params.tool_choice is not None else "auto"
    if choice == "none":
        return []
    if choice != "auto":
        raise InvalidRequestError(f"ollama cannot force a tool call (tool_choice={choice!r}); "
                                  "use 'auto' or 'none'.", param="tool_choice")
    if params.parallel_tool_calls is False:
        raise InvalidRequestError("ollama cannot limit a reply to one tool call; leave "
                                  "parallel_tool_calls unset.", param="parallel_tool_calls")
    return [tool.to_dict() for tool in params.tools]


def messages(turns: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Return the messages in Ollama's shape: images as base64, tool results named."""
    tool_names: dict[str, str] = {}  # tool_call_id -> the tool's name, for "tool" turns
    result = []
    for index, message in enumerate(turns):
        where = f"messages[{index}]"
        content = message.content
        if message.name:  # Ollama has no speaker names: say it in the text, do not drop it
            content = f"{message.name}: {content}"
        entry: dict[str, Any] = {"role": message.role, "content": content}
        images = [_base64(part, f"{where}.content[{number}]")
                  for number, part in enumerate(message.parts) if isinstance(part, ImagePart)]
        if images:
            entry["images"] = images
        if message.tool_calls:
            entry["tool_calls"] = []
            for call in message.tool_calls:
                tool_names[call.id] = call.name
                entry["tool_calls"].append({"function": {
                    "name": call.name, "arguments": _arguments(call.arguments, where)}})
        if message.role == "tool" and message.tool_call_id in tool_names:
            entry["tool_name"] = tool_names[message.tool_call_id]
        result.append(entry)
    return result


def _base64(part: ImagePart, where: str) -> str:
    """Return an image's bytes in base64, Ollama's only image form.

    The core has already decoded `data:` URLs into bytes. An http(s) URL would need a
    download, and the build hook does no I/O: it is refused, saying what to send instead.
    """
    if part.data is None:
        raise InvalidRequestError(f"{where}: ollama takes image bytes, not links: send the "
                                  "image itself (a data: URL or ImagePart(data=...)).",
                                  param=where)
    return base64.b64encode(part.data).decode("ascii")


def _arguments(text: str, where: str) -> Any:
    """Return a replayed tool call's arguments as the JSON object Ollama wants."""
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidRequestError(f"{where}: a tool call's arguments are not JSON: "
                                  f"{text[:60]!r}.", param=f"{where}.tool_calls") from None


def embed_body(request: EmbeddingRequest) -> dict[str, Any]:
    """Return the `/api/embed` body: every input in one request."""
    body: dict[str, Any] = {"model": request.model.id, "input": list(request.inputs)}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    for name in ("truncate", "keep_alive"):
        if name in request.options:
            body[name] = request.options[name]
    return body
