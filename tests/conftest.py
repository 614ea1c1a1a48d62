"""Shared test set-up: the aioresponses compat shim and the mock provider plugin."""

from __future__ import annotations

from typing import Any
from unittest import mock

import aioresponses.core

# Compat shim: aioresponses 0.7.9 builds ClientResponse without the `stream_writer` argument
# that aiohttp 3.14 made required (pnuckowski/aioresponses#289). We must not downgrade aiohttp
# (3.14 carries a security fix), so give the argument a stand-in until upstream releases a fix.
# Keep aioresponses bodies under 64 KiB: 3.14's pause_reading also breaks larger ones (#292).


class _CompatClientResponse(aioresponses.core.ClientResponse):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", mock.Mock(output_size=0))
        super().__init__(*args, **kwargs)


aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[misc]
