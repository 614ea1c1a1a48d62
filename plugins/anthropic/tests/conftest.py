"""Fixtures for the jackfield-anthropic tests: the emulator on loopback (with a key), a
registry of this plugin pointed at it, and a plain HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from anthropic_helpers import KEY, anthropic_registry

from jackfield import Registry
from jackfield.testing import Emulator, RegistryFactory, serve_app
from jackfield_anthropic.emulator import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """Serve an emulator that requires KEY on 127.0.0.1."""
    app = create_app(api_key=KEY)
    async with serve_app(app) as url:
        yield Emulator(url, app)


@pytest.fixture
async def registry(emulator: Emulator, make_registry: RegistryFactory) -> Registry:
    """A registry of this plugin alone whose `anthropic` provider is the emulator, with KEY."""
    return anthropic_registry(make_registry, emulator.url)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session for talking to the emulator directly."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(autouse=True)
def _stays_on_loopback(loopback_only: None) -> None:
    """No test of this plugin may connect beyond 127.0.0.1 (the test kit's guard fails it)."""
