"""The event loop a long-running command runs on: `jackfield serve --loop {auto,asyncio,uvloop}`.

uvloop comes with `jackfield[speedups]`; `auto` takes it when it is installed, so an install
with the extra serves faster without a flag, and one without it behaves as before. The
library itself never changes an application's loop: this is for the CLI's own server.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any

from jackfield._cli.common import EXIT_USAGE, CliError

__all__ = ["runner"]

Runner = Callable[[Coroutine[Any, Any, int]], int]


def runner(choice: str) -> Runner:
    """Return the function that runs a coroutine on the loop chosen (auto, asyncio, uvloop)."""
    if choice == "asyncio" or (choice == "auto" and importlib.util.find_spec("uvloop") is None):
        return asyncio.run
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]
    except ImportError as error:
        raise CliError("--loop uvloop needs uvloop: pip install 'jackfield[speedups]' (or use "
                       "--loop asyncio)", EXIT_USAGE) from error
    run: Runner = uvloop.run
    return run
