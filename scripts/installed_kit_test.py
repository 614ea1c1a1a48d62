"""A plugin author's first test, run by scripts/check_dists.sh against the installed wheels.

Copied to a temporary directory as test_installed_kit.py and run there, so that only what
the wheels installed is importable: the `pytest11` entry point must load the fixtures, and
`jackfield[testing]` must have brought pytest-asyncio (strict mode: no conftest, no ini).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import jackfield
import jackfield_amigochat
from jackfield.testing import Conformance, conformance_tests, make_config, make_request
from jackfield_amigochat.emulator import create_app


def test_imported_from_the_installed_wheels() -> None:
    for module in (jackfield, jackfield_amigochat):
        assert "site-packages" in Path(module.__file__ or "").parts, module.__file__


def test_make_request_resolves_an_alias() -> None:
    spec = jackfield_amigochat.jackfield_provider()
    request = make_request(spec, "gpt-4o", "hi", temperature=0.1)
    assert request.model.id == "gpt-4o-2024-11-20"
    assert request.params.temperature == 0.1  # complete()'s own parameter, honoured here
    assert make_config(spec, base_url="http://127.0.0.1:9").base_url == "http://127.0.0.1:9"


@pytest.mark.asyncio
async def test_a_call_through_the_fixtures(serve_app: Any, make_registry: Any) -> None:
    url = await serve_app(create_app())
    registry = make_registry([jackfield_amigochat], base_urls={"amigochat": url})
    reply = await registry.complete("amigochat/gpt-4o-mini", "packaged")
    assert "You said: packaged" in reply.text


# The conformance kit from the wheels, in pytest-asyncio's strict mode: a few of its cases.
test_amigochat_conformance = conformance_tests(
    Conformance(jackfield_amigochat),
    select=("stream/agree", "stream/early_exit", "fault/rate_limit/", "capability/images"))
