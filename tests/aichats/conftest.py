"""Fixtures for the AiChats tests: the emulator on loopback, a transport, an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aichats_helpers import COOKIE, Emulator

from plugboard.emulation import serve_app
from plugboard.limits import Limits, Timeouts
from plugboard.transport import Transport
from plugboard_aichats.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an emulator that expects COOKIE on 127.0.0.1."""
    app = create_app(cookie=COOKIE)
    async with serve_app(app) as url:
        yield Emulator(url, app)


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    """Return the core transport with default limits, closed after the test."""
    transport = Transport(timeouts=Timeouts(connect=5, read_idle=5, total=30), limits=Limits())
    try:
        yield transport
    finally:
        await transport.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain aiohttp session for talking to the emulator directly."""
    async with aiohttp.ClientSession() as session:
        yield session

