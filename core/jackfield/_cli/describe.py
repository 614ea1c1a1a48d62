"""`jackfield models --options`: what each provider accepts and what each model can do.

Options come from each plugin's ProviderSpec (type, default, doc, the kinds they apply to);
each model's kind, availability, aliases and declared capabilities (tools, image input, JSON
modes, stop, seed, reasoning, logprobs, the sampling parameters it honours) come from its
ModelSpec, as the plugin declares them: shown, never guessed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from jackfield._cli.common import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from jackfield._types.specs import Option, ProviderSpec

__all__ = ["cmd_options", "option_dict"]

# -o carries complete()'s own parameters as well as a provider's options.
NO_OPTIONS = ("  options: none of its own (-o still takes complete()'s parameters, such as "
              "temperature, stop or seed: each model's capabilities say which are sent)")


def _type_name(option: Option) -> str:
    types = option.type if isinstance(option.type, tuple) else (option.type,)
    return "|".join(t.__name__ for t in types)


def _default(value: Any) -> Any:
    """Return a default as JSON holds it (text for a value JSON cannot)."""
    return value if value is None or isinstance(value, bool | int | float | str) else repr(value)


def option_dict(option: Option) -> dict[str, Any]:
    """Return an option as JSON: type, default, kinds, doc."""
    return {"type": _type_name(option), "default": _default(option.default),
            "kinds": list(option.kinds), "doc": option.doc}


def _providers(args: argparse.Namespace) -> list[tuple[ProviderSpec, list[Any]]]:
    from jackfield._engine.registry import Registry

    registry = Registry.discover()
    specs = [spec for spec in registry.providers()
             if args.provider in (None, spec.name)]
    if args.provider is not None and not specs:
        names = ", ".join(spec.name for spec in registry.providers()) or "none"
        raise CliError(f"no installed provider is named {args.provider!r}; installed: {names}",
                       EXIT_USAGE)
    from jackfield._cli.common import warn
    from jackfield._cli.listing import ask_services, discovering

    if discovering(registry):  # the models its service has, not the plugin's fallback list
        ask_services(registry)
        warn(text for name, text in sorted(registry.discovery_warnings().items())
             if args.provider in (None, name))
    return [(spec, registry.models(kind=args.kind, provider=spec.name)) for spec in specs]


def cmd_options(args: argparse.Namespace) -> int:
    """Print each provider's options and its models' kind, availability and capabilities."""
    import json

    from jackfield._cli.capabilities import LEGEND, compact
    from jackfield._cli.listing import table as _table

    providers = _providers(args)
    if args.json:
        print(json.dumps([
            {"provider": spec.name,
             "options": {name: option_dict(option) for name, option in spec.options.items()
                         if args.kind in (None, *option.kinds)},
             "settings": {name: {"doc": s.doc, "secret": s.secret}
                          for name, s in spec.settings.items()},
             "models": [model.to_dict() for model in models]}
            for spec, models in providers], indent=2))
        return 0
    blocks = []
    for spec, models in providers:
        options = [(name, _type_name(o), "-" if o.default is None else json.dumps(
                    _default(o.default)), ",".join(o.kinds), o.doc or "-")
                   for name, o in spec.options.items() if args.kind in (None, *o.kinds)]
        lines = [f"{spec.name}"]
        lines.append(_indent(_table(("OPTION", "TYPE", "DEFAULT", "KINDS", "DOC"), options))
                     if options else NO_OPTIONS)
        if spec.settings:
            lines.append("  settings: " + ", ".join(
                f"{name}{' (secret: jackfield keys set ' + spec.name + ')' if s.secret else ''}"
                for name, s in spec.settings.items()))
        rows = [(m.id, m.kind, "yes" if m.available else "no", ", ".join(m.aliases) or "-",
                 compact(m.capabilities.to_dict(), m.kind)) for m in models]
        if rows:
            lines.append(_indent(_table(("MODEL", "KIND", "AVAILABLE", "ALIASES",
                                         "CAPABILITIES"), rows)))
        blocks.append("\n".join(lines))
    if not blocks:
        print("no providers are installed (see `jackfield plugins`)")
        return 0
    print("\n\n".join(blocks))
    print(f"\n{LEGEND}")
    return 0


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
