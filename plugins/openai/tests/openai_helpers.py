"""Helpers shared by the jackfield-openai tests: keys, registries on the emulator."""

from __future__ import annotations

from typing import Any

import jackfield_openai
from jackfield import Registry
from jackfield.testing import RegistryFactory

SPEC = jackfield_openai.jackfield_provider()
KEY = "sk-test-key-not-a-secret-0123456789"  # made up: no real key belongs in the tests
OTHER_KEY = "sk-other-key-not-a-secret-9876543210"
FAST = {"attempts": 1}


def openai_registry(make_registry: RegistryFactory, url: str, *, key: str | None = KEY,
                    **kwargs: Any) -> Registry:
    """Return a registry of this plugin alone, its default instance pointed at url/v1."""
    settings: dict[str, Any] = {"base_url": f"{url}/v1"}
    if key is not None:
        settings["api_key"] = key
    return make_registry([jackfield_openai], config={"openai": settings}, **kwargs)
