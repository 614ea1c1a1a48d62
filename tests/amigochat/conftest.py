"""Fixtures for the AmigoChat tests: the emulator on loopback, a transport, an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from loopback import Emulator
from plugboard.emulation import serve_app
from plugboard_amigochat.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an open emulator (no token required) on 127.0.0.1."""
    app = create_app()
    async with serve_app(app) as url:
        yield Emulator(url, app)
