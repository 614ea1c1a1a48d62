"""What the plugin declares to the core: the provider, its defaults and its one setting."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from jackfield.provider import ProviderSpec, Setting

from .models import ALIASES, DEFAULT_MODEL, MODELS

__all__ = ["BASE_URL", "DEFAULTS", "NAME", "provider_spec"]

NAME = "amigochat"
BASE_URL = "https://api.amigochat.io"

# The sampling values the web client sent upstream, sent when a call sets none of its own
# (complete(temperature=...) and the others are checked by the core and override these).
DEFAULTS: Mapping[str, float | int] = MappingProxyType({
    "temperature": 0.5, "top_p": 0.95, "max_tokens": 4000, "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
})

AUTH_HINT = (
    "AmigoChat answers without a token; if it starts asking for one, set "
    "JACKFIELD_AMIGOCHAT_TOKEN or Registry(config={'amigochat': {'token': ...}})."
)


def provider_spec() -> ProviderSpec:
    """Return the AmigoChat provider: 29 chat and 8 image models and their aliases."""
    return ProviderSpec(
        name=NAME,
        base_url=BASE_URL,
        models=MODELS,
        default_model=DEFAULT_MODEL,
        aliases=ALIASES,
        settings={"token": Setting(doc="optional bearer token sent after 'Bearer'", secret=True)},
        auth_hint=AUTH_HINT,
    )
