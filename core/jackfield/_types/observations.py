"""What a call tells its observers (`jackfield_observe(event)`): frozen attrs objects of
names, counts, durations (seconds) and the masked typed error, never a prompt, a reply or a
credential. Every event has `call` (the CallInfo shared by all of one call's events) and `at`
(time.time() when it happened). `jackfield._engine.observers` makes and delivers them.
"""

from __future__ import annotations

import attrs

from jackfield._errors import JackfieldError
from jackfield._types.events import Usage

__all__ = ["CallCancelled", "CallFailed", "CallFinished", "CallInfo", "CallStarted",
           "FirstToken", "ProviderFallback", "TryFailed", "TryStarted"]


@attrs.frozen
class CallInfo:
    """One call as its observers know it, shared by all of its events."""

    id: int  # unique in this process: tells concurrent calls' events apart
    operation: str  # "chat", "image" or "embeddings"
    model: str  # the name the caller asked for (a model, provider/model, alias or route)
    stream: bool
    candidates: tuple[str, ...]  # the providers it may try, in order
    max_tokens: int | None = None  # as the first candidate is sent them
    temperature: float | None = None
    started_at: float = 0.0  # time.time() when the call began


@attrs.frozen
class CallStarted:
    """A call began (its input checked, its providers chosen)."""

    call: CallInfo
    at: float


@attrs.frozen
class TryStarted:
    """One try of one provider began; attempt counts from 1 for each provider."""

    call: CallInfo
    at: float
    provider: str
    model_id: str  # the id this provider is sent
    attempt: int
    server_address: str | None = None  # host and port of the provider's base URL
    server_port: int | None = None


@attrs.frozen
class TryFailed:
    """A try failed: retry_in seconds until the same provider is tried again, or None when
    the call moves on (to the next provider, or fails); cooldown: seconds the provider is
    now skipped for, when this failure put it on cooldown."""

    call: CallInfo
    at: float
    provider: str
    model_id: str
    attempt: int
    error: JackfieldError
    duration: float
    retry_in: float | None = None
    cooldown: float | None = None


@attrs.frozen
class ProviderFallback:
    """The call moved on from one provider to the next, after error."""

    call: CallInfo
    at: float
    from_provider: str
    to_provider: str
    error: JackfieldError


@attrs.frozen
class FirstToken:
    """The first piece of content (text, reasoning, tool call or image) arrived."""

    call: CallInfo
    at: float
    provider: str
    model_id: str
    time_to_first_token: float  # seconds since the call began


@attrs.frozen
class CallFinished:
    """The call delivered its whole reply. overhead: seconds the core spent on the call
    before each try's request went out (checks, routing, building requests), retry waits
    and the provider's time excluded; None where it was not measured."""

    call: CallInfo
    at: float
    provider: str
    model_id: str
    duration: float
    tries: int
    usage: Usage | None = None
    finish_reason: str | None = None
    time_to_first_token: float | None = None
    overhead: float | None = None


@attrs.frozen
class CallFailed:
    """The call failed with error (the one it raises: typed, its secrets masked)."""

    call: CallInfo
    at: float
    error: Exception
    duration: float
    tries: int
    provider: str | None = None  # the provider that was answering, if content had come


@attrs.frozen
class CallCancelled:
    """The caller stopped reading (or was cancelled) before the reply ended."""

    call: CallInfo
    at: float
    duration: float
    tries: int
    provider: str | None = None
