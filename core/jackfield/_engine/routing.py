"""Model names to providers: aliases, ids, `provider/model` pins and the candidate order."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import attrs

from jackfield._engine.discovery import install_hint
from jackfield._errors import InvalidRequestError, ModelUnavailableError, UnknownModelError
from jackfield._types.capabilities import Capabilities
from jackfield._types.specs import Kind, ModelInfo, ModelSpec, ProviderSpec

__all__ = ["Candidate", "Router"]


@attrs.frozen
class Candidate:
    """A provider that can serve a call, with the model id it will be sent as (not a route:
    routes are the user's named groups of models)."""

    provider: ProviderSpec
    model: ModelSpec


class Router:
    """Resolves names. Providers are tried in `order` (given, else alphabetical).

    `groups` are user-defined route names: each maps to model names tried in turn.
    `passing` names the providers that send a pinned id they do not list as it is
    (ProviderSpec.pass_through, no allow-list); while `discovering` providers have not
    listed their models, a route member nobody lists yet is accepted, and skipped.
    """

    def __init__(self, providers: Mapping[str, ProviderSpec], order: Iterable[str] = (),
                 groups: Mapping[str, Sequence[str]] | None = None, *,
                 passing: Collection[str] = (), discovering: Collection[str] = ()) -> None:
        preferred = [name for name in order if name in providers]
        rest = sorted(name for name in providers if name not in preferred)
        self._providers = [providers[name] for name in (*preferred, *rest)]
        self._by_name = {spec.name: spec for spec in self._providers}
        self._groups = {name: tuple(members) for name, members in (groups or {}).items()}
        self._cache: dict[tuple[str, Kind], tuple[Candidate, ...]] = {}
        self._passing = frozenset(passing)
        self._lenient = bool(discovering)
        self._unlisted: dict[str, list[str]] = {}  # route -> members nobody lists (lenient)
        for name, members in self._groups.items():
            for member in members:
                if member in self._groups:
                    raise InvalidRequestError(f"route {name!r}: {member!r} is itself a route; "
                                              "list model names only.")
                try:
                    self._resolve_model(member, "chat")
                except ModelUnavailableError:
                    continue  # listed but flagged: allowed in a route, skipped when resolving
                except UnknownModelError as error:
                    if self._lenient:
                        self._unlisted.setdefault(name, []).append(member)
                        continue  # a service may list it once asked

                    # A member only an uninstalled first-party plugin serves: say what to install.
                    hint = install_hint(member, providers)
                    raise InvalidRequestError(
                        f"route {name!r}: {f'Unknown model {member!r}: {hint}' if hint else error}"
                    ) from error

    def unlisted_members(self, asked: bool) -> dict[str, str]:
        """Return route -> a warning naming its members no provider lists, once every
        service was asked (asked=True): a typo there must not go unreported."""
        if not asked:
            return {}
        return {name: f"route {name!r}: no provider lists {', '.join(map(repr, members))}; "
                      "it is skipped (check the name, or `jackfield models --refresh`)"
                for name, members in self._unlisted.items()}

    @property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Return the configured route groups."""
        return dict(self._groups)

    @property
    def providers(self) -> list[ProviderSpec]:
        """Return the providers in routing order."""
        return list(self._providers)

    def models(self) -> list[ModelInfo]:
        """Return every model of every provider, in routing order."""
        return [
            ModelInfo(id=m.id, provider=spec.name, kind=m.kind, aliases=spec.aliases_of(m.id),
                      available=m.available, default=m.id == spec.default_model,
                      capabilities=m.capabilities)
            for spec in self._providers for m in spec.models
        ]

    def route_models(self) -> list[ModelInfo]:
        """Return each route group as a model of its own (front ends pick from the list).

        Its kind is its first member's; it has a capability when a member has it (the call
        is routed to members that do), and is available while a member is.
        """
        listed = []
        for name, members in self._groups.items():
            try:
                found = self.resolve(name)
            except (UnknownModelError, ModelUnavailableError):
                found = []
            caps = [candidate.model.capabilities for candidate in found]
            listed.append(ModelInfo(id=name, provider="", kind=found[0].model.kind if found
                                    else "chat", available=bool(found),
                                    capabilities=_union(caps), members=members))
        return listed

    @staticmethod
    def _within(spec: ProviderSpec, name: str) -> ModelSpec | None:
        # Aliases first, as upstream resolved them: AmigoChat's alias gpt-4o beats its id.
        target = spec.aliases.get(name, name)
        for model in spec.models:
            if model.id == target:
                return model
        return None

    def resolve(self, name: str, kind: Kind = "chat") -> list[Candidate]:
        """Return the routes for name, best first; raise UnknownModelError if there are none.

        kind is the kind of model an unlisted pinned id is sent as (pass-through).
        """
        # The tables never change after construction (a discovered list builds a new
        # Router), so a name resolves the same way every call: remember it (per-call
        # resolution cost ~10 us over 40 models, see BENCHMARKS.md).
        cached = self._cache.get((name, kind))
        if cached is None:
            cached = self._cache[(name, kind)] = tuple(self._resolve_uncached(name, kind))
        return list(cached)

    def _resolve_uncached(self, name: str, kind: Kind) -> list[Candidate]:
        members = self._groups.get(name)
        if members is None:
            return self._resolve_model(name, kind)
        candidates: list[Candidate] = []
        for member in members:
            try:
                found = self._resolve_model(member, kind)
            except ModelUnavailableError:
                continue  # an unpinned unavailable member is skipped, as everywhere else
            except UnknownModelError:
                if not self._lenient:
                    raise
                continue  # not listed (yet) by any service
            candidates += [r for r in found if r not in candidates]
        if not candidates:
            raise ModelUnavailableError(name, [])
        return candidates

    def _resolve_model(self, name: str, kind: Kind) -> list[Candidate]:
        provider_name, _, rest = name.partition("/")
        pinned = self._by_name.get(provider_name) if rest else None
        if pinned is not None:
            model = self._within(pinned, rest)
            if model is None and pinned.name in self._passing:
                return [Candidate(pinned, pinned.unlisted(rest, kind))]  # the service decides
            if model is None:
                raise UnknownModelError(name, self._suggest(rest, [pinned], qualify=True))
            return [Candidate(pinned, model)]  # a pin reaches even to a model flagged unavailable
        if name in self._by_name and not any(self._within(p, name) for p in self._providers):
            spec = self._by_name[name]
            if spec.default_model is not None:
                return [Candidate(spec, spec.model(spec.default_model))]
        routes = [Candidate(spec, model) for spec in self._providers
                  if (model := self._within(spec, name)) is not None]
        usable = [route for route in routes if route.model.available]
        if usable:
            return usable
        if routes:
            raise ModelUnavailableError(name, [route.provider.name for route in routes])
        raise UnknownModelError(name, self._suggest(name, self._providers, qualify=False))

    @staticmethod
    def _suggest(name: str, providers: list[ProviderSpec], *, qualify: bool) -> list[str]:
        names: list[str] = []
        for spec in providers:
            for candidate in (*spec.aliases, *(m.id for m in spec.models)):
                names.append(f"{spec.name}/{candidate}" if qualify else candidate)
        import difflib  # only an unknown name needs it: listing models must not pay for it

        lookup = {n.lower(): n for n in names}
        key = (providers[0].name + "/" + name if qualify and providers else name).lower()
        return [lookup[m] for m in difflib.get_close_matches(key, lookup, n=3, cutoff=0.6)]


def _union(caps: list[Capabilities]) -> Capabilities:
    """Return what any of caps has: True if one has it, else None if one may, else False."""
    if not caps:
        return Capabilities()
    values: dict[str, object] = {}
    for field in ("tools", "image_input", "json_object", "json_schema", "stop", "seed",
                  "reasoning", "logprobs"):
        flags = [getattr(each, field) for each in caps]
        values[field] = True if True in flags else None if None in flags else False
    samplings = [each.sampling for each in caps]
    values["sampling"] = None if None in samplings else frozenset().union(
        *(s for s in samplings if s is not None))
    return Capabilities(**values)  # type: ignore[arg-type]
