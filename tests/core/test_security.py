"""No captured credentials in the source; secrets never reach reprs, logs or errors."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jackfield import JackfieldError, RetryPolicy
from mockprovider import MockProvider, MockServer

ROOT = Path(__file__).resolve().parents[2]
# Names of the cookies the upstream client hard-coded (captured September 2024), spelled in
# pieces so that this file does not itself match the scan it performs.
CAPTURED = re.compile("|".join(["muV" + "yak", "_csrf" + "-front=", "ai-chat" + "-front="]),
                      re.IGNORECASE)


def tracked_source_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines()
            if not name.endswith(".md") and (ROOT / name).is_file()]


def test_no_captured_cookie_in_the_source() -> None:
    offenders = []
    for path in tracked_source_files():
        text = path.read_text(errors="replace")
        if CAPTURED.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "credentials come from configuration only"


SECRET = "tok-9f8e7d6c5b4a"


async def test_secret_stays_out_of_reprs_logs_and_errors(
        mock_server: MockServer, serve_app: Any, make_registry: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mock_server.fail += [(503, {}, "{}"), (401, {}, '{"message": "bad token"}')]
    url = await serve_app(mock_server.app)
    registry = make_registry([MockProvider()], config={"mock": {"base_url": url,
                                                                "token": SECRET}},
                             retry=RetryPolicy(backoff=0.01, max_backoff=0.02))
    with pytest.raises(JackfieldError) as caught:
        await registry.complete("echo", "hi")
    assert mock_server.headers[-1]["authorization"] == f"Bearer {SECRET}"  # it was sent
    shown = [str(caught.value), repr(caught.value), caplog.text, repr(registry),
             repr(registry.config("mock")), repr(registry.health())]
    assert not [text for text in shown if SECRET in text]


def test_passwords_and_query_values_in_urls_stay_out_of_reprs() -> None:
    from jackfield._settings.config import ProviderConfig
    from jackfield.provider import HttpRequest

    config = ProviderConfig("mock", "https://me:hunter2-secret@api.example.test/v1")
    request = HttpRequest("GET", "https://api.example.test/v1/images?key=tok-123456&size=2")
    shown = repr(config) + repr(request)
    assert "hunter2-secret" not in shown and "tok-123456" not in shown
    assert "me:***@api.example.test/v1" in shown and "key=***&size=***" in shown
    assert repr(HttpRequest("GET", "http://127.0.0.1:8001/chat/")).count("127.0.0.1:8001/chat/")


def test_a_refused_url_is_quoted_without_its_password() -> None:
    from jackfield import ConfigurationError, Registry

    for kwargs in ({"proxy": "socks5://me:hunter2-secret@127.0.0.1:1080"},
                   {"proxy": "http://me:hunter2-secret@127.0.0.1:99999"}):
        with pytest.raises(ConfigurationError) as caught:
            Registry([], environ={}, **kwargs)
        assert "hunter2-secret" not in str(caught.value) and "me:***@" in str(caught.value)
