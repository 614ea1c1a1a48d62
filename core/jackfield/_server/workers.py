"""`jackfield serve --workers N`: N processes serving one listening socket, supervised.

Mechanism: the parent binds and listens, then starts each worker as a fresh interpreter
(`python -m jackfield serve ...`, the same arguments) that inherits the socket's descriptor
(JACKFIELD_WORKER_FD) and accepts on it; the kernel hands each connection to one of the
workers waiting in accept(). Chosen over SO_REUSEPORT because it works the same on Linux,
macOS and the BSDs (where SO_REUSEPORT does not balance, or another process of the same
user could bind the port beside us), because `--port 0` gives every worker the one port the
parent bound, and because a port that is taken fails once, in the parent, before any
worker starts. Fresh interpreters, not fork(): no event loop, thread or open session of the
parent is copied into a worker, and it starts as a single `serve` does.

Supervision: the parent waits until every worker says it is listening (a byte on a pipe),
then prints the one "serving" line. A worker that dies is reported on stderr; one that had
run for RESTART_AFTER seconds is started again (a crash now and then should not take the
service down), one that dies sooner stops the whole server with exit status 1 (it would
only crash again: a bad setting, a broken plugin). SIGTERM and SIGINT to the parent are
forwarded to every worker as SIGTERM: each stops accepting, lets its calls in flight finish
within --grace, ends the rest with an error event, and exits 0; the parent exits 0 after
SIGTERM, 130 after Ctrl-C, 1 if a worker did not exit cleanly. Workers run in their own
process group, so a terminal's Ctrl-C reaches only the parent, which orders the shutdown;
each worker also holds a lifeline pipe from the parent and stops when it closes, so a
parent killed outright leaves no worker behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

import attrs

__all__ = ["RESTART_AFTER", "WORKER_ENV", "Worker", "bind", "supervise", "worker_from_env"]

WORKER_ENV = "JACKFIELD_WORKER"  # "socket fd,ready fd,lifeline fd,index" in a worker
RESTART_AFTER = 10.0  # seconds a worker must have run for its death to be met by a restart
_EXIT_MARGIN = 10.0  # beyond grace: the last words, aiohttp's own shutdown, interpreter exit


@attrs.define
class Worker:
    """This process, as one of the workers: the inherited socket and the parent's pipes."""

    index: int
    sock: socket.socket
    ready_fd: int
    lifeline_fd: int

    def ready(self) -> None:
        """Tell the parent this worker is accepting connections."""
        with contextlib.suppress(OSError):  # the parent may be gone already
            os.write(self.ready_fd, b"1")
        os.close(self.ready_fd)

    def watch_parent(self, stop: asyncio.Event) -> None:
        """Set stop when the parent's end of the lifeline closes (the parent has gone)."""
        loop = asyncio.get_running_loop()

        def readable() -> None:
            with contextlib.suppress(OSError):
                if os.read(self.lifeline_fd, 1):
                    return  # the parent never writes; nothing to stop for
            loop.remove_reader(self.lifeline_fd)
            stop.set()

        loop.add_reader(self.lifeline_fd, readable)


def worker_from_env() -> Worker | None:
    """Return this process as a worker, if the supervisor started it; else None."""
    value = os.environ.pop(WORKER_ENV, "")
    if not value:
        return None
    sock_fd, ready_fd, lifeline_fd, index = (int(part) for part in value.split(","))
    sock = socket.socket(fileno=sock_fd)
    sock.setblocking(False)
    return Worker(index, sock, ready_fd, lifeline_fd)


