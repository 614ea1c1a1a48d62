"""Conformance cases of replies as streams: streamed and whole replies agree; the parser
yields the same reply however the body is cut into chunks; leaving a stream early and
cancelling a call close the upstream connection (counted on the emulator's side)."""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from jackfield._settings.limits import Limits
from jackfield._types.events import Event, ReasoningDelta, TextDelta, ToolCallDelta
from jackfield.testing._conformance_env import Case, Env, Failed, Skipped, call_hook
from jackfield.testing._harness import ProviderHarness, make_config, make_request

if TYPE_CHECKING:
    from jackfield._engine.completion import Completion
    from jackfield._http.response import HttpResponse

__all__ = ["stream_cases"]

# Seeded, not drawn anew each run: `jackfield check` must give the same verdict every time
# and run without the test extras, and a failure must be reproducible from its message.
SPLITS = 40
LONG_PROMPT = " ".join(f"word{number}" for number in range(200))
WRITE_PAUSE = 0.02  # after each piece the emulator writes: 200 words take 4 s or more


def _summary(completion: Completion) -> tuple[Any, ...]:
    return (completion.text, completion.reasoning, completion.finish_reason,
            [(c.name, c.arguments) for c in completion.tool_calls],
            [(i.url, i.data) for i in completion.images])


async def check_agree(env: Env) -> str:
    """The whole reply and the streamed one say the same."""
    model = env.model("chat")
    whole = await env.call(model, "hi")
    pieces: list[str] = []
    streamed = await env.call(model, "hi", stream=True, pieces=pieces)
    if _summary(whole) != _summary(streamed):
        raise Failed(f"the whole reply {_summary(whole)!r} differs from the streamed one "
                     f"{_summary(streamed)!r}")
    if "".join(pieces).strip() != streamed.text:
        raise Failed(f"the streamed pieces {''.join(pieces)!r} do not make up the reply "
                     f"{streamed.text!r}")
    if not whole.text and not whole.tool_calls:
        raise Failed("the emulator's reply to 'hi' is empty, so nothing can be compared")
    return f"both {whole.text[:40]!r}"


class _Content:
    """A body replayed in the given pieces (what HttpResponse reads of aiohttp's)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    async def readany(self) -> bytes:
        await asyncio.sleep(0)  # another piece "arrives" later, as over a socket
        return self._pieces.pop(0) if self._pieces else b""

    def at_eof(self) -> bool:
        return not self._pieces


class _Replayed:
    """The parts of aiohttp.ClientResponse an HttpResponse uses, over a recorded body."""

    def __init__(self, status: int, headers: Mapping[str, str], url: str, content_type: str,
                 pieces: list[bytes]) -> None:
        self.status, self.headers, self.url = status, headers, url
        self.content_type = content_type
        self.content = _Content(pieces)
        self.connection = None

    def release(self) -> None:
        """Nothing to give back: the body is in memory."""

    def close(self) -> None:
        """Nothing to close: the body is in memory."""


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    """Return body cut at each offset of cuts (ascending)."""
    return [body[start:end] for start, end in itertools.pairwise([0, *cuts, len(body)])]


def _normal(events: list[Event]) -> list[Any]:
    """Return events with text, reasoning and tool-call pieces joined: a parser may yield
    them in pieces of any size; what they add up to, and every other event, must agree."""
    result: list[Any] = []
    calls: dict[int, list[Any]] = {}
    for event in events:
        if isinstance(event, TextDelta | ReasoningDelta):
            if result and type(result[-1]) is type(event):
                result[-1] = type(event)(result[-1].text + event.text)
            elif event.text:
                result.append(event)
        elif isinstance(event, ToolCallDelta):
            call = calls.setdefault(event.index, [event.id, event.name, ""])
            call[0], call[1] = call[0] or event.id, call[1] or event.name
            call[2] += event.arguments
        else:
            result.append(event)
    return [*result, *sorted(calls.items())]


async def _parse(env: Env, request: Any, recorded: tuple[int, Mapping[str, str], str, str],
                 body: bytes, cuts: list[int], transport: Any) -> list[Any]:
    from jackfield._http.response import HttpResponse

    raw = _Replayed(*recorded, split(body, cuts))
    response = HttpResponse(env.name, cast(Any, raw), Limits(), None)
    parsed = call_hook(env.target.plugin, "jackfield_parse_response", request=request,
                       response=response, transport=transport)
    try:
        return _normal([event async for event in parsed])
    except Exception as error:  # noqa: BLE001  # what the cut made the parser raise: the finding
        return [f"raised {type(error).__name__}: {error}"]


def _where(body: bytes, cuts: list[int]) -> str:
    return ", ".join(f"byte {cut} ({body[max(0, cut - 12):cut]!r} | {body[cut:cut + 12]!r})"
                     for cut in cuts[:3]) + (" ..." if len(cuts) > 3 else "")


async def check_chunks(env: Env, stream: bool) -> str:
    """Parse the emulator's reply cut at every byte and at seeded random places."""
    model = env.model("chat")
    spec = env.spec.with_models([env.model_spec(model)])
    request = make_request(spec, model.id, "hi", stream=stream)
    config = make_config(spec, base_url=env.url, **env.settings)
    built = call_hook(env.target.plugin, "jackfield_build_request", request=request,
                      config=config)
    async with ProviderHarness() as harness:
        response: HttpResponse = await harness.send(env.name, built)
        try:
            body = await response.read()
        finally:
            response.release()
        recorded = (response.status, response.headers, response.url, response.content_type)
        transport = harness.for_provider(env.name, env.url)
        whole = await _parse(env, request, recorded, body, [], transport)
        if whole and isinstance(whole[0], str):
            raise Failed(f"the parser {whole[0]} on the emulator's reply in one piece")
        rng = random.Random(f"{env.name}:{model.id}:{stream}")
        trials = [list(range(1, len(body)))] if len(body) <= 65536 else []
        for _ in range(SPLITS):
            count = rng.randint(1, max(1, min(24, len(body) - 1)))
            trials.append(sorted(rng.sample(range(1, len(body)), count)) if len(body) > 1
                          else [])
        for cuts in trials:
            got = await _parse(env, request, recorded, body, cuts, transport)
            if got == whole:
                continue
            for cut in list(cuts):  # the fewest cuts that still change the reply
                fewer = [c for c in cuts if c != cut]
                if await _parse(env, request, recorded, body, fewer, transport) != whole:
                    cuts = fewer
            got = await _parse(env, request, recorded, body, cuts, transport)
            raise Failed(f"the parser depends on how the body is cut into chunks: cut at "
                         f"{_where(body, cuts)} it yields {got!r} instead of {whole!r} "
                         "(read lines with response.iter_lines() or sse_data(), never one "
                         "chunk as one line)")
    return f"{len(trials)} ways to cut {len(body)} bytes, one reply"


