"""Recording a call's HTTP exchanges at the transport: the tap behind `jackfield record`,
and the fixture file it writes (docs: CONTRIBUTING.md, "Recording a live exchange").

The tap is a context variable: `with capture() as recorder:` records every request the
transport sends from this context (and the tasks it starts) until the block ends; a call
running elsewhere at the same time is not recorded. When nothing records, the transport's
only cost is one `ContextVar.get()` per request: responses are plain `HttpResponse`s, and
only a recorded one is a `RecordedResponse`, which keeps each chunk as it arrived.

Every try is recorded, in order (a 429 before the success included), so that a replay
answers the same sequence the registry saw; `jackfield record` turns retries off, so its
file holds what the service said to one request.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from jackfield._http.fixture_masks import FixtureMasker, masked_chunks
from jackfield._http.request_body import payload
from jackfield._http.response import HttpResponse
from jackfield._types.requests import HttpRequest

if TYPE_CHECKING:
    import aiohttp

    from jackfield._settings.limits import Limits

__all__ = ["FORMAT", "VERSION", "Exchange", "FixtureError", "RecordedResponse", "Recorder",
           "active", "capture", "check_fixture", "decode_chunks", "fixture"]

FORMAT = "jackfield-recording"
VERSION = 1

_ACTIVE: ContextVar[Recorder | None] = ContextVar("jackfield_recorder", default=None)
active = _ACTIVE.get  # the transport's whole cost when nothing records


@attrs.define
class Exchange:
    """One request as the transport sent it and its reply as it arrived, unmasked (it lives
    in memory only: fixture() masks it before anything is written)."""

    provider: str
    method: str
    url: str
    headers: dict[str, str]  # the HttpRequest's, as sent (Content-Type added for JSON)
    json: Any
    status: int = 0
    reply_headers: list[tuple[str, str]] = attrs.field(factory=list)
    chunks: list[bytes] = attrs.field(factory=list)
    complete: bool = False  # the body was read to its end (a parser may stop before)


class Recorder:
    """The exchanges recorded in one capture() block, in the order they were sent."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def sent(self, provider: str, request: HttpRequest, raw: aiohttp.ClientResponse) -> Exchange:
        exchange = Exchange(provider, request.method, request.url, dict(payload(request)[0]),
                            request.json, raw.status, list(raw.headers.items()))
        self.exchanges.append(exchange)
        return exchange

    def response(self, provider: str, request: HttpRequest, raw: aiohttp.ClientResponse,
                 limits: Limits, read_idle: float | None) -> HttpResponse:
        """Return the 2xx response, recording its chunks as the parser reads them."""
        return RecordedResponse(provider, raw, limits, read_idle,
                                self.sent(provider, request, raw))

    def error_reply(self, provider: str, request: HttpRequest, raw: aiohttp.ClientResponse,
                    body: bytes) -> None:
        """Record an error reply: the part of its body the transport read, in one chunk."""
        exchange = self.sent(provider, request, raw)
        exchange.chunks = [body] if body else []
        exchange.complete = True


class RecordedResponse(HttpResponse):
    """An HttpResponse that also keeps every chunk it hands the parser, boundaries included."""

    def __init__(self, provider: str, raw: aiohttp.ClientResponse, limits: Limits,
                 read_idle: float | None, exchange: Exchange) -> None:
        super().__init__(provider, raw, limits, read_idle)
        self._exchange = exchange

    async def _next_chunk(self) -> bytes:
        chunk = await super()._next_chunk()
        if chunk:
            self._exchange.chunks.append(chunk)
        else:
            self._exchange.complete = True
        return chunk


@contextlib.contextmanager
def capture() -> Iterator[Recorder]:
    """Record the exchanges the transport makes in this context until the block ends."""
    recorder = Recorder()
    token = _ACTIVE.set(recorder)
    try:
        yield recorder
    finally:
        _ACTIVE.reset(token)


