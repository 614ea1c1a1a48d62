"""What the plugin declares to the core: the provider, its options and its one setting."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from jackfield.provider import Option, ProviderSpec, Setting

from .models import ALIASES, DEFAULT_MODEL, MODELS

__all__ = ["BASE_URL", "NAME", "OPTIONS", "provider_spec"]

NAME = "amigochat"
BASE_URL = "https://api.amigochat.io"

# The defaults are the values the web client sent upstream; each may be overridden per call.
OPTIONS: Mapping[str, Option] = MappingProxyType({
    "temperature": Option(float, 0.5, kinds=("chat",), doc="sampling temperature, 0 to 2"),
    "top_p": Option(float, 0.95, kinds=("chat",), doc="nucleus sampling mass, 0 to 1"),
    "max_tokens": Option(int, 4000, kinds=("chat",), doc="longest reply in tokens, at least 1"),
    "frequency_penalty": Option(float, 0, kinds=("chat",), doc="-2 to 2"),
    "presence_penalty": Option(float, 0, kinds=("chat",), doc="-2 to 2"),
})

AUTH_HINT = (
    "AmigoChat answers without a token; if it starts asking for one, set "
    "JACKFIELD_AMIGOCHAT_TOKEN or Registry(config={'amigochat': {'token': ...}})."
)


def provider_spec() -> ProviderSpec:
    """Return the AmigoChat provider: 29 chat and 8 image models, aliases and options."""
    return ProviderSpec(
        name=NAME,
        base_url=BASE_URL,
        models=MODELS,
        default_model=DEFAULT_MODEL,
        aliases=ALIASES,
        options=OPTIONS,
        settings={"token": Setting(doc="optional bearer token sent after 'Bearer'", secret=True)},
        auth_hint=AUTH_HINT,
    )
