"""`jackfield` on a real pseudo-terminal (pexpect), driven from a test's event loop.

pexpect blocks, so every read runs in a thread while the loop keeps serving the emulators.
prompt_toolkit draws with cursor moves (even "> " may come as ">" and a move right), so the
helper matches the text with the escape sequences taken out.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pexpect
from cli_helpers import CLI

ESCAPE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|[\x08\r]")
SGR = re.compile(rb"\x1b\[([0-9;]*)m")  # Select Graphic Rendition: colours, bold, dim...


def plain(raw: bytes) -> str:
    """Return the text a terminal shows, roughly: escape sequences and CRs removed."""
    return ESCAPE.sub(b"", raw).decode(errors="replace")


def session_environ(environ: Mapping[str, str], tmp_path: Path,
                    extra: Mapping[str, str] = ()) -> dict[str, str]:
    """Return the environment of a session: history under tmp_path, no CPR probe."""
    return {**environ, "JACKFIELD_LOGS": str(tmp_path / "logs.db"), "TERM": "xterm",
            # pexpect answers no cursor-position request; without this the editor waits.
            "PROMPT_TOOLKIT_NO_CPR": "1", **dict(extra)}


class Terminal:
    """One `jackfield` process on a pseudo-terminal; `raw` is everything it printed."""

    def __init__(self, args: Sequence[str], environ: Mapping[str, str]) -> None:
        self.environ = dict(environ)
        self.child = pexpect.spawn(CLI[0], [*CLI[1:], *args], env=self.environ,
                                   dimensions=(40, 200), timeout=30)
        self.raw = b""
        self.mark = 0  # where the next expect starts looking

    def _read_until(self, text: str, deadline: float) -> None:
        while text not in plain(self.raw[self.mark:]):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear; the terminal shows:\n"
                                     f"{plain(self.raw[self.mark:])}")
            try:
                self.raw += self.child.read_nonblocking(4096, timeout=0.2)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF as error:
                raise AssertionError(f"the process ended before {text!r}:\n"
                                     f"{plain(self.raw[self.mark:])}") from error

    async def expect(self, text: str, timeout: float = 30) -> str:
        """Wait until text shows; return what showed from the last mark up to and with it."""
        deadline = time.monotonic() + timeout
        await asyncio.to_thread(self._read_until, text, deadline)
        shown = plain(self.raw[self.mark:])
        # Move the mark past the match, counting raw bytes: find the shortest raw prefix.
        for end in range(self.mark, len(self.raw) + 1):
            if text in plain(self.raw[self.mark:end]):
                self.mark = end
                break
        return shown[:shown.index(text) + len(text)]

    async def prompt(self, shown: str = ">") -> None:
        """Wait for the editor's prompt, so keys typed next reach it, not the cooked tty."""
        await self.expect(shown)
        await asyncio.sleep(0.05)  # the editor finishes drawing and is reading keys

    async def send(self, line: str, prompt: str = ">") -> None:
        """Type line and Enter at the next prompt (">", or "..." inside a message)."""
        await self.prompt(prompt)
        self.child.send(line + "\r")

    async def turn(self, line: str, shown: str) -> str:
        """Type line at the prompt and wait until shown appears; return what showed."""
        await self.send(line)
        return await self.expect(shown)

    async def finish(self, timeout: float = 30) -> int:
        """Wait for the process to end; return its exit status."""
        def wait() -> None:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self.raw += self.child.read_nonblocking(4096, timeout=0.2)
                except pexpect.EOF:
                    return
                except pexpect.TIMEOUT:
                    if time.monotonic() > deadline:
                        raise AssertionError("the process did not end:\n"
                                             + plain(self.raw[self.mark:])) from None

        await asyncio.to_thread(wait)
        self.child.close()
        assert self.child.exitstatus is not None, self.child.signalstatus
        return int(self.child.exitstatus)

    def close(self) -> None:
        """Kill the process if a test failed before it ended."""
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()
