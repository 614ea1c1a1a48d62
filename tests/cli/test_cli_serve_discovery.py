"""`jackfield serve` as a real process over a plugin whose models live on its service: the
listing and the calls pick up models pulled after it started, embeddings in the openai
SDK's default encoding, route groups as models."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
from disco_helpers import disco_environ, install_disco

from nativeprovider import NativeServer, vector_of

CONFIG = """\
[routes]
fast = ["disco/plain", "disco/omni"]

[discovery]
ttl = 0
"""


async def test_serve_picks_up_models_pulled_after_it_started(tmp_path: Path,
                                                             serve_app: Any) -> None:
    server = NativeServer()
    server.known_only = True
    config = tmp_path / "jackfield.toml"
    config.write_text(CONFIG)
    environ = disco_environ(await serve_app(server.app), install_disco(tmp_path / "site"),
                            config)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jackfield", "serve", "--port", "0", env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", banner)
        assert match, banner
        async with openai.AsyncOpenAI(base_url=match.group(1), api_key="unused",
                                      max_retries=0, timeout=20) as client:
            listed = {m.id: m.model_dump() for m in (await client.models.list()).data}
            assert {"thinker", "embedder", "fast"} <= set(listed)
            assert listed["fast"]["owned_by"] == "jackfield-route"
            server.listed.append("llava:7b")
            assert "llava:7b" in {m.id for m in (await client.models.list()).data}
            reply = await client.chat.completions.create(
                model="llava:7b", messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content == "You said: hi"
            vectors = await client.embeddings.create(model="embedder", input=["a", "b"])
            assert vectors.data[1].embedding == pytest.approx(vector_of("b"), rel=1e-6)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C: how a server is meant to stop
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130, stderr
