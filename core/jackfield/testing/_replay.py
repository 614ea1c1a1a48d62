"""Replaying a recording of `jackfield record` as an emulator route, in a plugin's tests.

`replay_app(recording)` answers each recorded request with the recorded status, headers and
body, chunk by chunk as it arrived; a request that differs from the recording (method, path,
query, JSON body; masked values match anything) is answered 400, saying what differs, and
noted in `app[REPLAY_KEY].mismatches`. Several exchanges of one route (a 429, then the
success) are answered in the recorded order, the last one again for any further request.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
from aiohttp import web

from jackfield._http.fixture_masks import MARKER
from jackfield._http.recording import check_fixture, decode_chunks
from jackfield.testing._emulation import new_app

__all__ = ["REPLAY_KEY", "Recording", "Replay", "ReplayMismatchError", "load_recording",
           "replay_app"]

# Set by the server that answers the replay, not by the recorded service.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding",
                          "connection", "keep-alive", "date", "server"})
_SHOWN = 80  # characters of a value quoted in a difference


@attrs.frozen
class Recording:
    """A recording file's content (format: CONTRIBUTING.md, "Recording a live exchange")."""

    data: Mapping[str, Any] = attrs.field(repr=False)
    source: str = "<recording>"

    @property
    def provider(self) -> str:
        return str(self.data.get("provider", ""))

    @property
    def model(self) -> str:
        """The model id the provider was sent."""
        return str(self.data.get("model", ""))

    @property
    def call(self) -> Mapping[str, Any]:
        """How the call was made: model (as asked), messages, stream, options."""
        call: Mapping[str, Any] = self.data.get("call", {})
        return call

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.call.get("messages", []))

    @property
    def stream(self) -> bool:
        return bool(self.call.get("stream", False))

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.call.get("options", {}))

    @property
    def outcome(self) -> Mapping[str, Any]:
        """What the call gave: text and finish_reason, or error (its type and message)."""
        outcome: Mapping[str, Any] = self.data.get("outcome", {})
        return outcome

    @property
    def exchanges(self) -> list[Mapping[str, Any]]:
        return list(self.data["exchanges"])

    @property
    def base_path(self) -> str:
        """The path of the provider's base URL when recorded ("/v1"; "" for none)."""
        return urlsplit(str(self.data.get("base_url", ""))).path.rstrip("/")

    def base_url(self, server_url: str) -> str:
        """Return the base URL to give the provider for a replay served at server_url."""
        return server_url.rstrip("/") + self.base_path


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording file.

    :raises ValueError: when it is not a recording this version of jackfield reads.
    """
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{source} is not a jackfield recording: not JSON ({error})") from None
    return Recording(check_fixture(data, source), source)


class ReplayMismatchError(AssertionError):
    """The plugin's requests differed from the recording (see Replay.check())."""


@attrs.define
class Replay:
    """A replay's state, in `app[REPLAY_KEY]`: what was served and what differed."""

    recording: Recording
    check_body: bool = True
    ignore: frozenset[str] = frozenset()  # places whose differences do not count
    served: list[int] = attrs.field(factory=list)  # the exchanges answered, by index
    mismatches: list[str] = attrs.field(factory=list)
    _next: dict[tuple[str, str], int] = attrs.field(factory=dict)

    def check(self) -> None:
        """Raise ReplayMismatchError listing every request that differed from the recording."""
        if self.mismatches:
            raise ReplayMismatchError(f"{len(self.mismatches)} request(s) differed from "
                                      f"{self.recording.source}:\n" + "\n".join(self.mismatches))

    def pick(self, method: str, path: str) -> int | None:
        """Return the index of the exchange to answer METHOD path with next (None: none)."""
        route = [i for i, e in enumerate(self.recording.exchanges)
                 if e["request"]["method"] == method and e["request"]["path"] == path]
        if not route:
            return None
        turn = self._next.get((method, path), 0)
        self._next[(method, path)] = turn + 1
        return route[min(turn, len(route) - 1)]


REPLAY_KEY = web.AppKey("jackfield_replay", Replay)


