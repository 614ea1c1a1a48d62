"""Running `jackfield` in a subprocess against emulators served by the test's event loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping

import attrs
from aiohttp import web

CLI = [sys.executable, "-m", "jackfield"]
COOKIE = "session=abc"
# Only the two real plugins, whatever else a developer has installed.
PLUGINS = "jackfield-aichats,jackfield-amigochat"


# Kept from the test's environment: conftest points them at tmp paths, so that no run logs
# into the real user's data directory or reads the real user's keys and default models
# (or their cached model list).
KEPT = ("JACKFIELD_LOGS", "JACKFIELD_CONFIG_DIR", "JACKFIELD_CACHE_DIR")


def clean_environ(extra: Mapping[str, str] = ()) -> dict[str, str]:
    """Return the environment without the caller's JACKFIELD_* settings (but KEPT), plus
    extra."""
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("JACKFIELD_") or k in KEPT}
    environ.update({"JACKFIELD_LOAD_PLUGINS": PLUGINS, "PYTHONUNBUFFERED": "1"})
    environ.update(extra)
    return environ


@attrs.frozen
class Emulators:
    """Both emulators on loopback and the environment that points the providers at them."""

    aichats: web.Application
    amigochat: web.Application
    environ: dict[str, str]

    async def run(self, *args: str, stdin: str | None = None,
                  environ: Mapping[str, str] | None = None,
                  timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the command line to its end in a thread, so the emulators keep answering."""
        return await asyncio.to_thread(
            subprocess.run, [*CLI, *args], input=stdin, capture_output=True, text=True,
            env=self.environ if environ is None else environ, timeout=timeout)


async def held_chat(emulators: Emulators) -> asyncio.subprocess.Process:
    """Start `chat -m aichats/gpt-4 hi`; return once its first piece (b"Hello") is read, the
    AiChats emulator holding back the rest until the connection closes."""
    from jackfield_aichats.emulator import CONTROLS_KEY

    held = asyncio.Event()  # never set

    async def pacer(index: int) -> None:
        if index > 0:
            await held.wait()

    emulators.aichats[CONTROLS_KEY].pacer = pacer
    process = await asyncio.create_subprocess_exec(
        *CLI, "chat", "-m", "aichats/gpt-4", "hi", env=emulators.environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    first = await asyncio.wait_for(process.stdout.read(5), 30)
    assert first == b"Hello"  # the first piece arrived while the rest is held back
    return process


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """Return the single line a failure printed on stderr (asserting there is just one)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("jackfield"), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]
