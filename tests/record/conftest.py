"""The recording tests stay on loopback: every "live" service is an emulator."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _stays_on_loopback(loopback_only: None) -> None:
    """No test here may connect beyond 127.0.0.1 (the test kit's guard fails it)."""
