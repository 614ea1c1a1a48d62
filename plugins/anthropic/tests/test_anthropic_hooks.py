"""The plugin as the core finds it: its entry point, a light import, the emulator hook, and
no key in any error, repr or request description."""

from __future__ import annotations

import subprocess
import sys

import pytest
from anthropic_helpers import KEY, SONNET, SPEC, anthropic_registry

import jackfield_anthropic
from jackfield import AuthenticationError, Registry
from jackfield.provider import ModelSpec
from jackfield.testing import RegistryFactory, ServeApp, make_config, make_request
from jackfield_anthropic.emulator import create_app


async def test_the_entry_point_names_the_provider() -> None:
    async with Registry.discover(environ={"JACKFIELD_LOAD_PLUGINS": "jackfield-anthropic"}
                                 ) as registry:
        [record] = [r for r in registry.plugins() if r.distribution == "jackfield-anthropic"]
        assert (record.name, record.provider, record.error) == ("anthropic", "anthropic", None)


def test_importing_the_plugin_loads_no_http_stack() -> None:
    code = ("import sys, jackfield_anthropic; jackfield_anthropic.jackfield_provider(); "
            "print('aiohttp' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_the_emulator_hook() -> None:
    factory = jackfield_anthropic.jackfield_emulator()
    assert factory is create_app


def test_the_spec() -> None:
    assert SPEC.name == "anthropic" and SPEC.base_url == "https://api.anthropic.com"
    assert SPEC.pass_through and SPEC.settings["api_key"].fallback_env == (
        "ANTHROPIC_API_KEY",)
    assert SPEC.settings["api_key"].secret


async def test_no_key_in_errors_or_reprs(serve_app: ServeApp,
                                         make_registry: RegistryFactory) -> None:
    config = make_config(SPEC, base_url="http://127.0.0.1:9", api_key=KEY)
    assert KEY not in repr(config)
    request = make_request(SPEC.with_models([ModelSpec(SONNET)]), SONNET, "hi")
    built = jackfield_anthropic.jackfield_build_request(request=request, config=config)
    assert KEY not in repr(built)
    url = await serve_app(create_app(api_key="sk-ant-the-right-one-0000000000"))
    registry = anthropic_registry(make_registry, url)
    with pytest.raises(AuthenticationError) as raised:
        await registry.complete(f"anthropic/{SONNET}", "hi")
    assert KEY not in str(raised.value) and KEY not in repr(raised.value)
    assert KEY not in repr(registry.config("anthropic"))
