"""Reading a finished reply: the tool calls in it and the prose around them, and a prompted
JSON answer. Lenient in what real models write (fences, prose around, several calls, a
missing closing tag), strict in what comes out: a call that was begun but does not parse is
a ReplyProblem, never text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import attrs

from jackfield._engine.prompted.render import CLOSE_TAG, OPEN_TAG, TEMPLATE_BODY
from jackfield._engine.prompted.scanner import CALL, TRIGGER, judge

__all__ = ["Called", "ReplyProblem", "calls_in", "excerpt", "json_end", "json_spans", "loads",
           "split_calls"]

_MARKS = re.compile(r'["{}\[\]]')
_STRING_BODY = re.compile(r'(?:[^"\\\n]|\\[^\n])*')  # JSON strings hold no line break
_SPACE = re.compile(r"\s*")
_FENCE = re.compile(r"```[^\n`]*\n")
_OPENER = re.compile(r"[{\[]")
EXCERPT = 120
MAX_CANDIDATES = 8  # starts of a JSON answer tried inside prose
MENTION_WINDOW = 2000  # a tag with no JSON and no closing tag this near is only named


class ReplyProblem(Exception):
    """The reply does not parse into what was asked for; truncated: it ended too soon."""

    def __init__(self, message: str, *, truncated: bool = False) -> None:
        super().__init__(message)
        self.truncated = truncated


@attrs.frozen
class Called:
    """A call as the model wrote it: the name, and the arguments (an object, or JSON text)."""

    name: str
    arguments: Any


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _skip(text: str, i: int) -> int:
    match = _SPACE.match(text, i)
    assert match is not None  # \s* matches everywhere
    return match.end()


def loads(text: str) -> Any:
    """Decode strict JSON: NaN and Infinity, which Python accepts, are refused."""
    value, end = _DECODER.raw_decode(text, _skip(text, 0))
    if _skip(text, end) != len(text):
        raise ValueError(f"extra data after the JSON value at char {end}")
    return value


def excerpt(text: str, start: int) -> str:
    shown = text[start:start + EXCERPT]
    return repr(shown + ("…" if len(text) > start + EXCERPT else ""))


def json_end(text: str, start: int) -> int | None:
    """Return the end of the JSON object or list at start (or where it breaks, for the
    decoder to report), or None if the text ends inside it."""
    depth = 0
    at = start
    while (mark := _MARKS.search(text, at)) is not None:
        if mark.group() == '"':
            body = _STRING_BODY.match(text, mark.end())
            assert body is not None  # the pattern matches the empty string
            end = body.end()
            if end >= len(text) or (text[end] == "\\" and end + 1 == len(text)):
                return None  # the text ends inside a string
            if text[end] != '"':
                return end  # a line break inside a string: broken here
            at = end + 1
            continue
        depth += 1 if mark.group() in "{[" else -1
        if depth <= 0:
            return mark.end()
        at = mark.end()
    return None


def _one_call(item: Any, tagged: bool) -> Called | None:
    if not isinstance(item, dict):
        return None
    inner = item.get("function")
    if isinstance(inner, dict) and set(item) <= {"function", "type", "id"}:
        item = inner  # OpenAI's shape: {"type": "function", "function": {...}}
    name = item.get("name")
    if not isinstance(name, str):
        return None
    for key in ("arguments", "parameters"):  # Llama writes "parameters"
        if key in item:
            return Called(name, item[key])
    # Inside the tag the model clearly calls: no arguments means none.
    return Called(name, {}) if tagged else None


def calls_in(value: Any, tagged: bool) -> list[Called] | None:
    """Return the calls a JSON value holds, or None if it is not shaped like calls."""
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    items = value if isinstance(value, list) else [value]
    calls = [_one_call(item, tagged) for item in items]
    if not calls or None in calls:
        return None
    return [call for call in calls if call is not None]


def _decoded(text: str, start: int, end: int | None) -> Any:
    if end is None:
        raise ReplyProblem("the reply ends inside a tool call", truncated=True)
    try:
        return loads(text[start:end])
    except ValueError as error:
        raise ReplyProblem(f"a tool call in the reply is not valid JSON ({error}): "
                           f"{excerpt(text, start)}") from None


def _is_template(text: str, start: int) -> bool:
    """Return True if the block at start is the format's template (a quoted prompt)."""
    close = text.find(CLOSE_TAG, start, start + 2 * len(TEMPLATE_BODY))
    return close >= 0 and " ".join(text[start:close].split()) == TEMPLATE_BODY


