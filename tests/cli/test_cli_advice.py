"""The command line gives command-line advice (--timeout, the config file), not Python's."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Emulators, clean_environ, one_error_line

from jackfield import (
    AllProvidersFailedError,
    AuthenticationError,
    ProviderTimeoutError,
    ResponseFormatError,
    StalledResponseError,
)
from jackfield._cli.common import cli_message
from jackfield._cli.main import build_parser
from jackfield.testing import FAULTS_KEY, STATS_KEY
from jackfield_aichats import AUTH_HINT

PYTHON_ONLY = ("Registry(", "Timeouts(", "Limits(", "RetryPolicy(", "timeout=", "config={")


@pytest.mark.parametrize(("error", "expected"), [
    (ProviderTimeoutError("p", "no answer"), "Raise --timeout SECONDS"),
    (StalledResponseError("p", "stalled"), "read_idle under [timeouts] in the file named by "
                                           "JACKFIELD_CONFIG"),
    (ResponseFormatError("p", "too big", advice="Raise Limits(max_reply_bytes=...) if such "
                                                "replies are expected."),
     "max_reply_bytes under [limits] in the file named by JACKFIELD_CONFIG"),
    (AuthenticationError("aichats", "no cookie", advice=AUTH_HINT),
     "cookie under [providers.aichats] in the file named by JACKFIELD_CONFIG"),
])
def test_python_advice_becomes_cli_advice(error: Exception, expected: str) -> None:
    line = cli_message(error)
    assert expected in line
    assert not any(fragment in line for fragment in PYTHON_ONLY), line


def test_every_provider_failed_is_rebuilt_with_cli_advice() -> None:
    error = AllProvidersFailedError("m", [ProviderTimeoutError("a", "slow"),
                                          ProviderTimeoutError("b", "slow")])
    line = cli_message(error)
    assert line.count("--timeout") == 2 and "\n" not in line
    assert "timeout=" not in line


async def test_a_timeout_on_the_command_line_advises_the_flag(emulators: Emulators) -> None:
    emulators.aichats[FAULTS_KEY].set("slow_start")
    result = await emulators.run("chat", "-m", "aichats/gpt-4", "--timeout", "0.3", "hi")
    line = one_error_line(result)
    assert result.returncode == 1 and "--timeout" in line, line
    assert not any(fragment in line for fragment in PYTHON_ONLY), line


async def test_a_missing_credential_is_explained_for_the_shell(emulators: Emulators) -> None:
    environ = {k: v for k, v in emulators.environ.items() if k != "JACKFIELD_AICHATS_COOKIE"}
    result = await emulators.run("chat", "-m", "aichats/gpt-4", "hi", environ=environ)
    line = one_error_line(result)
    assert "JACKFIELD_AICHATS_COOKIE" in line and "[providers.aichats]" in line
    assert not any(fragment in line for fragment in PYTHON_ONLY), line


async def test_a_bad_setting_names_the_variable(emulators: Emulators) -> None:
    environ = {**emulators.environ, "JACKFIELD_AICHATS_BASE_URL": "127.0.0.1:1"}
    result = await emulators.run("chat", "-m", "aichats/gpt-4", "hi", environ=environ)
    assert result.returncode == 2
    assert "JACKFIELD_AICHATS_BASE_URL must be an http:// or https:// URL" in one_error_line(result)


async def test_no_plugins_says_how_to_get_some(emulators: Emulators) -> None:
    environ = clean_environ({"JACKFIELD_LOAD_PLUGINS": ""})
    models = await emulators.run("models", environ=environ)
    assert models.returncode == 0 and "pip install jackfield-aichats" in models.stderr
    chat = await emulators.run("chat", "-m", "gpt-4", "hi", environ=environ)
    assert chat.returncode == 2 and "pip install jackfield-aichats" in one_error_line(chat)
    listing = await emulators.run("models", "--provider", "amigochat", environ=environ)
    assert listing.returncode == 2
    assert "`pip install jackfield-amigochat` provides it" in one_error_line(listing)


def _subcommands() -> dict[str, str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "==SUPPRESS==" or a.choices)
    assert isinstance(action.choices, dict)
    return {name: sub.format_help() for name, sub in action.choices.items()}


def test_every_help_shows_its_defaults_and_examples() -> None:
    helps = _subcommands()
    assert {"models", "plugins", "chat", "image", "emulate", "serve", "logs", "keys",
            "config", "install", "uninstall", "completion"} <= set(helps)
    for name, text in helps.items():
        assert "\nexamples:\n" in text and f"jackfield {name}" in text.split("examples:")[1], name
    assert "(default: 127.0.0.1)" in helps["serve"] and "(default: 8080)" in helps["serve"]
    assert "(default: 127.0.0.1)" in helps["emulate"]
    assert "default: total under [timeouts]" in " ".join(helps["chat"].split())


def test_dash_o_means_a_provider_option_in_every_command() -> None:
    helps = _subcommands()
    for name in ("chat", "image"):
        assert "-o KEY=VALUE, --option KEY=VALUE" in helps[name], name
    # It used to mean the output file in `jackfield image`.
    args = build_parser().parse_args(["image", "-m", "dalle", "-o", "size=big", "a cat"])
    assert args.options == [("size", "big")] and args.output is None
    args = build_parser().parse_args(["image", "-m", "dalle", "--output", "x.png", "a cat"])
    assert args.output == "x.png"


async def test_image_options_reach_the_provider_check(emulators: Emulators,
                                                      tmp_path: Path) -> None:
    result = await emulators.run("image", "-m", "dalle", "-o", "shape=big", "a cat")
    # The first line is the progress note; the refusal comes before anything is sent.
    assert result.returncode == 2
    assert "does not accept the option(s) shape" in result.stderr.splitlines()[-1]
    assert emulators.aichats[STATS_KEY].requests == 0
    # OpenAI's size is accepted by every image model: not sent where not used, and said so.
    result = await emulators.run("image", "-m", "dalle", "-o", "size=big", "--dir",
                                 str(tmp_path / "out"), "a cat")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'out' / 'a-cat.png'}\n"
    assert result.stderr.splitlines()[-1] == (
        "jackfield: warning: size was accepted but not sent: aichats does not use it.")
    assert "size" not in str(emulators.aichats[STATS_KEY].last_json)
