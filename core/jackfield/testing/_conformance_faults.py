"""Conformance cases of the fault modes (docs/faults.md): each generic fault of the emulator
kit, streamed and not, must come out as its documented typed outcome — never as content —
and leave no emulator handler running; a short Retry-After is waited for."""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING

import attrs

from jackfield._errors import (
    AuthenticationError,
    PartialResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    ResponseFormatError,
)
from jackfield.testing._conformance_env import ATTEMPTS, READ_IDLE, Case, Env, Failed, Skipped
from jackfield.testing._emulation import FAULT_MODES, PROTOCOL_FAULTS

if TYPE_CHECKING:
    from jackfield._engine.completion import Completion

__all__ = ["fault_cases"]

SLOW_START = 0.25  # well within READ_IDLE
HUGE_LINE = 2 * 1024 * 1024  # over Limits().max_event_bytes (1 MiB), and quicker than 5 MiB
SHORT_RETRY_AFTER = 1  # seconds: within RetryPolicy.max_retry_after, so it is waited for
# What the emulator kit's fault replies say: none of it may ever reach a caller as content.
FAULT_WORDS = ("Too many requests", "Internal Server Error", "Service Unavailable",
               "Forbidden", "Just a moment", "Welcome back! Please sign in", "xxxxxxxxxxxx")


@attrs.frozen
class Expected:
    """A fault's documented outcome: no error (the normal reply), or one of `errors` whose
    message says each of `says`, after `requests` protocol requests (None: not counted)."""

    errors: tuple[type[Exception], ...] = ()
    says: tuple[str, ...] = ()
    requests: int | None = 1
    advice: str = ""


_AS_PARSED = "raise ResponseFormatError from the parser for a reply that breaks the protocol"
EXPECTED: dict[str, Expected] = {
    "rate_limit": Expected((RateLimitError,), ("HTTP 429", "Retry after 120 s"), advice=(
        "let the core map a 429 (return None from jackfield_error_reply), or return "
        "error_for_status(provider, 429, headers=reply.headers, ...) so Retry-After is kept")),
    "error_then_ok": Expected(requests=2),
    "unavailable": Expected((ProviderUnavailableError,), ("HTTP 503",), ATTEMPTS),
    "forbidden_json": Expected((AuthenticationError,), ("HTTP 403",)),
    "challenge_html": Expected((AuthenticationError,), ("Just a moment...",)),
    "html_200": Expected((ResponseFormatError,), ("Welcome back! Please sign in",), advice=(
        "call `await response.refuse_html()` before reading the reply: it names the page")),
    "empty_body": Expected((ResponseFormatError,), advice=_AS_PARSED),
    "stall_after_headers": Expected((ProviderTimeoutError,), ("stalled",)),
    "slow_start": Expected(),
    "huge_line": Expected((ResponseFormatError,), advice=_AS_PARSED),
    "drop_mid_stream": Expected((ProviderUnavailableError,), requests=None, advice=(
        "let the transport's error propagate from the parser (never catch it and finish)")),
    "invalid_lines": Expected((ResponseFormatError,), advice=_AS_PARSED),
    "no_images": Expected((ResponseFormatError,), advice=(
        "raise ResponseFormatError for an image reply without images (image_urls() does)")),
}


async def _run(env: Env, stream: bool, *, image: bool = False,
               pieces: list[str] | None = None) -> Completion:
    model = env.model("image" if image else "chat")
    return await env.call(model, "a lighthouse" if image else "hi", stream=stream,
                          pieces=pieces)


def _same(one: Completion, other: Completion) -> bool:
    return (one.text, [i.data for i in one.images], one.tool_calls) == (
        other.text, [i.data for i in other.images], other.tool_calls)


def _root(error: BaseException) -> BaseException:
    """Return what a PartialResponseError stands for (its cause)."""
    return error.cause if isinstance(error, PartialResponseError) else error


