"""`jackfield record` in a subprocess, against the openai plugin's emulator on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jackfield.testing import FAULTS_KEY, STATS_KEY, ServeApp
from jackfield_openai.emulator import create_app

KEY = "sk-cli-record-not-a-secret-0123456789"


class Cli:
    def __init__(self, app: object, environ: dict[str, str]) -> None:
        self.app = app
        self.environ = environ

    async def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "jackfield", *args], capture_output=True,
            text=True, env=self.environ, timeout=60)


@pytest.fixture
async def cli(serve_app: ServeApp, tmp_path: Path) -> Cli:
    app = create_app(api_key=KEY)
    url = await serve_app(app)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")}
    environ.update({"JACKFIELD_LOAD_PLUGINS": "jackfield-openai",
                    "JACKFIELD_OPENAI_BASE_URL": f"{url}/v1", "JACKFIELD_OPENAI_API_KEY": KEY,
                    "JACKFIELD_CONFIG_DIR": str(tmp_path / "config"),
                    "JACKFIELD_CACHE_DIR": str(tmp_path / "cache"),
                    "JACKFIELD_LOGS": str(tmp_path / "logs.db"), "OPENAI_API_KEY": ""})
    return Cli(app, environ)


def chat_requests(cli: Cli) -> int:
    stats = cli.app[STATS_KEY]  # type: ignore[index]
    return sum(n for path, n in stats.by_path.items() if path.endswith("/chat/completions"))


async def test_record_writes_a_masked_fixture(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "chat.json"
    result = await cli.run("record", "-m", "gpt-4o-mini", "--output", str(out), "hi there")
    assert result.returncode == 0, result.stderr
    assert "recorded GET /v1/models -> 200" in result.stderr
    assert "POST /v1/chat/completions -> 200" in result.stderr and str(out) in result.stderr
    text = out.read_text(encoding="utf-8")
    assert KEY not in text and KEY[:12] not in text
    data = json.loads(text)
    assert data["call"]["model"] == "openai/gpt-4o-mini" and data["call"]["stream"] is True
    assert data["plugin"] == {"name": "openai", "distribution": "jackfield-openai",
                              "version": data["plugin"]["version"]}
    assert "hi there" in data["outcome"]["text"]


async def test_record_no_stream_with_options_to_stdout(cli: Cli) -> None:
    result = await cli.run("record", "-m", "openai/gpt-4o-mini", "--no-stream", "-o",
                           "temperature=0", "--output", "-", "hi")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    sent = data["exchanges"][-1]["request"]["json"]
    assert sent["temperature"] == 0 and "stream" not in sent
    assert data["call"]["options"] == {"temperature": 0}


async def test_a_recorded_failure_is_written_then_reported(cli: Cli, tmp_path: Path) -> None:
    cli.app[FAULTS_KEY].set("rate_limit")  # type: ignore[index]
    out = tmp_path / "limited.json"
    result = await cli.run("record", "-m", "gpt-4o-mini", "--output", str(out), "hi")
    assert result.returncode == 1
    assert "-> 429" in result.stderr and "rate limited" in result.stderr
    assert json.loads(out.read_text())["outcome"]["error"]["type"] == "RateLimitError"


async def test_an_unknown_model_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    result = await cli.run("record", "-m", "no-such-model", "--output",
                           str(tmp_path / "x.json"), "hi")
    assert result.returncode != 0
    assert result.stderr.startswith("jackfield: ") and "no-such-model" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "x.json").exists() and chat_requests(cli) == 0


async def test_an_unwritable_output_is_refused_before_the_call(cli: Cli,
                                                               tmp_path: Path) -> None:
    missing = await cli.run("record", "-m", "gpt-4o-mini", "--output",
                            str(tmp_path / "nowhere" / "x.json"), "hi")
    assert missing.returncode == 2
    assert "the directory" in missing.stderr and "does not exist" in missing.stderr
    existing = tmp_path / "kept.json"
    existing.write_text("mine")
    kept = await cli.run("record", "-m", "gpt-4o-mini", "--output", str(existing), "hi")
    assert kept.returncode == 2 and "exists: pass --force" in kept.stderr
    assert existing.read_text() == "mine"
    directory = await cli.run("record", "-m", "gpt-4o-mini", "--output", str(tmp_path), "hi")
    assert directory.returncode == 2 and "is a directory" in directory.stderr
    reserved = await cli.run("record", "-m", "gpt-4o-mini", "-o", "stream=false", "hi")
    assert reserved.returncode == 2 and "use --stream or --no-stream" in reserved.stderr
    assert chat_requests(cli) == 0
    forced = await cli.run("record", "-m", "gpt-4o-mini", "--output", str(existing),
                           "--force", "hi")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(existing.read_text())["format"] == "jackfield-recording"
