"""The chunk replay behind the kit's `stream/chunks` cases, property-tested with hypothesis:
however a body is cut, a parser reading lines gets the same reply, and one that takes a
chunk for a line is caught."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from kitprovider import KitProvider

from jackfield.provider import ModelSpec
from jackfield.testing import make_request
from jackfield.testing._conformance_streams import _normal, _Replayed, split

BODY = (b'data: {"delta": "You"}\n\ndata: {"delta": " said:"}\n\n'
        b'data: {"delta": " caf\xc3\xa9"}\n\ndata: {"done": true}\n\n')


async def parse(plugin: KitProvider, cuts: list[int]) -> list[Any]:
    from jackfield._http.response import HttpResponse
    from jackfield._settings.limits import Limits

    spec = plugin.jackfield_provider()
    request = make_request(spec.with_models([ModelSpec("kit-1")]), "kit-1", stream=True)
    raw = _Replayed(200, {}, "http://127.0.0.1:9/chat", "text/event-stream", split(BODY, cuts))
    response = HttpResponse("kit", raw, Limits(), None)  # type: ignore[arg-type]
    try:
        return _normal([e async for e in plugin.jackfield_parse_response(request, response, None)])
    except Exception as error:  # noqa: BLE001  # the finding, compared as text
        return [repr(error)]


cuts = st.lists(st.integers(1, len(BODY) - 1), unique=True, max_size=30).map(sorted)


@settings(max_examples=60, deadline=None)
@given(cuts)
def test_a_line_reading_parser_gives_one_reply_however_the_body_is_cut(where: list[int]) -> None:
    plugin = KitProvider()
    assert asyncio.run(parse(plugin, where)) == asyncio.run(parse(plugin, []))


@settings(max_examples=60, deadline=None)
@given(cuts)
def test_the_replay_delivers_every_byte_in_order(where: list[int]) -> None:
    raw = _Replayed(200, {}, "u", "t", split(BODY, where))

    async def read() -> bytes:
        parts = []
        while piece := await raw.content.readany():
            parts.append(piece)
        return b"".join(parts)

    assert asyncio.run(read()) == BODY


def test_a_parser_that_takes_a_chunk_for_a_line_is_caught() -> None:
    plugin = KitProvider("chunks")
    assert asyncio.run(parse(plugin, [30])) != asyncio.run(parse(plugin, []))
