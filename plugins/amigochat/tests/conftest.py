"""Fixtures for the AmigoChat tests: the emulator on loopback and a plain HTTP session
(the kit's `provider_harness` fixture runs the hooks without a Registry)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from jackfield.testing import Emulator, serve_app
from jackfield_amigochat.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an open emulator (no token required) on 127.0.0.1."""
    app = create_app()
    async with serve_app(app) as url:
        yield Emulator(url, app)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session for talking to the emulator directly."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(autouse=True)
def _stays_on_loopback(loopback_only: None) -> None:
    """No test of this plugin may connect beyond 127.0.0.1 (the test kit's guard fails it)."""