def replay_app(recording: Recording | str | os.PathLike[str], *, check_body: bool = True,
               ignore: Iterable[str] = (), chunk_pause: float = 0.001,
               fault: str | None = None) -> web.Application:
    """Return an app (built with new_app(): stats and faults work) that answers the recorded
    requests with the recorded replies.

    check_body=False compares only method, path and query; ignore names places whose
    differences do not count, as a difference names them ("body.chatId" for a fresh id per
    request, "query.ts"). chunk_pause is the pause between two chunks of a body, so that the
    client reads them apart as they were recorded.
    """
    replay = Replay(recording if isinstance(recording, Recording) else load_recording(recording),
                    check_body, frozenset(ignore))
    app = new_app(fault=fault)
    app[REPLAY_KEY] = replay

    async def answer(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        index = replay.pick(request.method, request.path)
        if index is None:
            routes = ", ".join(sorted({f"{e['request']['method']} {e['request']['path']}"
                                       for e in replay.recording.exchanges}))
            return _mismatch(replay, request, [f"no recorded exchange for {request.method} "
                                               f"{request.path}; the recording has {routes}"])
        exchange = replay.recording.exchanges[index]
        differences = list(_request_differences(exchange["request"], request.query_string,
                                                body, replay))
        if differences:
            return _mismatch(replay, request, differences)
        replay.served.append(index)
        return await _send(request, exchange["response"], chunk_pause)

    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def _mismatch(replay: Replay, request: web.Request, differences: list[str]) -> web.Response:
    what = f"{request.method} {request.path}: " + "; ".join(differences)
    replay.mismatches.append(what)
    message = (f"jackfield replay: the request differs from the recording "
               f"{replay.recording.source}: {what}")
    return web.json_response({"error": {"message": message, "type": "invalid_request_error",
                                        "code": "replay_mismatch"}}, status=400)


async def _send(request: web.Request, recorded: Mapping[str, Any],
                pause: float) -> web.StreamResponse:
    response = web.StreamResponse(status=recorded["status"])
    for name, value in recorded.get("headers", []):
        if name.lower() not in _HOP_HEADERS:
            response.headers.add(name, value)
    await response.prepare(request)
    for number, chunk in enumerate(decode_chunks(recorded)):
        if number and pause:
            await asyncio.sleep(pause)
        await response.write(chunk)
    await response.write_eof()
    return response


def _request_differences(recorded: Mapping[str, Any], query: str, body: bytes,
                         replay: Replay) -> Iterator[str]:
    ignore = replay.ignore
    yield from _differences(parse_qs(recorded.get("query", ""), keep_blank_values=True),
                            parse_qs(query, keep_blank_values=True), "query", ignore)
    expected = recorded.get("json")
    if not replay.check_body or expected is None:
        return
    try:
        got = json.loads(body) if body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        yield f"body: recorded JSON, got {len(body)} bytes that are not JSON"
        return
    yield from _differences(expected, got, "body", ignore)


def _differences(recorded: Any, got: Any, where: str,
                 ignore: frozenset[str]) -> Iterator[str]:
    """Yield each place where got differs from recorded (a masked value matches any)."""
    if where in ignore:
        return
    if isinstance(recorded, dict) and isinstance(got, dict):
        for key, value in recorded.items():
            if key not in got:
                if f"{where}.{key}" not in ignore:
                    yield f"{where}.{key}: missing (recorded {_short(value)})"
            else:
                yield from _differences(value, got[key], f"{where}.{key}", ignore)
        for key in sorted(got.keys() - recorded.keys()):
            if f"{where}.{key}" not in ignore:
                yield f"{where}.{key}: not in the recording (got {_short(got[key])})"
    elif isinstance(recorded, list) and isinstance(got, list):
        if len(recorded) != len(got):
            yield f"{where}: recorded {len(recorded)} items, got {len(got)}"
        for number, (old, new) in enumerate(zip(recorded, got, strict=False)):
            yield from _differences(old, new, f"{where}[{number}]", ignore)
    elif isinstance(recorded, str) and isinstance(got, str):
        if not _same_text(recorded, got):
            yield f"{where}: recorded {_short(recorded)}, got {_short(got)}"
    elif type(recorded) is not type(got) or recorded != got:  # True is no 1 here
        yield f"{where}: recorded {_short(recorded)}, got {_short(got)}"


def _same_text(recorded: str, got: str) -> bool:
    if not MARKER.search(recorded):
        return recorded == got
    pattern = ".+?".join(re.escape(part) for part in MARKER.split(recorded))
    return re.fullmatch(pattern, got, re.S) is not None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"
