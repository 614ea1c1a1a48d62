"""What a model without native tools or JSON mode is sent instead: instructions that describe
the tools (or the schema) and the exact reply format, and a tool history rewritten into plain
turns, since such a model knows no tool roles.

The call format is the tagged one many open models were trained on (Hermes, Qwen):

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

A tag is easy to find in a stream and rare in prose, so text before it can be shown at once.
The instructions write the literal opening tag only in TEMPLATE (placeholders, no real call):
a model, or an emulator, that repeats its prompt must not look like it calls a tool.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from jackfield._types.content import TextPart
from jackfield._types.messages import Message, Part
from jackfield._types.params import CallParams, ResponseFormat, Tool

__all__ = ["CLOSE_TAG", "OPEN_TAG", "TEMPLATE_BODY", "call_block", "instructions",
           "offers_tools", "rewrite_history", "with_instructions"]

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
TEMPLATE_BODY = '{"name": <tool name>, "arguments": <arguments as a JSON object>}'
TEMPLATE = f"{OPEN_TAG}\n{TEMPLATE_BODY}\n{CLOSE_TAG}"


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _tool_text(tool: Tool) -> str:
    lines = [f"### {tool.name}"]
    if tool.description:
        lines.append(tool.description)
    lines.append(f"Parameters (JSON schema): {_json(dict(tool.parameters))}")
    return "\n".join(lines)


def _choice_rule(params: CallParams) -> str:
    choice = params.tool_choice
    if choice is not None and choice.mode == "required":
        return "You must call at least one tool in this reply."
    if choice is not None and choice.mode == "function":
        return f"You must call the tool {choice.name} in this reply."
    return "If no tool is needed, answer in plain text, without any tool_call block."


def _tools_section(params: CallParams) -> str:
    if not offers_tools(params):
        # Only the history needs the format: the caller offers no tools for this reply.
        return "No tools can be called in this reply: answer in plain text."
    tools = "\n\n".join(_tool_text(tool) for tool in params.tools)
    many = ("Call at most one tool in this reply." if params.parallel_tool_calls is False
            else "Write one block per call; you may call several tools in one reply.")
    return (
        "You can call the following tools (functions).\n\n"
        f"{tools}\n\n"
        "To call a tool, write a tool_call block: the opening tool_call tag on its own line, "
        'then a JSON object on one line with the tool\'s "name" and its "arguments" (an '
        "object that matches the tool's parameters schema), then the closing tag, exactly "
        f"like this:\n{TEMPLATE}\n"
        f"{many} After your call(s) write nothing more: each result comes back in the next "
        "message, in a tool_result block that names the call.\n"
        f"{_choice_rule(params)}"
    )


def _json_section(response_format: ResponseFormat, with_tools: bool) -> str:
    when = "When you answer without calling a tool, your answer must be" if with_tools else (
        "Your reply must be")
    if response_format.type == "json_object":
        return (f"{when} a single JSON object and nothing else: no prose before or after it, "
                "no Markdown code fence.")
    about = f' "{response_format.name}"'
    if response_format.description:
        about += f" ({response_format.description})"
    return (f"{when} a single JSON value that matches the JSON schema{about} below, and "
            "nothing else: no prose before or after it, no Markdown code fence.\n"
            f"Schema: {_json(dict(response_format.schema or {}))}")


def instructions(params: CallParams, emulate: frozenset[str]) -> str:
    """Return the system instructions for what is emulated ("tools" and/or "json")."""
    sections = []
    if "tools" in emulate:
        sections.append(_tools_section(params))
    response_format = params.response_format
    if "json" in emulate and response_format is not None:
        sections.append(_json_section(response_format, "tools" in emulate and offers_tools(params)))
    elif (response_format is not None and response_format.type == "json_object"
          and "tools" in emulate and offers_tools(params)):
        # The model's own JSON mode allows only an object: the calls must be one.
        sections.append('Your reply is always a JSON object. To call tools, make it an object '
                        'whose only key "tool_calls" holds a list of calls, each an object with '
                        'the keys "name" and "arguments", instead of writing tool_call blocks.')
    return "\n\n".join(sections)


def offers_tools(params: CallParams) -> bool:
    """Return True if the model may call one of the tools in this reply."""
    choice = params.tool_choice
    return bool(params.tools) and not (choice is not None and choice.mode == "none")


def with_instructions(messages: Sequence[Message], text: str) -> tuple[Message, ...]:
    """Return messages with text added to the leading system message (or one put first).

    One system message, not two: several services and models take only the first.
    """
    if messages and messages[0].role == "system" and not messages[0].parts:
        first = messages[0]
        merged = f"{first.content}\n\n{text}" if first.content.strip() else text
        return (Message("system", merged, name=first.name), *messages[1:])
    return (Message("system", text), *messages)


def call_block(name: str, arguments: str) -> str:
    """Return one call in the format the model is asked to write (history uses it too)."""
    try:
        value: object = json.loads(arguments)
    except ValueError:
        value = arguments  # the caller replayed arguments that are not JSON: keep them as text
    return f"{OPEN_TAG}\n{_json({'name': name, 'arguments': value})}\n{CLOSE_TAG}"


def _assistant_turn(message: Message) -> Message:
    blocks = "\n".join(call_block(call.name, call.arguments) for call in message.tool_calls)
    text = f"{message.content.rstrip()}\n{blocks}" if message.content.strip() else blocks
    return Message("assistant", text, name=message.name)


def _result_parts(message: Message, names: dict[str, str]) -> list[Part]:
    call_id = message.tool_call_id or ""
    name = names.get(call_id) or message.name or "unknown"
    head = TextPart(f"<tool_result call_id={_json(call_id)} name={_json(name)}>\n")
    body: list[Part] = list(message.parts) if message.parts else [TextPart(message.content)]
    return [head, *body, TextPart("\n</tool_result>")]


def _results_turn(results: Iterable[Message], names: dict[str, str]) -> Message:
    parts: list[Part] = []
    for message in results:
        if parts:
            parts.append(TextPart("\n"))
        parts.extend(_result_parts(message, names))
    text = "".join(part.text for part in parts if isinstance(part, TextPart))
    # Parts are kept only when a result holds an image; plain text travels as content.
    keep = parts if any(not isinstance(part, TextPart) for part in parts) else []
    return Message("user", text, parts=keep)


def rewrite_history(messages: Sequence[Message]) -> tuple[Message, ...]:
    """Return messages with tool calls as assistant text and tool results as user turns.

    Consecutive results become one user turn: several services refuse two turns in a row.
    """
    names: dict[str, str] = {}
    result: list[Message] = []
    pending: list[Message] = []
    for message in messages:
        if message.role == "tool":
            pending.append(message)
            continue
        if pending:
            result.append(_results_turn(pending, names))
            pending = []
        if message.tool_calls:
            names.update((call.id, call.name) for call in message.tool_calls)
            result.append(_assistant_turn(message))
        else:
            result.append(message)
    if pending:
        result.append(_results_turn(pending, names))
    return tuple(result)

