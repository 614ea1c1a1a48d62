"""The first-class parameters of a call (OpenAI's names), as a provider receives them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["CallParams", "ResponseFormat", "Tool", "ToolChoice"]


@attrs.frozen
class Tool:
    """A function the model may call: its name, description and JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = attrs.field(factory=lambda: {"type": "object",
                                                                 "properties": {}})
    strict: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return OpenAI's wire form: {"type": "function", "function": {...}}."""
        function: dict[str, Any] = {"name": self.name, "parameters": dict(self.parameters)}
        if self.description:
            function["description"] = self.description
        if self.strict is not None:
            function["strict"] = self.strict
        return {"type": "function", "function": function}


@attrs.frozen
class ToolChoice:
    """Whether the model must call a tool: "auto", "none", "required", or one "function"
    named by `name`."""

    mode: Literal["auto", "none", "required", "function"]
    name: str | None = None

    def to_wire(self) -> str | dict[str, Any]:
        """Return OpenAI's wire form: the mode, or {"type": "function", ...} for one tool."""
        if self.mode == "function":
            return {"type": "function", "function": {"name": self.name}}
        return self.mode


@attrs.frozen
class ResponseFormat:
    """The shape the reply must take: "json_object", or "json_schema" with its schema."""

    type: Literal["json_object", "json_schema"]
    name: str = "response"
    schema: Mapping[str, Any] | None = None
    strict: bool | None = None
    description: str = ""

    def to_wire(self) -> dict[str, Any]:
        """Return OpenAI's wire form of the response format."""
        if self.type == "json_object":
            return {"type": "json_object"}
        inner: dict[str, Any] = {"name": self.name, "schema": dict(self.schema or {})}
        if self.strict is not None:
            inner["strict"] = self.strict
        if self.description:
            inner["description"] = self.description
        return {"type": "json_schema", "json_schema": inner}


@attrs.frozen
class CallParams:
    """What the caller asked for that this model will be sent (the core has already left out
    what the model does not honour, and applies `stop` itself where the model cannot).

    `to_openai()` gives the set fields under OpenAI's names, for a provider whose service
    speaks OpenAI's chat API.
    """

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None

    def to_openai(self) -> dict[str, Any]:
        """Return the set fields in OpenAI's chat-completions wire form."""
        result: dict[str, Any] = {}
        for name in ("temperature", "top_p", "max_tokens", "presence_penalty",
                     "frequency_penalty", "seed", "parallel_tool_calls", "reasoning_effort",
                     "logprobs", "top_logprobs"):
            value = getattr(self, name)
            if value is not None:
                result[name] = value
        if self.stop:
            result["stop"] = list(self.stop)
        if self.tools:
            result["tools"] = [tool.to_dict() for tool in self.tools]
        if self.tool_choice is not None:
            result["tool_choice"] = self.tool_choice.to_wire()
        if self.response_format is not None:
            result["response_format"] = self.response_format.to_wire()
        return result


NO_PARAMS = CallParams()
