"""Holding a prompted reply to what the call asked for: each call names one of the tools and
its arguments match that tool's parameter schema, tool_choice and parallel_tool_calls are
obeyed, and a JSON answer matches its schema. jsonschema is imported only to check a reply."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jackfield._engine.prompted.reply import Called, ReplyProblem, excerpt, json_spans, loads
from jackfield._types.params import CallParams

__all__ = ["Checker"]

_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
               int: "a number", float: "a number", type(None): "null"}


def _kind(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


class Checker:
    """Checks the calls or the JSON answer of one call's reply (validators built once)."""

    def __init__(self, params: CallParams) -> None:
        self._params = params
        self._tools = {tool.name: tool for tool in params.tools}
        self._validators: dict[str, Any] = {}

    def _schema_problem(self, key: str, schema: Mapping[str, Any], value: Any) -> str | None:
        import jsonschema  # only a reply that is checked pays for it

        validator = self._validators.get(key)
        if validator is None:
            validator = jsonschema.validators.validator_for(schema)(dict(schema))
            self._validators[key] = validator
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path)
        message: str = error.message
        return message + (f" (at {where})" if where else "")

    def calls(self, calls: list[Called]) -> list[tuple[str, str]]:
        """Return (name, arguments JSON text) of each call; raise ReplyProblem if one is
        not allowed or does not match its tool."""
        choice = self._params.tool_choice
        if not self._tools or (choice is not None and choice.mode == "none"):
            raise ReplyProblem(f"the reply calls {calls[0].name!r}, but no tool may be "
                               "called in this reply")
        if self._params.parallel_tool_calls is False and len(calls) > 1:
            raise ReplyProblem(f"the reply calls {len(calls)} tools, but parallel_tool_calls "
                               "is false")
        return [self._checked(call) for call in calls]

    def _checked(self, call: Called) -> tuple[str, str]:
        tool = self._tools.get(call.name)
        if tool is None:
            raise ReplyProblem(f"the reply calls {call.name!r}, which is not one of the tools "
                               f"({', '.join(self._tools)})")
        choice = self._params.tool_choice
        if choice is not None and choice.mode == "function" and call.name != choice.name:
            raise ReplyProblem(f"the reply calls {call.name}, but tool_choice asks for "
                               f"{choice.name}")
        arguments = call.arguments
        if isinstance(arguments, str):  # OpenAI's wire writes arguments as JSON text
            try:
                arguments = loads(arguments)
            except ValueError as error:
                raise ReplyProblem(f"the arguments of {call.name} are not valid JSON "
                                   f"({error})") from None
        if not isinstance(arguments, dict):
            raise ReplyProblem(f"the arguments of {call.name} must be a JSON object, got "
                               f"{_kind(arguments)}")
        problem = self._schema_problem(f"tool {call.name}", tool.parameters, arguments)
        if problem is not None:
            raise ReplyProblem(f"the arguments of {call.name} do not match its parameters: "
                               f"{problem}")
        return call.name, json.dumps(arguments, ensure_ascii=False)

    def no_call(self) -> None:
        """Raise ReplyProblem if tool_choice required a call."""
        choice = self._params.tool_choice
        if choice is not None and choice.mode == "required":
            raise ReplyProblem("the reply calls no tool, but tool_choice is 'required'")
        if choice is not None and choice.mode == "function":
            raise ReplyProblem(f"the reply does not call {choice.name}, which tool_choice "
                               "requires")

    def _answer_problem(self, value: Any) -> str | None:
        response_format = self._params.response_format
        assert response_format is not None
        if response_format.type == "json_object":
            return None if isinstance(value, dict) else (
                f"the reply's JSON is {_kind(value)}, not an object")
        problem = self._schema_problem("response", response_format.schema or {}, value)
        return None if problem is None else (
            f"the reply's JSON does not match the schema {response_format.name!r}: {problem}")

    def json_answer(self, text: str) -> str:
        """Return the JSON text of the answer in text; raise ReplyProblem if there is none
        that parses and matches."""
        mismatch: str | None = None
        syntax: str | None = None
        for start, end in json_spans(text):
            try:
                value = loads(text[start:end])
            except ValueError as error:
                if syntax is None and text[start] in "{[":
                    syntax = f"the reply's JSON is not valid ({error}): {excerpt(text, start)}"
                continue
            problem = self._answer_problem(value)
            if problem is None:
                return text[start:end].strip()
            mismatch = mismatch or problem
        raise ReplyProblem(mismatch or syntax or f"the reply holds no JSON value: "
                                                 f"{excerpt(text, 0)}")