def bind(host: str, port: int) -> socket.socket:
    """Return a listening socket on host:port, for the workers to inherit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart while TIME_WAIT
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@attrs.define
class _Child:
    index: int
    process: asyncio.subprocess.Process
    started: float
    ready: asyncio.Future[bool]


class _Supervisor:
    def __init__(self, sock: socket.socket, argv: Sequence[str], grace: float) -> None:
        self.sock, self.argv, self.grace = sock, list(argv), grace
        self.children: dict[int, _Child] = {}
        self.stopping = asyncio.Event()
        self.failed = False
        self._watchers: set[asyncio.Task[None]] = set()
        # The parent keeps the write end; a worker sees EOF on its end when the parent dies.
        self.lifeline_read, self.lifeline_write = os.pipe()

    async def start(self, index: int) -> _Child:
        ready_read, ready_write = os.pipe()
        value = f"{self.sock.fileno()},{ready_write},{self.lifeline_read},{index}"
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "jackfield", *self.argv,
                env=os.environ | {WORKER_ENV: value},
                pass_fds=(self.sock.fileno(), ready_write, self.lifeline_read),
                start_new_session=True)
        finally:
            os.close(ready_write)
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[bool] = loop.create_future()

        def readable() -> None:
            loop.remove_reader(ready_read)
            said = b""
            with contextlib.suppress(OSError):
                said = os.read(ready_read, 1)
            os.close(ready_read)
            if not ready.done():
                ready.set_result(bool(said))  # EOF without a byte: it died first

        loop.add_reader(ready_read, readable)
        child = self.children[index] = _Child(index, process, time.monotonic(), ready)
        if self.stopping.is_set():  # restarted just as the server began to stop
            process.send_signal(signal.SIGTERM)
        watcher = asyncio.create_task(self._watch(child))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return child

    async def _watch(self, child: _Child) -> None:
        status = await child.process.wait()
        if self.stopping.is_set():
            if status != 0:
                self.failed = True
                _say(f"worker {child.index} (pid {child.process.pid}) exited with status "
                     f"{status}")
            return
        lived = time.monotonic() - child.started
        _say(f"worker {child.index} (pid {child.process.pid}) died with status {status} "
             f"after {lived:.1f} s")
        if lived >= RESTART_AFTER and not self.stopping.is_set():
            _say(f"starting worker {child.index} again")
            await self.start(child.index)
            return
        _say("a worker that dies this soon would die again: stopping the server")
        self.failed = True
        self.stop()

    def stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        # The workers' copies close as they stop accepting; with the parent's closed too,
        # new connections are refused at once instead of waiting in a backlog nobody reads.
        self.sock.close()
        for child in self.children.values():
            if child.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)

    async def wait_stopped(self) -> None:
        """Wait for every worker to exit (grace + margin at most, then kill)."""
        if self._watchers:
            await asyncio.wait(set(self._watchers), timeout=self.grace + _EXIT_MARGIN)
        for process in [child.process for child in self.children.values()]:
            if process.returncode is None:
                self.failed = True
                _say(f"a worker (pid {process.pid}) did not stop in time: killed")
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        os.close(self.lifeline_write)
        os.close(self.lifeline_read)


def _say(text: str) -> None:
    print(f"jackfield: {text}", file=sys.stderr, flush=True)


async def supervise(sock: socket.socket, argv: Sequence[str], count: int, grace: float,
                    announce: str) -> tuple[bool, bool]:
    """Run count workers on sock until SIGTERM/SIGINT; print announce once all listen.

    Return (interrupted by Ctrl-C, every worker started and stopped cleanly).
    """
    supervisor = _Supervisor(sock, argv, grace)
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_signal(number: int) -> None:
        nonlocal interrupted
        interrupted = interrupted or number == signal.SIGINT
        supervisor.stop()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, on_signal, number)
    try:
        children = [await supervisor.start(index) for index in range(1, count + 1)]
        ready: asyncio.Future[list[bool]] = asyncio.gather(*(c.ready for c in children))
        stopped: asyncio.Future[Any] = asyncio.ensure_future(supervisor.stopping.wait())
        either: list[asyncio.Future[Any]] = [ready, stopped]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and all(ready.result()) and not supervisor.stopping.is_set():
            print(announce, flush=True)
        elif not supervisor.stopping.is_set():
            _say("a worker stopped before it listened: stopping the server")
            supervisor.failed = True
            supervisor.stop()
        await stopped
        ready.cancel()
        await asyncio.gather(ready, return_exceptions=True)
        await supervisor.wait_stopped()
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)
        sock.close()
    return interrupted, not supervisor.failed
