"""Fixtures for the prompted tools and JSON tests: the scripted service on loopback and
registries over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from scripted import ScriptedProvider, ScriptedServer

from jackfield import Registry
from jackfield.testing import RegistryFactory, ServeApp


@pytest.fixture
async def scripted(serve_app: ServeApp) -> ScriptedServer:
    """A running scripted service (its url in `scripted.url`)."""
    server = ScriptedServer()
    server.url = await serve_app(server.app)
    return server


@pytest.fixture
def make_scripted(scripted: ScriptedServer,
                  make_registry: RegistryFactory) -> Callable[..., Registry]:
    """`make_scripted(prompted=..., ...)`: a registry of the scripted provider alone."""

    def make(**kwargs: Any) -> Registry:
        return make_registry([ScriptedProvider()], base_urls={"scripted": scripted.url},
                             **kwargs)

    return make


@pytest.fixture
def registry(make_scripted: Callable[..., Registry]) -> Registry:
    """A registry with prompted tools and JSON on for every model."""
    return make_scripted(prompted=True)


@pytest.fixture(params=[False, True], ids=["whole", "streamed"])
def stream(request: pytest.FixtureRequest) -> bool:
    """Each test runs on a whole reply and on a streamed one."""
    return bool(request.param)
