"""Helpers shared by the tests that run an emulator on loopback."""

from __future__ import annotations

import attrs
from aiohttp import web

from jackfield.testing import STATS_KEY, EmulatorStats


@attrs.define
class Emulator:
    """A running emulator: its base URL, app and request statistics."""

    url: str
    app: web.Application

    @property
    def stats(self) -> EmulatorStats:
        """Return what the emulator has seen so far."""
        return self.app[STATS_KEY]
