"""The server's own settings: `jackfield serve --strict` and `--prompted`, and create_app()'s
strict= and prompted=, reach the registry that answers."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

import jackfield._server
import jackfield_aichats.emulator
from jackfield import Registry
from jackfield._cli import serve as cli_serve
from jackfield._cli.main import build_parser
from jackfield._server import DEFAULT_MAX_BODY_BYTES, REGISTRY_KEY, create_app
from jackfield._server.serve_flags import prompted_flags

COOKIE = "session=abc"


@pytest.mark.parametrize(("values", "setting"), [
    ([], False),
    (["tools"], frozenset({"tools"})),
    (["tools, json"], frozenset({"tools", "json"})),
    (["tools", "json"], frozenset({"tools", "json"})),
    (["aichats/gpt-4=tools,json"], {"aichats/gpt-4": frozenset({"tools", "json"})}),
    (["json", "amigochat=tools"], {"amigochat": frozenset({"tools"}), "*": frozenset({"json"})}),
])
def test_prompted_flags(values: list[str], setting: Any) -> None:
    assert prompted_flags(values) == setting


@pytest.mark.parametrize(("value", "needle"), [
    ("yaml", "got yaml"), ("", "got nothing"), ("gpt-4=", "got nothing"),
    ("=tools", "name a model"), ("tools,xml", "got xml"),
])
def test_prompted_flags_refuse_what_they_do_not_know(value: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        prompted_flags([value])


def test_the_serve_command_defaults_to_the_servers_body_limit() -> None:
    args = build_parser().parse_args(["serve"])
    assert args.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert args.strict is False and args.prompted == []


class _Stop(Exception):
    """Raised by the stand-in create_app once it has what serve() passed."""


async def test_serve_hands_strict_and_prompted_to_create_app(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_create_app(**kwargs: Any) -> Any:
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(jackfield._server, "create_app", fake_create_app)
    args = build_parser().parse_args(["serve", "--strict", "--prompted", "tools",
                                      "--prompted", "thinker=json"])
    with pytest.raises(_Stop):
        await cli_serve.serve(args)
    assert seen["strict"] is True
    assert seen["prompted"] == {"thinker": frozenset({"json"}), "*": frozenset({"tools"})}


async def test_create_app_sets_up_the_registry_it_discovers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JACKFIELD_LOAD_PLUGINS", "jackfield-aichats")
    app = create_app(strict=True, prompted={"gpt-4": {"tools"}})
    registry = app[REGISTRY_KEY]
    try:
        assert registry.strict is True
        assert registry._prompted == {"gpt-4": frozenset({"tools"})}
        plain = create_app()[REGISTRY_KEY]
        assert plain.strict is False and plain._prompted == frozenset()
    finally:
        await registry.aclose()


async def test_create_app_refuses_settings_for_a_registry_it_is_given(
        mock_registry: Registry) -> None:
    with pytest.raises(ValueError, match="pass them to the Registry"):
        create_app(mock_registry, strict=True)


@pytest.fixture
async def serving_strict(serve_app: Any) -> AsyncIterator[str]:
    """`jackfield serve --strict` in a process, over the AiChats emulator: its /v1 URL."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JACKFIELD_")
               or k in ("JACKFIELD_CONFIG_DIR", "JACKFIELD_CACHE_DIR")}
    environ |= {"JACKFIELD_LOAD_PLUGINS": "jackfield-aichats", "PYTHONUNBUFFERED": "1",
                "JACKFIELD_AICHATS_COOKIE": COOKIE, "JACKFIELD_AICHATS_BASE_URL":
                await serve_app(jackfield_aichats.emulator.create_app(cookie=COOKIE))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jackfield", "serve", "--port", "0", "--strict", "--prompted",
        "tools", env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", banner)
        assert match, banner
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 30)


async def test_jackfield_serve_strict_refuses_what_it_would_not_send(
        serving_strict: str) -> None:
    async with openai.AsyncOpenAI(base_url=serving_strict, api_key="unused",
                                  max_retries=0) as api:
        with pytest.raises(openai.BadRequestError) as caught:
            await api.chat.completions.create(
                model="aichats/gpt-4", messages=[{"role": "user", "content": "hi"}],
                temperature=0.2)
        assert isinstance(caught.value.body, dict)
        assert caught.value.body["param"] == "temperature"
        reply = await api.chat.completions.create(
            model="aichats/gpt-4", messages=[{"role": "user", "content": "hi"}])
        assert (reply.choices[0].message.content or "").endswith("You said: hi")
