"""Prompted tools and JSON (opt-in): for a model without native tool calling or JSON mode,
the tools or the schema are described in the prompt and the reply is parsed back into real
tool calls or validated JSON. A reply that does not parse raises UnparsableReplyError.

`render` writes what the model is sent, `scanner` finds where a streamed reply may begin a
call, `reply` reads the finished reply, `checks` holds it to the tools and schemas, and
`stage` turns the provider's events into the caller's.
"""

from __future__ import annotations

from jackfield._engine.planning import Stage
from jackfield._engine.prompted.render import (
    instructions,
    offers_tools,
    rewrite_history,
    with_instructions,
)
from jackfield._engine.prompted.stage import prompted_stage
from jackfield._types.messages import Message
from jackfield._types.notices import CallWarning
from jackfield._types.params import CallParams

__all__ = ["prompted_plan"]


def prompted_plan(provider: str, messages: tuple[Message, ...], params: CallParams,
                  emulate: frozenset[str],
                  ) -> tuple[tuple[Message, ...], Stage, list[CallWarning]]:
    """Return the messages to send instead, the stage that parses the reply, and warnings.

    emulate holds "tools" and/or "json". With "tools" the tool history is rewritten into
    plain turns (the model has no tool roles) and the tools are described; with "json" the
    schema is. Every rule of the call is asked in the prompt and checked on the reply
    (parallel_tool_calls false included: a reply with two calls is refused), so the one
    warning is for a native JSON schema, which leaves the model no way to call a tool.
    """
    warnings = []
    if "tools" in emulate:
        messages = rewrite_history(messages)
        response_format = params.response_format
        if ("json" not in emulate and offers_tools(params) and response_format is not None
                and response_format.type == "json_schema"):
            warnings.append(CallWarning("tools", (
                f"the tools are described in the prompt, but {provider} holds the reply to the "
                "JSON schema itself: the model can answer but cannot call a tool.")))
    text = instructions(params, emulate)
    if text:
        messages = with_instructions(messages, text)
    return messages, prompted_stage(provider, params, emulate), warnings
