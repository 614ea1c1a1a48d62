"""Fixtures for the probe tests: the three seed services' emulators on loopback, and
registries over them that keep their probes in the test's own cache directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from probe_helpers import (
    AMIGO_MODELS,
    API_KEY,
    COOKIE,
    PLUGINS,
    MakeProbed,
    Services,
    with_arrivals,
)

from jackfield import Registry
from jackfield_aichats.emulator import create_app as aichats_app
from jackfield_amigochat.emulator import create_app as amigochat_app
from jackfield_openai.emulator import create_app as openai_app


@pytest.fixture
async def services(serve_app: Any) -> Services:
    """Serve the three emulators: aichats wants COOKIE, openai wants API_KEY."""
    apps = {"aichats": with_arrivals(aichats_app(cookie=COOKIE)),
            "amigochat": with_arrivals(amigochat_app()),
            "openai": with_arrivals(openai_app(api_key=API_KEY))}
    urls = {name: await serve_app(app) for name, app in apps.items()}
    return Services(apps["aichats"], apps["amigochat"], apps["openai"], urls)



@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def probed(services: Services, make_registry: Any, cache_dir: Path) -> MakeProbed:
    """`probed(cookie=True, api_key=API_KEY, **registry_kwargs)`: a registry of the three
    plugins over the emulators, keeping its probes in cache_dir."""
    def make(*, cookie: bool = True, api_key: str | None = API_KEY, **kwargs: Any) -> Registry:
        config: dict[str, dict[str, Any]] = {
            "aichats": {"cookie": COOKIE} if cookie else {},
            "amigochat": {"models": AMIGO_MODELS},
            "openai": {"api_key": api_key} if api_key else {}}
        kwargs.setdefault("environ", {"JACKFIELD_CACHE_DIR": str(cache_dir)})
        registry: Registry = make_registry(list(PLUGINS), base_urls=services.urls,
                                           config=config, **kwargs)
        return registry

    return make


