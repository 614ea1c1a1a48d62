"""Fixtures for the AiChats tests: the emulator on loopback, a transport, an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aichats_helpers import COOKIE

from loopback import Emulator
from plugboard.emulation import serve_app
from plugboard_aichats.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an emulator that expects COOKIE on 127.0.0.1."""
    app = create_app(cookie=COOKIE)
    async with serve_app(app) as url:
        yield Emulator(url, app)
