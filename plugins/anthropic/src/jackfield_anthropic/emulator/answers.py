"""The emulator's deterministic answers: derived from the request, never canned.

- a plain call: "Hello from the Anthropic emulator (<model>). You said: <the last user
  text>", led by "I got N image(s) (types). " when the last user turn holds images;
- after tool results: "The tool returned: <their text>";
- with tools (tool_choice not "none", the last turn no tool results): a `tool_use` of the
  chosen (else the first) tool, its input the smallest instance of its input_schema (strings
  without constraints carry the user's words);
- with thinking enabled: a thinking block "Thinking about: <the user text>", signed;
- stop_sequences cut the text at the first one (stop_reason "stop_sequence"); more words
  than max_tokens cut it there ("max_tokens").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import jsonschema

from jackfield.testing import words_of

from .refusals import Refusal

__all__ = ["Answer", "answer_for", "schema_instance", "stream_pieces"]


@attrs.frozen
class Answer:
    """What the emulator answers: its content blocks, why it stopped, its token counts."""

    blocks: tuple[dict[str, Any], ...]
    stop_reason: str
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int

    def usage(self) -> dict[str, int]:
        """Return the usage object, cache counts included as the API gives them."""
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(block["text"] for block in content if block.get("type") == "text")


def _last_user_text(turns: Sequence[Mapping[str, Any]]) -> str:
    for turn in reversed(turns):
        if turn["role"] == "user":
            said = _text(turn["content"])
            if said:
                return said
    return ""


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def _smallest(schema: Any, words: str) -> Any:
    """Return a small instance of a JSON schema (checked by the caller)."""
    if not isinstance(schema, Mapping):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _smallest(schema[key][0], words)
    kinds = schema.get("type")
    kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) \
        else kinds
    if kind == "object" or "properties" in schema:
        return {name: _smallest(sub, words)
                for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_smallest(schema.get("items"), words)
                for _ in range(int(schema.get("minItems", 0)))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "string":
        shaped = any(key in schema for key in ("minLength", "maxLength", "pattern", "format"))
        return "" if shaped else words
    return False if kind == "boolean" else None


def schema_instance(schema: Mapping[str, Any], words: str, where: str) -> Any:
    """Return the smallest instance of schema, validated (400 when this emulator cannot
    satisfy it, or the schema is no schema)."""
    value = _smallest(schema, words)
    try:
        jsonschema.validate(value, schema)
    except jsonschema.SchemaError as error:
        raise Refusal(f"{where}: JSON schema is invalid: {error.message}") from None
    except jsonschema.ValidationError:
        raise Refusal(f"{where}: the emulator cannot satisfy this schema; use a simpler "
                      "one.") from None
    return value


def _image_summary(turn: Mapping[str, Any]) -> str:
    if turn["role"] != "user":
        return ""
    types = [block["source"].get("media_type", "a URL") for block in turn["content"]
             if block.get("type") == "image"]
    if not types:
        return ""
    return f"I got {len(types)} image{'s' if len(types) > 1 else ''} ({', '.join(types)}). "


def _tool_use(body: Mapping[str, Any], words: str, number: int) -> dict[str, Any]:
    tools, choice = body["tools"], body.get("tool_choice") or {}
    tool = next((t for t in tools if t["name"] == choice.get("name")), tools[0])
    position = tools.index(tool)
    arguments = schema_instance(tool["input_schema"], words, f"tools.{position}.input_schema")
    return {"type": "tool_use", "id": "toolu_" + _digest(tool["name"], words, number)[:24],
            "name": tool["name"], "input": arguments}


def _cut(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    found = [(text.index(stop), stop) for stop in stops if stop in text]
    if not found:
        return text, None
    at, stop = min(found)
    return text[:at], stop


def answer_for(body: Mapping[str, Any], turns: Sequence[Mapping[str, Any]]) -> Answer:
    """Return the deterministic answer to a checked body and its combined turns."""
    model, last = body["model"], turns[-1]
    words = _last_user_text(turns)
    input_tokens = sum(len(_text(t["content"]).split()) + 3 for t in turns) + len(
        str(body.get("system") or "").split())
    blocks: list[dict[str, Any]] = []
    output = 0
    if (body.get("thinking") or {}).get("type") in ("enabled", "adaptive"):
        thought = f"Thinking about: {words}"
        blocks.append({"type": "thinking", "thinking": thought,
                       "signature": "sig_" + _digest("thinking", thought)[:40]})
        output += len(words_of(thought))
    results = [b for b in last["content"] if b.get("type") == "tool_result"] \
        if last["role"] == "user" else []
    if body.get("tools") and (body.get("tool_choice") or {}).get("type") != "none" \
            and not results:
        blocks.append(_tool_use(body, words, len(turns)))
        return Answer(tuple(blocks), "tool_use", None, input_tokens, output + 8)
    if results:
        text = "The tool returned: " + " ".join(_text(r.get("content", "")) for r in results)
    else:
        text = f"{_image_summary(last)}Hello from the Anthropic emulator ({model}). " \
               f"You said: {words}"
    text, stop = _cut(text, body.get("stop_sequences") or ())
    pieces = words_of(text)
    reason = "stop_sequence" if stop is not None else "end_turn"
    if len(pieces) > body["max_tokens"]:
        pieces, reason, stop = pieces[:body["max_tokens"]], "max_tokens", None
    if pieces:
        blocks.append({"type": "text", "text": "".join(pieces)})
    return Answer(tuple(blocks), reason, stop, input_tokens, output + len(pieces))


def stream_pieces(block: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the deltas a block streams as: words of text and thinking (then its
    signature), the JSON of a tool's input in three fragments (led by an empty one)."""
    kind = block["type"]
    if kind == "text":
        return [{"type": "text_delta", "text": piece} for piece in words_of(block["text"])]
    if kind == "thinking":
        return [*({"type": "thinking_delta", "thinking": piece}
                  for piece in words_of(block["thinking"])),
                {"type": "signature_delta", "signature": block["signature"]}]
    arguments = json.dumps(block["input"])
    step = max(1, len(arguments) // 3)
    return [{"type": "input_json_delta", "partial_json": ""}, *(
        {"type": "input_json_delta", "partial_json": arguments[at:at + step]}
        for at in range(0, len(arguments), step))]