async def check_fault(env: Env, fault: str, stream: bool) -> str:
    """Run one call with fault set and hold its outcome to docs/faults.md."""
    image = fault == "no_images"
    mode = "streamed" if stream else "whole"
    normal = await _run(env, stream, image=image)  # what the emulator answers without it
    faults = env.faults
    faults.slow_start_delay = SLOW_START
    faults.huge_line_bytes = HUGE_LINE
    faults.set(fault)
    expected = EXPECTED[fault]
    mark = env.mark()
    loop = asyncio.get_running_loop()
    started = loop.time()
    error: BaseException | None = None
    pieces: list[str] = []
    try:
        reply = await _run(env, stream, image=image, pieces=pieces)
    except Exception as raised:  # noqa: BLE001  # what kind it is, is what this case checks
        error = raised
    elapsed = loop.time() - started
    requests = len(env.since(mark))
    faults.clear()
    if not faults.applied.get(fault):
        raise Failed(f"the emulator never applied {fault}: the request went to a path "
                     f"outside its fault endpoints ({', '.join(faults.endpoints) or 'every POST'})")
    if error is None:
        shown = (reply.text[:80] if reply.text or not reply.images
                 else f"{len(reply.images)} image(s)")
        if expected.errors and fault in PROTOCOL_FAULTS and _same(reply, normal):
            raise Skipped(f"the emulator answered {fault} normally: it does not produce this "
                          "protocol fault (its handler asks request_fault(request); "
                          "docs/faults.md)")
        if expected.errors:
            raise Failed(f"{fault} ({mode}) came out as a reply ({shown!r}) instead of "
                         f"{' or '.join(e.__name__ for e in expected.errors)}: a failure "
                         f"must never be returned as content; {expected.advice or _AS_PARSED}")
        leaked = [word for word in FAULT_WORDS if word in reply.text]
        if leaked or not _same(reply, normal):
            raise Failed(f"{fault} ({mode}): the reply after it ({shown!r}) is not the "
                         f"emulator's normal reply ({normal.text[:80]!r})")
        if fault == "slow_start" and elapsed < SLOW_START:
            raise Failed(f"slow_start ({mode}) answered in {elapsed:.2f} s, before the "
                         f"emulator's {SLOW_START} s delay")
    else:
        _check_error(fault, mode, expected, error, "".join(pieces), elapsed)
    if expected.requests is not None and requests != expected.requests:
        raise Failed(f"{fault} ({mode}) took {requests} request(s), not {expected.requests}"
                     + (": it must not be retried" if requests > expected.requests else ""))
    await env.settled(f"the {fault} call ended")
    return f"{type(error).__name__ if error else 'the normal reply'} after {requests} request(s)"


def _check_error(fault: str, mode: str, expected: Expected, error: BaseException,
                 delivered: str, elapsed: float) -> None:
    root = _root(error)
    named = " or ".join(e.__name__ for e in expected.errors) or "the normal reply"
    if not isinstance(root, expected.errors):
        raise Failed(f"{fault} ({mode}) came out as {type(error).__name__}: {error}; "
                     f"expected {named}" + (f" ({expected.advice})" if expected.advice else ""))
    if isinstance(error, PartialResponseError) and not delivered:
        raise Failed(f"{fault} ({mode}): a PartialResponseError though no text was delivered")
    message = str(error)
    missing = [part for part in expected.says if part not in message]
    if missing:
        raise Failed(f"{fault} ({mode}): the {type(error).__name__} does not say "
                     f"{', '.join(map(repr, missing))}: {message}")
    leaked = [word for word in FAULT_WORDS if word in delivered]
    if leaked:
        raise Failed(f"{fault} ({mode}): the fault's text reached the caller as content "
                     f"({delivered[:80]!r})")
    if fault == "rate_limit" and getattr(error, "retry_after", None) != 120:
        raise Failed(f"rate_limit ({mode}): retry_after is {getattr(error, 'retry_after', None)!r}"
                     f", not the 120 s of the reply's Retry-After header ({expected.advice})")
    if fault == "stall_after_headers" and elapsed > READ_IDLE + 1:
        raise Failed(f"stall_after_headers ({mode}) took {elapsed:.1f} s to fail; the read-idle "
                     f"timeout is {READ_IDLE} s")


async def check_short_retry_after(env: Env, stream: bool) -> str:
    """A 429 whose Retry-After is short is waited for, then retried."""
    normal = await _run(env, stream)
    faults = env.faults
    faults.retry_after = SHORT_RETRY_AFTER
    faults.set("rate_limit", times=1)
    mark = env.mark()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        reply = await _run(env, stream)
    except Exception as error:  # reported as the finding
        raise Failed(f"a 429 with Retry-After: {SHORT_RETRY_AFTER} was not retried: "
                     f"{type(error).__name__}: {error}") from error
    elapsed = loop.time() - started
    if len(env.since(mark)) != 2 or not _same(reply, normal):
        raise Failed(f"a 429 with Retry-After: {SHORT_RETRY_AFTER} then a normal answer took "
                     f"{len(env.since(mark))} request(s) and replied {reply.text[:80]!r}")
    if elapsed < SHORT_RETRY_AFTER * 0.9:
        raise Failed(f"Retry-After ignored: the retry came {elapsed:.2f} s after a 429 with "
                     f"Retry-After: {SHORT_RETRY_AFTER} ({EXPECTED['rate_limit'].advice})")
    return f"retried after {elapsed:.2f} s"


def fault_cases() -> list[Case]:
    """Return a case per fault mode and stream mode, and the Retry-After ones."""
    cases = []
    for fault in FAULT_MODES:
        for stream in (False, True):
            mode = "streamed" if stream else "whole"
            cases.append(Case(f"fault/{fault}/{mode}", f"{FAULT_MODES[fault]}: "
                              f"{_outcome(fault)}",
                              functools.partial(check_fault, fault=fault, stream=stream)))
    for stream in (False, True):
        mode = "streamed" if stream else "whole"
        cases.append(Case(f"fault/retry_after/{mode}", "a 429 with Retry-After: 1 is waited "
                          "for, then retried", functools.partial(check_short_retry_after,
                                                                 stream=stream)))
    return cases


def _outcome(fault: str) -> str:
    expected = EXPECTED[fault]
    if not expected.errors:
        return "the normal reply"
    return " or ".join(e.__name__ for e in expected.errors)
