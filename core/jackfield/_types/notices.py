"""Warnings: what a call accepted but did not send, reported with the answer."""

from __future__ import annotations

import attrs

__all__ = ["CallWarning"]


@attrs.frozen
class CallWarning:
    """Something the call asked for that was accepted but not acted on, and why.

    `param` names the field ("seed", "messages[1].refusal"); str(warning) is the sentence.
    Registry(strict=True) turns each warning into an InvalidRequestError instead.
    """

    param: str
    message: str

    def __str__(self) -> str:
        return self.message
