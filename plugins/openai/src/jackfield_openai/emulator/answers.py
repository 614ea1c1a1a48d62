"""The emulator's deterministic answers: derived from the request, never canned.

- a plain call: "You said: <the last user text>", with "I got N image(s) (types)" first
  when the last user turn holds image parts;
- after a tool result: "The tool returned: <its content>";
- with tools (and tool_choice not "none"): a call to the chosen (else the first) tool, its
  arguments the minimal instance of its parameters' schema;
- json_schema: the minimal valid instance of the schema (strings without constraints carry
  the user's words); json_object: {"answer": "<the user text>"};
- a reasoning model: "Thinking about: <the user text>" as its reasoning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema

from .validation import Refusal

__all__ = ["image_summary", "instance_of", "last_user_text", "logprob_entries", "reply_text",
           "tool_call_for"]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content
                        if isinstance(part, Mapping) and part.get("type") == "text")
    return ""


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Return the text of the last user message ("" if none)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _mime_of(url: str, param: str) -> str:
    if not url.startswith("data:"):
        return "a URL"
    header, _, data = url.partition(",")
    mime_type = header[5:].split(";")[0]
    if not header.endswith(";base64") or not mime_type.startswith("image/"):
        raise Refusal(400, f"Invalid image URL for '{param}': a data URL must be "
                           "data:image/<type>;base64,<data>.", param=param,
                      code="invalid_image_url")
    try:
        base64.b64decode(data, validate=True)
    except binascii.Error:
        raise Refusal(400, f"Invalid base64 image data in '{param}'.", param=param,
                      code="invalid_image_format") from None
    return mime_type


def image_summary(messages: Sequence[Mapping[str, Any]]) -> str:
    """Return "I got N image(s) (types). " for the last user turn's image parts, else ""."""
    for position in range(len(messages) - 1, -1, -1):
        message = messages[position]
        if message.get("role") != "user":
            continue
        content = message.get("content")
        parts = content if isinstance(content, list) else []
        types = [_mime_of(part["image_url"]["url"], f"messages.[{position}].content")
                 for part in parts if part.get("type") == "image_url"]
        if not types:
            return ""
        return f"I got {len(types)} image{'s' if len(types) > 1 else ''} ({', '.join(types)}). "
    return ""


def reply_text(messages: Sequence[Mapping[str, Any]], model: str) -> str:
    """Return the answer to a plain call, or the one after a tool result."""
    last = messages[-1]
    if last.get("role") == "tool":
        return f"The tool returned: {_text_of(last.get('content'))}"
    said = last_user_text(messages)
    return f"{image_summary(messages)}Hello from the OpenAI emulator ({model}). You said: {said}"


def _string(schema: Mapping[str, Any], words: str) -> str:
    constrained = any(key in schema for key in ("minLength", "maxLength", "pattern", "format"))
    return "" if constrained else words


def _minimal(schema: Any, words: str) -> Any:
    """Return a small instance of a schema; validated by the caller."""
    if not isinstance(schema, Mapping):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _minimal(schema[key][0], words)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        # Every property, not only the required ones: strict schemas require all of them.
        return {name: _minimal(sub, words) for name, sub in properties.items()}
    if kind == "array":
        return [_minimal(schema.get("items", {}), words)
                for _ in range(int(schema.get("minItems", 0)))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "string":
        return _string(schema, words)
    return None


def instance_of(schema: Mapping[str, Any], words: str, param: str) -> Any:
    """Return the minimal instance of schema, checked with jsonschema (400 if unsatisfiable
    by this emulator)."""
    value = _minimal(schema, words)
    try:
        jsonschema.validate(value, schema)
    except jsonschema.SchemaError as error:
        raise Refusal(400, f"Invalid schema for '{param}': {error.message}", param=param,
                      code="invalid_json_schema") from None
    except jsonschema.ValidationError:
        raise Refusal(400, f"The emulator cannot satisfy the schema in '{param}'; use a "
                           "simpler one.", param=param) from None
    return value


def tool_call_for(tools: Sequence[Mapping[str, Any]], choice: Any, words: str,
                  call_number: int) -> dict[str, Any]:
    """Return the tool call to make: the named tool of tool_choice, else the first tool."""
    tool = tools[0]
    if isinstance(choice, Mapping):
        wanted = choice.get("function", {}).get("name")
        matches = [t for t in tools if t["function"]["name"] == wanted]
        if not matches:
            raise Refusal(400, f"Invalid value for 'tool_choice': no function named "
                               f"'{wanted}' was specified in the 'tools' parameter.",
                          param="tool_choice")
        tool = matches[0]
    function = tool["function"]
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    arguments = instance_of(parameters, words, "tools[0].function.parameters")
    digest = hashlib.sha256(f"{function['name']}:{words}:{call_number}".encode()).hexdigest()
    return {"id": f"call_{digest[:24]}", "type": "function",
            "function": {"name": function["name"], "arguments": json.dumps(arguments)}}


def logprob_entries(pieces: Sequence[str], top: int) -> list[dict[str, Any]]:
    """Return an OpenAI logprobs entry per piece, the values derived from the piece."""
    entries = []
    for piece in pieces:
        value = -(int(hashlib.sha256(piece.encode()).hexdigest()[:4], 16) % 2000) / 1000
        alternatives = [{"token": piece, "logprob": value, "bytes": list(piece.encode())}]
        alternatives += [{"token": f"{piece}~{n}", "logprob": value - n,
                          "bytes": list(f"{piece}~{n}".encode())} for n in range(1, top)]
        entries.append({"token": piece, "logprob": value, "bytes": list(piece.encode()),
                        "top_logprobs": alternatives[:top]})
    return entries
