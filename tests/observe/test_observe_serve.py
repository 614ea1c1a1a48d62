"""`jackfield serve --metrics` as a process: /metrics counts its calls; without
prometheus-client it refuses to start, naming the extra."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import signal
import sys
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

import jackfield_aichats.emulator

COOKIE = "session=abc"


def environment(extra: dict[str, str]) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")
               or k in ("JACKFIELD_CONFIG_DIR", "JACKFIELD_CACHE_DIR")}
    return environ | {"JACKFIELD_LOAD_PLUGINS": "jackfield-aichats", "PYTHONUNBUFFERED": "1",
                      "JACKFIELD_AICHATS_COOKIE": COOKIE} | extra


async def test_serve_metrics_counts_the_calls_it_served(serve_app: Any) -> None:
    upstream = await serve_app(jackfield_aichats.emulator.create_app(cookie=COOKIE))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jackfield", "serve", "--port", "0", "--metrics",
        env=environment({"JACKFIELD_AICHATS_BASE_URL": upstream}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/v1", banner)
        assert match, banner
        url = match.group(1)
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.post(f"{url}/v1/chat/completions", json={
                        "model": "aichats/gpt-4",
                        "messages": [{"role": "user", "content": "hi"}]}) as reply:
                    assert reply.status == 200
            async with http.get(f"{url}/metrics") as reply:
                text = await reply.text()
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 30)
    calls = {tuple(sorted(s.labels.items())): s.value
             for family in text_string_to_metric_families(text) for s in family.samples
             if s.name == "jackfield_calls_total"}
    assert calls == {(("model", "aichats/gpt-4"), ("operation", "chat"), ("outcome", "ok"),
                      ("provider", "aichats")): 2.0}


async def test_serve_metrics_without_the_library_names_the_extra(
        tmp_path: pathlib.Path) -> None:
    shadow = tmp_path / "prometheus_client"  # a package that fails to import, as if absent
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jackfield", "serve", "--port", "0", "--metrics",
        env=environment({"PYTHONPATH": str(tmp_path)}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode != 0 and out == b""
    assert "pip install 'jackfield[metrics]'" in err.decode()
