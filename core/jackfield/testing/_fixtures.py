"""pytest plugin for provider authors: emulators on loopback, registries from chosen plugins,
the core's transport for a plugin's hooks alone.

Loaded automatically through the `pytest11` entry point. Its async fixtures need
pytest-asyncio (install `jackfield[testing]`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aiohttp import web

    from jackfield._engine.registry import Registry

__all__ = ["loopback_only", "make_registry", "provider_harness", "serve_app"]

from jackfield.testing._harness import ProviderHarness, RegistryFactory, ServeApp


def _async_fixture(function: Any) -> Any:
    """Mark an async fixture for pytest-asyncio in both its strict and auto modes."""
    try:
        import pytest_asyncio
    except ImportError:  # the plugin still loads; its async fixtures then need auto mode
        return pytest.fixture(function)
    return pytest_asyncio.fixture(function)


@pytest.fixture
def loopback_only() -> Iterator[None]:
    """Fail the test that tries to connect beyond loopback (refused, even if it caught the
    error): `pytestmark = pytest.mark.usefixtures("loopback_only")`, or make it autouse in
    a conftest.py, so that no test can reach a real service."""
    from jackfield.testing._network import only_loopback

    with only_loopback() as refused:
        before = len(refused)
        yield
        tried = refused[before:]
        del refused[before:]
    if tried:
        pytest.fail(f"the test tried to connect beyond loopback ({', '.join(tried)}); "
                    "tests may reach only 127.0.0.1")


@_async_fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    """Run aiohttp applications on 127.0.0.1 for the test: `url = await serve_app(app)`."""
    from jackfield.testing import _emulation as emulation

    async with AsyncExitStack() as stack:
        async def start(app: web.Application) -> str:
            return await stack.enter_async_context(emulation.serve_app(app))

        yield start


@_async_fixture
async def make_registry() -> AsyncIterator[RegistryFactory]:
    """Build registries closed after the test.

    `make_registry(plugins=[my_plugin], base_urls={"myprovider": url}, config=..., **kwargs)`;
    `plugins=None` discovers the installed entry points. The environment is not read unless
    `environ=` is passed, so a developer's own settings never leak into tests.
    """
    from jackfield._engine.registry import Registry

    made: list[Registry] = []

    def factory(plugins: Iterable[object] | None = (), *,
                base_urls: Mapping[str, str] | None = None,
                config: Mapping[str, Mapping[str, Any]] | None = None,
                **kwargs: Any) -> Registry:
        merged = {name: dict(values) for name, values in (config or {}).items()}
        for name, url in (base_urls or {}).items():
            merged.setdefault(name, {})["base_url"] = url
        kwargs.setdefault("environ", {})
        registry = Registry(plugins, config=merged, **kwargs)
        made.append(registry)
        return registry

    yield factory
    for registry in made:
        await registry.aclose()


@_async_fixture
async def provider_harness() -> AsyncIterator[ProviderHarness]:
    """The core's transport without a Registry, closed after the test: run a plugin's hooks
    with `await provider_harness.events(plugin, make_request(spec), make_config(spec, ...))`.
    """
    async with ProviderHarness() as harness:
        yield harness
