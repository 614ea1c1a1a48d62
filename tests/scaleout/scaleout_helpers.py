"""What the scale-out tests share: a redis-server of their own, one chat call, /health,
awaiting a condition."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from typing import Any

import aiohttp

USER = [{"role": "user", "content": "hi"}]
REDIS = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A redis-server of the test's own: no persistence, loopback only; stop() and start()
    again on the same port, as an outage does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS is not None
        self.process = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):  # 10 s at most for it to listen
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            subprocess.run(["sleep", "0.02"], check=True)
        raise RuntimeError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


async def chat(session: aiohttp.ClientSession, url: str, *, headers: dict[str, str] | None = None,
               model: str = "native/omni", stream: bool = False,
               path: str = "/v1/chat/completions") -> tuple[int, Any, dict[str, str]]:
    """POST one chat call; return status, JSON body (or the SSE text) and headers."""
    body = {"model": model, "messages": USER, "stream": stream}
    async with session.post(f"{url}{path}", json=body, headers=headers or {}) as response:
        reply: Any = await (response.text() if stream and response.status == 200
                            else response.json())
        return response.status, reply, dict(response.headers)


async def health(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(f"{url}/health") as response:
        return await response.json()


async def until(check: Any, seconds: float = 20.0) -> None:
    """Await check() (async, returning bool) until it holds; fail after seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.05)
