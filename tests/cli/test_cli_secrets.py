"""`jackfield chat` against an upstream that quotes our request headers: stderr stays clean."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CLI, clean_environ, one_error_line

from echoing import SECRET, SECRET_COOKIE, echoing_app, leaks


@pytest.mark.parametrize(("provider", "model", "setting", "value"), [
    ("amigochat", "amigochat/gpt-4o", "TOKEN", SECRET),
    ("aichats", "aichats/gpt-4", "COOKIE", SECRET_COOKIE),
])
@pytest.mark.parametrize("status", [401, 500])
async def test_chat_stderr_quotes_no_secret(provider: str, model: str, setting: str,
                                            value: str, status: int, serve_app: Any) -> None:
    url = await serve_app(echoing_app(status))
    environ = clean_environ({f"JACKFIELD_{provider.upper()}_BASE_URL": url,
                             f"JACKFIELD_{provider.upper()}_{setting}": value,
                             "JACKFIELD_CONFIG": ""})
    for debug in ([], ["--debug"]):
        result = await asyncio.to_thread(
            subprocess.run, [*CLI, *debug, "chat", "-m", model, "--no-stream", "hi"],
            capture_output=True, text=True, env=environ, timeout=60)
        assert result.returncode == 1, result.stderr
        if not debug:
            assert f"HTTP {status}" in one_error_line(result)
        assert leaks(result.stderr + result.stdout) == [], result.stderr
        assert "***" in result.stderr


def test_a_refused_proxy_url_is_quoted_without_its_password(tmp_path: Path) -> None:
    config = tmp_path / "jackfield.toml"
    config.write_text('proxy = "socks5://me:pr0xy-pa55word@127.0.0.1:1080"\n')
    result = subprocess.run([*CLI, "chat", "-m", "aichats/gpt-4", "hi"], capture_output=True,
                            text=True, env=clean_environ({"JACKFIELD_CONFIG": str(config)}),
                            timeout=60)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "pr0xy-pa55word" not in line and "socks5://me:***@127.0.0.1:1080" in line