class FixtureError(ValueError):
    """A recording file that is not one this version of jackfield reads."""


def fixture(exchanges: list[Exchange], masker: FixtureMasker, *, provider: str,
            plugin: Mapping[str, str | None], model: str, base_url: str,
            call: Mapping[str, Any], outcome: Mapping[str, Any], jackfield: str,
            ) -> dict[str, Any]:
    """Return the recording as the JSON-ready dict written to a fixture file, masked."""
    for exchange in exchanges:  # credentials of any exchange are masked in every other one
        masker.learn_headers(exchange.headers.items())
        masker.learn_headers(exchange.reply_headers)
    return {
        "format": FORMAT,
        "version": VERSION,
        "recorded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "jackfield": jackfield,
        "provider": provider,
        "plugin": dict(plugin),
        "model": model,
        "base_url": masker.text(base_url),
        "call": masker.json(dict(call)),
        "outcome": masker.json(dict(outcome)),
        "exchanges": [_exchange(exchange, masker) for exchange in exchanges],
    }


def _exchange(exchange: Exchange, masker: FixtureMasker) -> dict[str, Any]:
    parts = urlsplit(masker.text(exchange.url))
    chunks = masked_chunks(exchange.chunks, masker)
    try:
        texts: list[str] = [chunk.decode("utf-8") for chunk in chunks]
        encoding = "text"
    except UnicodeDecodeError:  # a chunk cut inside a character, or a binary body
        texts = [base64.b64encode(chunk).decode("ascii") for chunk in chunks]
        encoding = "base64"
    return {
        "provider": exchange.provider,
        "request": {
            "method": exchange.method,
            "path": parts.path or "/",
            "query": parts.query,
            "headers": masker.headers(exchange.headers.items()),
            "json": masker.json(exchange.json),
        },
        "response": {
            "status": exchange.status,
            "headers": [list(pair) for pair in masker.header_pairs(exchange.reply_headers)],
            "encoding": encoding,
            "chunks": texts,
            "complete": exchange.complete,
        },
    }


def decode_chunks(response: Mapping[str, Any]) -> list[bytes]:
    """Return a recorded response's chunks as bytes."""
    chunks = response["chunks"]
    if response.get("encoding", "text") == "base64":
        return [base64.b64decode(chunk) for chunk in chunks]
    return [chunk.encode("utf-8") for chunk in chunks]


def check_fixture(data: Any, source: str) -> dict[str, Any]:
    """Return data if it is a recording this version reads; else raise FixtureError saying
    what is wrong with it (source names the file in the message)."""
    def wrong(what: str) -> FixtureError:
        return FixtureError(f"{source} is not a jackfield recording: {what}")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise wrong(f'expected a JSON object with "format": "{FORMAT}"')
    if data.get("version") != VERSION:
        raise FixtureError(f"{source} is a recording of format version {data.get('version')!r}; "
                           f"this jackfield reads version {VERSION}: record it again with "
                           "`jackfield record`")
    exchanges = data.get("exchanges")
    if not isinstance(exchanges, list) or not exchanges:
        raise wrong('"exchanges" must be a non-empty list')
    for index, exchange in enumerate(exchanges):
        request = exchange.get("request") if isinstance(exchange, dict) else None
        response = exchange.get("response") if isinstance(exchange, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise wrong(f"exchanges[{index}] needs a request and a response")
        if not isinstance(request.get("method"), str) or not str(
                request.get("path", "")).startswith("/"):
            raise wrong(f"exchanges[{index}].request needs a method and a path starting /")
        if not isinstance(response.get("status"), int) or not isinstance(
                response.get("chunks"), list):
            raise wrong(f"exchanges[{index}].response needs a status and a list of chunks")
        if response.get("encoding", "text") not in ("text", "base64"):
            raise wrong(f"exchanges[{index}].response.encoding must be text or base64")
    return data
