"""Fixtures for the AiChats tests: the emulator on loopback, a transport, an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aichats_helpers import COOKIE

from jackfield.testing import Emulator, ProviderHarness, serve_app
from jackfield_aichats.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an emulator that expects COOKIE on 127.0.0.1."""
    app = create_app(cookie=COOKIE)
    async with serve_app(app) as url:
        yield Emulator(url, app)


@pytest.fixture
async def transport() -> AsyncIterator[ProviderHarness]:
    """The core's transport on its own, to run the plugin's hooks without a Registry."""
    async with ProviderHarness() as harness:
        yield harness


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session for talking to the emulator directly."""
    async with aiohttp.ClientSession() as session:
        yield session
