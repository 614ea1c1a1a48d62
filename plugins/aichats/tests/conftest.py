"""Fixtures for the AiChats tests: the emulator on loopback and a plain HTTP session
(the kit's `provider_harness` fixture runs the hooks without a Registry)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aichats_helpers import COOKIE

from jackfield.testing import Emulator, serve_app
from jackfield_aichats.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an emulator that expects COOKIE on 127.0.0.1."""
    app = create_app(cookie=COOKIE)
    async with serve_app(app) as url:
        yield Emulator(url, app)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session for talking to the emulator directly."""
    async with aiohttp.ClientSession() as session:
        yield session
