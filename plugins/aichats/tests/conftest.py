"""Fixtures for the AiChats tests: the emulator on loopback and a plain HTTP session
(the kit's `provider_harness` fixture runs the hooks without a Registry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

import aiohttp
import aioresponses.core
import pytest
from aichats_helpers import COOKIE

from jackfield.testing import Emulator, serve_app
from jackfield_aichats.emulator import create_app


# aioresponses 0.7.9 builds ClientResponse without the `stream_writer` argument aiohttp 3.14
# made required (pnuckowski/aioresponses#289). The repository's tests/conftest.py has the
# same stand-in, but this distribution's tests must also run on their own (`pytest plugins`).
class _CompatClientResponse(aioresponses.core.ClientResponse):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", mock.Mock(output_size=0))
        super().__init__(*args, **kwargs)


aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[misc]


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


@pytest.fixture(autouse=True)
def _stays_on_loopback(loopback_only: None) -> None:
    """No test of this plugin may connect beyond 127.0.0.1 (the test kit's guard fails it)."""
