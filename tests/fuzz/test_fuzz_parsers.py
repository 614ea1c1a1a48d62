"""Property tests: the plugins' parsers see the same events however the bytes are split,
and arbitrary bytes give events or ResponseFormatError, nothing else."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jackfield import JackfieldError, Limits, Message
from jackfield._errors import ResponseFormatError
from jackfield._http.response import HttpResponse
from jackfield.provider import CompletionRequest, ModelSpec
from jackfield_aichats.parse import parse_response as aichats_parse
from jackfield_amigochat.parsing import parse_response as amigochat_parse


class _Content:
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = list(chunks)

    async def readany(self) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""

    def at_eof(self) -> bool:
        return not self._chunks


class FakeRaw:
    """Just enough of aiohttp.ClientResponse for HttpResponse: a body in given chunks."""

    def __init__(self, chunks: list[bytes], content_type: str) -> None:
        self.status = 200
        self.headers = {"Content-Type": content_type}
        self.url = "http://127.0.0.1:1/reply"
        self.content_type = content_type
        self.content = _Content(chunks)

    def release(self) -> None:
        """Nothing to release: no connection behind it."""

    def close(self) -> None:
        """Nothing to close: no connection behind it."""


PARSERS = {"aichats": aichats_parse, "amigochat": amigochat_parse}
MODELS = {"aichats": ModelSpec("gpt-4"),
          "amigochat": ModelSpec("gpt-4o-mini", extra={"persona_id": "amigo"})}


def run(provider: str, chunks: list[bytes], *, stream: bool = True,
        content_type: str = "text/event-stream") -> list[Any] | type[ResponseFormatError]:
    """Return the parser's events, or ResponseFormatError's type if it raised that."""
    request = CompletionRequest(provider=provider, model=MODELS[provider],
                                messages=(Message("user", "hi"),), stream=stream)
    response = HttpResponse(provider, FakeRaw(chunks, content_type),  # type: ignore[arg-type]
                            Limits(max_event_bytes=4096), 1.0)

    async def collect() -> list[Any]:
        return [e async for e in PARSERS[provider](request, response, None)]  # type: ignore[arg-type]

    try:
        return asyncio.run(collect())
    except ResponseFormatError:
        return ResponseFormatError


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    """Cut body at the given offsets; no empty chunk, since aiohttp's b"" means the end."""
    points = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    return [chunk for chunk in chunks if chunk]


PIECES = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                  blacklist_characters="\r\n"), max_size=8),
                  min_size=1, max_size=6)
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])
CUTS = st.lists(st.integers(min_value=0, max_value=400), max_size=12)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(PIECES, NEWLINES, CUTS)
def test_aichats_events_do_not_depend_on_chunking(pieces: list[str], nl: str,
                                                  cuts: list[int]) -> None:
    body = "".join(f"data: {p}{nl}{nl}" for p in pieces).encode()
    whole = run("aichats", [body])
    assert run("aichats", split(body, cuts)) == whole
    assert run("aichats", [bytes([b]) for b in body]) == whole


@FAST
@given(PIECES, NEWLINES, CUTS)
def test_amigochat_events_do_not_depend_on_chunking(pieces: list[str], nl: str,
                                                    cuts: list[int]) -> None:
    events = [json.dumps({"choices": [{"delta": {"content": p}}]}) for p in pieces]
    events.append(json.dumps({"choices": [{"delta": {}, "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 1, "completion_tokens": 2,
                                        "total_tokens": 3}}))
    body = "".join(f"data: {e}{nl}{nl}" for e in [*events, "[DONE]"]).encode()
    whole = run("amigochat", [body])
    assert whole is not ResponseFormatError
    assert run("amigochat", split(body, cuts)) == whole
    assert run("amigochat", [bytes([b]) for b in body]) == whole


@FAST
@given(st.sampled_from(sorted(PARSERS)), st.binary(max_size=600), CUTS, st.booleans())
def test_arbitrary_bytes_give_events_or_a_format_error(provider: str, body: bytes,
                                                       cuts: list[int], stream: bool) -> None:
    content_type = "text/event-stream" if stream else "application/json"
    try:
        result = run(provider, split(body, cuts), stream=stream, content_type=content_type)
    except JackfieldError as error:  # a JSON error object inside the reply is a typed error too
        assert not isinstance(error, ResponseFormatError)
        return
    assert result is ResponseFormatError or isinstance(result, list)


@FAST
@given(st.sampled_from(sorted(PARSERS)), st.lists(st.sampled_from(
    [b"data: ", b"data: [DONE]", b"{", b'{"choices": []}', b"\xff\xfe", b"\n", b"\r\n",
     b'data: {"choices": [{"delta": {"content": "x"}}]}', b": ping", b"x" * 5000]),
    max_size=20).map(b"".join))
def test_protocol_shaped_noise_never_escapes_as_another_error(provider: str,
                                                              body: bytes) -> None:
    try:
        result = run(provider, [body])
    except JackfieldError as error:
        assert type(error).__module__.startswith("jackfield")
        return
    assert result is ResponseFormatError or isinstance(result, list)
