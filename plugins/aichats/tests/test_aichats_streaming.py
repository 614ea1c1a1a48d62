"""Chat pieces reach the caller one by one, while the emulator still holds back the rest."""

from __future__ import annotations

import asyncio

from aichats_helpers import make_config, make_request

from jackfield.provider import Finish, TextDelta
from jackfield.testing import Emulator, ProviderHarness
from jackfield_aichats import jackfield_build_request, jackfield_parse_response
from jackfield_aichats.emulator import CONTROLS_KEY

STEP = 5.0  # seconds a piece may take; only reached if the client waits for the whole body


async def test_each_piece_arrives_before_the_next_is_written(
        emulator: Emulator, provider_harness: ProviderHarness) -> None:
    count = 5
    gates = [asyncio.Event() for _ in range(count)]
    written: list[int] = []

    async def pacer(index: int) -> None:
        await gates[index].wait()
        written.append(index)

    emulator.app[CONTROLS_KEY].pacer = pacer
    request = make_request(f"pieces:{count}")
    http_request = jackfield_build_request(request=request, config=make_config(emulator.url))
    gates[0].set()  # the status line and headers travel with the first piece
    response = await asyncio.wait_for(provider_harness.send("aichats", http_request), STEP)
    events = jackfield_parse_response(
        request=request, response=response,
        transport=provider_harness.for_provider("aichats"))
    try:
        for index in range(count):
            # The emulator has not written piece index+1: a buffering client would hang here.
            event = await asyncio.wait_for(anext(events), STEP)
            assert event == TextDelta(f" w{index + 1}")
            assert written == list(range(index + 1))
            if index + 1 < count:
                gates[index + 1].set()
        assert await asyncio.wait_for(anext(events), STEP) == Finish("stop")
    finally:
        await events.aclose()  # type: ignore[attr-defined]
        response.release()
