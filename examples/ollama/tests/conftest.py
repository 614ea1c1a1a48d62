"""Every test of this plugin stays on loopback: the test kit's guard fails any that tries to
connect beyond 127.0.0.1, even if the test caught the error."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _stays_on_loopback(loopback_only: None) -> None:
    """Turn the guard on for each test."""
