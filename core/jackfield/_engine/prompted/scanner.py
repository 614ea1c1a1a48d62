"""Where a streamed reply may begin a tool call: text before that point is shown as it
arrives, and only the rest is held back until the reply ends.

A call may begin at the opening tag, at a code fence whose body begins like a call (models
put fences mid-line too: "Sure! ```json"), or at a JSON object or list whose first key is
one a call starts with ("name", "function", "tool_calls", ...). Each such position is judged
on a short, bounded look-ahead, and text already judged is not scanned again: the work is
linear in the reply.
"""

from __future__ import annotations

import re

from jackfield._engine.prompted.render import OPEN_TAG

__all__ = ["CALL", "MAYBE", "NOT", "TRIGGER", "Scanner", "judge"]

NOT, MAYBE, CALL = 0, 1, 2
TRIGGER = re.compile(r"[<`{\[]")
SPACE = " \t\r\n"
LOOKAHEAD = 256  # spaces skipped at most while judging one position
INFO_MAX = 40  # the longest fence info line ("```json") judged
KEY_MAX = 32
CALL_KEYS = frozenset({"name", "arguments", "function", "tool_calls", "tool_call"})
FENCE_INFOS = frozenset({"", "json", "jsonc", "json5", "tool_call", "tool_calls", "xml"})
_FUNCTION = '"function"'


def _undecided(final: bool) -> int:
    return NOT if final else MAYBE


def _after_space(text: str, start: int) -> int:
    """Return the first non-space position from start: len(text) if the text ends first,
    -1 if more than LOOKAHEAD spaces come first."""
    end = min(len(text), start + LOOKAHEAD)
    i = start
    while i < end and text[i] in SPACE:
        i += 1
    if i == end and end < len(text):
        return -1
    return i


def _judge_tag(text: str, p: int, final: bool) -> int:
    seen = text[p:p + len(OPEN_TAG)].lower()
    if seen == OPEN_TAG:
        return CALL
    if len(seen) < len(OPEN_TAG) and OPEN_TAG.startswith(seen):
        # A reply cut off inside the tag itself still tried to call a tool.
        return CALL if final and len(seen) >= 5 else _undecided(final)
    return NOT


def _judge_fence(text: str, p: int, final: bool) -> int:
    ticks = text[p:p + 3]
    if ticks != "```":
        return _undecided(final) if len(ticks) < 3 and ticks == "`" * len(ticks) else NOT
    newline = text.find("\n", p + 3, p + 3 + INFO_MAX)
    if newline < 0:
        return _undecided(final) if len(text) < p + 3 + INFO_MAX else NOT
    if text[p + 3:newline].strip().lower() not in FENCE_INFOS:
        return NOT
    q = _after_space(text, newline + 1)
    if q < 0:
        return NOT
    if q == len(text):
        return _undecided(final)
    return judge(text, q, final) if text[q] in "<{[" else NOT


def _judge_type(text: str, after_key: int, final: bool) -> int:
    """{"type": "function", ...} is OpenAI's shape of a call; any other type is not."""
    colon = _after_space(text, after_key)
    if colon < 0 or (colon < len(text) and text[colon] != ":"):
        return NOT
    if colon == len(text):
        return _undecided(final)
    q = _after_space(text, colon + 1)
    if q < 0:
        return NOT
    value = text[q:q + len(_FUNCTION)]
    if value == _FUNCTION:
        return CALL
    return _undecided(final) if _FUNCTION.startswith(value) else NOT


def _judge_object(text: str, p: int, final: bool) -> int:
    q = _after_space(text, p + 1)
    if q < 0:
        return NOT
    if q == len(text):
        return _undecided(final)
    if text[q] != '"':
        return NOT
    end = text.find('"', q + 1, q + 2 + KEY_MAX)
    if end < 0:
        partial = text[q + 1:q + 2 + KEY_MAX]
        if len(partial) > KEY_MAX or not any(key.startswith(partial)
                                             for key in (*CALL_KEYS, "type")):
            return NOT
        if not final:
            return MAYBE
        # The reply ended inside the first key: a call cut short if it got as far as `{"na`.
        return CALL if len(partial) >= 2 and any(key.startswith(partial)
                                                 for key in CALL_KEYS) else NOT
    key = text[q + 1:end]
    if key in CALL_KEYS:
        return CALL
    return _judge_type(text, end + 1, final) if key == "type" else NOT


def judge(text: str, p: int, final: bool) -> int:
    """Return whether a tool call begins at p: NOT, CALL, or MAYBE (more text is needed).

    With final (the reply has ended) the answer is NOT or CALL.
    """
    char = text[p]
    if char == "<":
        return _judge_tag(text, p, final)
    if char == "`":
        return _judge_fence(text, p, final)
    if char == "[":
        q = _after_space(text, p + 1)
        if q < 0:
            return NOT
        if q == len(text):
            return _undecided(final)
        return _judge_object(text, q, final) if text[q] == "{" else NOT
    return _judge_object(text, p, final)


class Scanner:
    """Splits a reply fed piece by piece into text to show now and the part held back from
    the first position where a tool call begins."""

    def __init__(self) -> None:
        self._tail = ""  # not yet judged: it starts at a position that needs more text
        self._held: list[str] | None = None

    @property
    def held(self) -> str:
        """Return the text from the first tool call on ("" if none began)."""
        return "".join(self._held) if self._held is not None else ""

    def feed(self, piece: str, *, final: bool = False) -> str:
        """Add piece; return the text that can be shown now."""
        if self._held is not None:
            self._held.append(piece)
            return ""
        text = self._tail + piece
        start = 0
        while (match := TRIGGER.search(text, start)) is not None:
            p = match.start()
            verdict = judge(text, p, final)
            if verdict == NOT:
                start = p + 1
                continue
            if verdict == CALL:
                self._held, self._tail = [text[p:]], ""
            else:
                self._tail = text[p:]
            return text[:p]
        self._tail = ""
        return text

    def finish(self) -> str:
        """End of the reply: return what is left to show (the held part stays held)."""
        if self._held is not None or not self._tail:
            return ""
        tail, self._tail = self._tail, ""
        return self.feed(tail, final=True)
