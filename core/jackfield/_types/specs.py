"""What a provider plugin declares: its models, options and settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

from jackfield._types.capabilities import Capabilities

__all__ = ["Kind", "ModelInfo", "ModelSpec", "Option", "ProviderSpec", "Setting", "download_host"]

Kind = Literal["chat", "image", "embedding"]
KINDS: tuple[Kind, ...] = ("chat", "image", "embedding")


def _check_kind(_instance: object, _attribute: object, value: str) -> None:
    if value not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {value!r}")


@attrs.frozen
class ModelSpec:
    """One model a provider serves: its wire id, kind and availability."""

    id: str
    kind: Kind = attrs.field(default="chat", validator=_check_kind)
    available: bool = True
    # Provider-specific data the request builder needs (AmigoChat's personaId, say).
    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    # What the model supports; the default is text only, honouring no parameter.
    capabilities: Capabilities = attrs.field(factory=Capabilities)


@attrs.frozen
class Option:
    """A per-call option a provider accepts, with its type and the default sent upstream."""

    type: type | tuple[type, ...]
    default: Any = None
    kinds: tuple[Kind, ...] = KINDS
    doc: str = ""


def _env_names(names: str | Iterable[str]) -> tuple[str, ...]:
    # Typed (with `converter=tuple` mypy --strict refused every typed call), and one
    # variable given bare ("OPENAI_API_KEY") is one name, not its letters.
    result = (names,) if isinstance(names, str) else tuple(names)
    for name in result:
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            raise ValueError(f"fallback_env must list environment variable names, got "
                             f"{name!r}")
    return result


@attrs.frozen
class Setting:
    """A per-provider configuration value (a cookie, a token) read from config or environment.

    `fallback_env` names environment variables read, in order, after the provider's own
    JACKFIELD_<PROVIDER>_<SETTING> (OPENAI_API_KEY, say): for the plugin's default provider
    only, never for a named instance, which must not pick up another service's key.
    """

    doc: str = ""
    secret: bool = True
    fallback_env: tuple[str, ...] = attrs.field(default=(), converter=_env_names)


def download_host(entry: str) -> tuple[str, int | None]:
    """Parse a declared download host, "cdn.example.com" or "cdn.example.com:8443"."""
    problem = ValueError(f"a download host must be a host name with an optional port, such "
                         f"as 'cdn.example.com' or 'cdn.example.com:8443', got {entry!r}")
    if not isinstance(entry, str):
        raise problem
    parts = urlsplit(f"//{entry.strip().lower()}")
    try:
        port = parts.port
    except ValueError as error:
        raise problem from error
    if (not parts.hostname or parts.username is not None or parts.path or parts.query
            or parts.fragment):
        raise problem
    return parts.hostname.rstrip("."), port


def _host_tuple(hosts: Iterable[str]) -> tuple[str, ...]:
    if isinstance(hosts, str):
        hosts = (hosts,)  # one host given bare, not its characters
    result = tuple(hosts)
    for entry in result:
        download_host(entry)
    return result


# complete()'s own parameters: a provider declares what it honours in Capabilities instead.
FIRST_CLASS = frozenset({
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty",
    "frequency_penalty", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls",
    "response_format", "n", "reasoning_effort", "logprobs", "top_logprobs", "prompted",
    "strict",
})


def _model_tuple(models: Iterable[ModelSpec]) -> tuple[ModelSpec, ...]:
    return tuple(models)


@attrs.frozen
class ProviderSpec:
    """Everything a plugin tells the core about its provider (the model-listing hook)."""

    name: str
    base_url: str
    models: tuple[ModelSpec, ...] = attrs.field(converter=_model_tuple)
    default_model: str | None = None
    options: Mapping[str, Option] = attrs.field(factory=dict)
    settings: Mapping[str, Setting] = attrs.field(factory=dict)
    # One line on how to authenticate, shown in AuthenticationError messages.
    auth_hint: str = ""
    # alias -> model id; resolved before the ids, as upstream did.
    aliases: Mapping[str, str] = attrs.field(factory=dict)
    # Hosts besides the base URL's own that image downloads may come from (a CDN):
    # "cdn.example.com" (default ports) or "cdn.example.com:8443".
    download_hosts: tuple[str, ...] = attrs.field(default=(), converter=_host_tuple)
    # True: a pinned "provider/any-id" that the listing does not know is sent as it is (the
    # service decides; its "unknown model" answer becomes UnknownModelError), with
    # `pass_through_capabilities` (default: all unknown, everything is sent).
    pass_through: bool = False
    pass_through_capabilities: Capabilities = attrs.field(factory=Capabilities.unknown)

    def __attrs_post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"provider name must be alphanumeric with - or _, got {self.name!r}")
        ids = [m.id for m in self.models]
        if len(set(ids)) != len(ids):
            raise ValueError(f"provider {self.name!r} lists a model id twice")
        missing = sorted(set(self.aliases.values()) - set(ids))
        if missing:
            raise ValueError(f"provider {self.name!r} has aliases to unknown ids: {missing}")
        taken = sorted(FIRST_CLASS & set(self.options))
        if taken:
            raise ValueError(f"provider {self.name!r} declares option(s) {taken}, which are "
                             "complete()'s own parameters: declare what each model honours "
                             "in ModelSpec(capabilities=Capabilities(...)) instead")
        if self.default_model is not None and self.default_model not in ids:
            raise ValueError(f"provider {self.name!r}: default model {self.default_model!r} "
                             "is not one of its models")

    def model(self, model_id: str) -> ModelSpec:
        """Return the model with this wire id (KeyError if none)."""
        for spec in self.models:
            if spec.id == model_id:
                return spec
        raise KeyError(model_id)

    def aliases_of(self, model_id: str) -> tuple[str, ...]:
        """Return every alias that resolves to model_id, in table order."""
        return tuple(alias for alias, target in self.aliases.items() if target == model_id)

    def with_models(self, models: Iterable[ModelSpec]) -> ProviderSpec:
        """Return this provider with another model list (a discovered one, an allow-list's):
        aliases and the default model that no longer name one of its models are dropped."""
        models = tuple(models)
        ids = {m.id for m in models}
        return attrs.evolve(
            self, models=models,
            aliases={alias: target for alias, target in self.aliases.items() if target in ids},
            default_model=self.default_model if self.default_model in ids else None)

    def unlisted(self, model_id: str, kind: Kind = "chat") -> ModelSpec:
        """Return the spec a pass-through provider sends an unlisted model id with."""
        return ModelSpec(model_id, kind=kind, capabilities=self.pass_through_capabilities)


@attrs.frozen
class ModelInfo:
    """A model as the registry lists it."""

    id: str
    provider: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    available: bool = True
    default: bool = False
    capabilities: Capabilities = attrs.field(factory=Capabilities)
    # A route group listed as a model of its own: the model names it tries in turn
    # (`provider` is then empty); empty for a provider's model.
    members: tuple[str, ...] = ()

    @property
    def qualified_id(self) -> str:
        """Return "provider/id", the name that pins this provider (a route's own name)."""
        return f"{self.provider}/{self.id}" if self.provider else self.id

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        result = {"id": self.id, "provider": self.provider, "kind": self.kind,
                  "aliases": list(self.aliases), "available": self.available,
                  "default": self.default, "capabilities": self.capabilities.to_dict()}
        if self.members:
            result["members"] = list(self.members)
        return result