def _tag_block(text: str, p: int) -> tuple[int, list[Called] | None]:
    q = _skip(text, p + len(OPEN_TAG))
    fenced = text.startswith("```", q)
    if fenced:
        newline = text.find("\n", q)
        q = len(text) if newline < 0 else _skip(text, newline + 1)
    if q >= len(text):
        raise ReplyProblem("the reply ends inside a tool call", truncated=True)
    if _is_template(text, q):
        return text.find(CLOSE_TAG, q) + len(CLOSE_TAG), None
    if text[q] not in "{[":
        if text.find(CLOSE_TAG, q, q + MENTION_WINDOW) < 0:
            return q, None  # the tag named in prose ("I need no <tool_call> here")
        raise ReplyProblem(f"a tool_call block must hold {TEMPLATE_BODY}; the reply has "
                           f"{excerpt(text, q)}")
    end = json_end(text, q)
    found = calls_in(_decoded(text, q, end), tagged=True)
    if found is None:
        raise ReplyProblem(f"a tool_call block must hold {TEMPLATE_BODY}; the reply has "
                           f"{excerpt(text, q)}")
    assert end is not None
    r = _skip(text, end)
    if fenced and text.startswith("```", r):
        r = _skip(text, r + 3)
    if text[r:r + len(CLOSE_TAG)].lower() == CLOSE_TAG:
        r += len(CLOSE_TAG)  # a missing closing tag is forgiven: the JSON is complete
    return r, found


def _fence_block(text: str, p: int, inner: list[str]) -> tuple[int, list[Called] | None]:
    """Read the fence at p; the prose inside it, besides its calls, goes to inner."""
    body = text.find("\n", p) + 1
    close = text.find("```", body)
    body_end, end = (len(text), len(text)) if close < 0 else (close, close + 3)
    found = _read(text[body:body_end], inner)
    return end, found or None


def _read(text: str, prose: list[str]) -> list[Called]:
    """Return the calls in text, in order, adding the prose between them to prose."""
    calls: list[Called] = []
    start = shown = 0
    while (match := TRIGGER.search(text, start)) is not None:
        p = match.start()
        if judge(text, p, True) != CALL:
            start = p + 1
            continue
        inner: list[str] = []
        if text[p] == "<":
            end, found = _tag_block(text, p)
        elif text[p] == "`":
            end, found = _fence_block(text, p, inner)
        else:
            end_at = json_end(text, p)
            found = calls_in(_decoded(text, p, end_at), tagged=False)
            end = end_at or len(text)
        if found:
            prose.append(text[shown:p])
            prose.extend(inner)
            calls.extend(found)
            shown = end
        start = max(end, p + 1)  # what a block spans is not judged again
    prose.append(text[shown:])
    return calls


def split_calls(text: str) -> tuple[str, list[Called]]:
    """Return the prose of text (its pieces stripped and joined) and the calls in it."""
    pieces: list[str] = []
    calls = _read(text, pieces)
    if not calls:
        return text, []
    return "\n\n".join(piece.strip() for piece in pieces if piece.strip()), calls


def json_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield where a JSON answer may be in text: all of it, fenced blocks, then the first
    objects or lists found in prose. Raises a truncated ReplyProblem when one never ends."""
    start = len(text) - len(text.lstrip())
    if start < len(text):
        yield start, len(text.rstrip())
    at = 0
    while (fence := _FENCE.search(text, at)) is not None:
        close = text.find("```", fence.end())
        yield fence.end(), len(text) if close < 0 else close
        at = len(text) if close < 0 else close + 3  # a closing fence opens nothing
    start = tried = 0
    while tried < MAX_CANDIDATES and (found := _OPENER.search(text, start)):
        end = json_end(text, found.start())
        if end is None:
            raise ReplyProblem("the reply ends before its JSON does", truncated=True)
        yield found.start(), end
        start, tried = end, tried + 1
