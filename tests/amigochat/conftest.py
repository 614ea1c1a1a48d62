"""Fixtures for the AmigoChat tests: the emulator on loopback, a transport, an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from amigochat_helpers import Emulator

from plugboard.emulation import serve_app
from plugboard.limits import Limits, Timeouts
from plugboard.transport import Transport
from plugboard_amigochat.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an open emulator (no token required) on 127.0.0.1."""
    app = create_app()
    async with serve_app(app) as url:
        yield Emulator(url, app)


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    """Return the core transport with short timeouts, closed after the test."""
    transport = Transport(timeouts=Timeouts(connect=5, read_idle=5, total=60), limits=Limits())
    try:
        yield transport
    finally:
        await transport.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain aiohttp session for talking to the emulator directly."""
    async with aiohttp.ClientSession() as session:
        yield session