async def check_early_exit(env: Env) -> str:
    """Leaving a long stream after its first piece closes the connection at once."""
    model = env.model("chat")
    env.slow_writes(WRITE_PAUSE)
    loop = asyncio.get_running_loop()
    chunks = await env.registry.complete(model.qualified_id, LONG_PROMPT, stream=True)
    try:
        async for chunk in chunks:
            if chunk.text:
                break
        running = env.stats.in_flight
        started = loop.time()
        try:
            async with asyncio.timeout(2.0):  # not wait_for: it may lose a cancel
                await chunks.aclose()
        except TimeoutError:
            raise Failed("closing a stream left after its first piece took over 2 s: the "
                         "parser went on reading (stop when the generator is closed; never "
                         "read the rest of the body in a finally)") from None
        closed = loop.time() - started
    except BaseException as error:
        env.errors.append(error)
        raise
    if not running:
        raise Skipped("the emulator had sent its whole reply before the first piece was "
                      "read, so leaving early cannot be told from the end (it answers a "
                      "200-word prompt in one piece)")
    await env.settled("the caller left the stream", within=1.0)
    return f"closed {closed:.2f} s after leaving"


async def check_cancel(env: Env, stream: bool) -> str:
    """Cancelling a call whose reply stalls after its headers closes the connection."""
    model = env.model("chat")
    env.faults.set("stall_after_headers")
    task = asyncio.ensure_future(env.call(model, "hi", stream=stream, pieces=[]))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0
    while not env.stats.in_flight and not task.done() and loop.time() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # the headers are in: the call waits for the body now
    if task.done():
        error = task.exception()
        raise Failed(f"the stalled call ended by itself before it was cancelled: {error!r}")
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise Failed("the call swallowed its cancellation and returned a reply")
    env.errors.clear()  # the CancelledError: nothing of the plugin's in it
    await env.settled("the call was cancelled", within=1.0)
    return "the emulator saw the connection close"


def stream_cases() -> list[Case]:
    """Return the stream cases."""
    cases = [Case("stream/agree", "the whole reply and the streamed one say the same",
                  check_agree)]
    for stream in (False, True):
        mode = "streamed" if stream else "whole"
        cases.append(Case(f"stream/chunks/{mode}", "the parser yields the same reply however "
                          "the body is cut into chunks (every byte, and seeded random cuts)",
                          functools.partial(check_chunks, stream=stream)))
    cases.append(Case("stream/early_exit", "leaving a stream after its first piece closes the "
                      "upstream connection", check_early_exit))
    for stream in (False, True):
        mode = "streamed" if stream else "whole"
        cases.append(Case(f"stream/cancel/{mode}", "cancelling a call closes the upstream "
                          "connection", functools.partial(check_cancel, stream=stream)))
    return cases
