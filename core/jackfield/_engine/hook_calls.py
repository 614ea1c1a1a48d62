"""One provider's hooks, resolved once: its own plugin's implementation (and any wrappers).

A call asks three hooks of one provider (build, parse, and error_reply on a failure). Through
pluggy each ask walks the hook's implementations with its generic loop (a few microseconds,
issue 16's profile); when the provider's plugin is the only implementation and no wrapper
is registered, as with every plugin we ship, the function is called directly instead. The
answer is the same: every hook asked here is firstresult, so pluggy would return that one
function's result as it is.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["ProviderHooks"]


class _Direct:
    """A firstresult hook with one implementation: called with the arguments it names."""

    __slots__ = ("_arguments", "_caller", "_function")

    def __init__(self, caller: Any, function: Callable[..., Any], names: tuple[str, ...]) -> None:
        self._caller = caller
        self._function = function
        # itemgetter picks the named arguments in C; with one name it returns it bare.
        pick = operator.itemgetter(*names) if names else (lambda kwargs: ())
        self._arguments = pick if len(names) != 1 else (lambda kwargs: (kwargs[names[0]],))

    def __call__(self, **kwargs: Any) -> Any:
        return self._function(*self._arguments(kwargs))

    def get_hookimpls(self) -> list[Any]:
        return list(self._caller.get_hookimpls())


def _resolved(caller: Any) -> Any:
    """Return the direct form of caller when it has it, else caller itself."""
    impls = caller.get_hookimpls()
    spec = getattr(caller, "spec", None)
    if (len(impls) == 1 and spec is not None and spec.opts.get("firstresult")
            and not impls[0].hookwrapper and not impls[0].wrapper):
        return _Direct(caller, impls[0].function, tuple(impls[0].argnames))
    return caller


class ProviderHooks:
    """The hook callers of each provider, each reaching only its own plugin (and wrappers)."""

    def __init__(self, manager: pluggy.PluginManager, owners: dict[str, object]) -> None:
        self._manager = manager
        self._owners = owners
        self._callers: dict[tuple[str, str], Any] = {}

    def get(self, name: str, provider: str) -> Any:
        """Return the caller of hook name for provider's plugin alone."""
        # Resolved once: a registry's plugins are all registered before its first call (the
        # observers metrics and tracing add later implement jackfield_observe alone).
        found = self._callers.get((name, provider))
        if found is None:
            # By identity: the instances of one plugin (local-vllm, openai) share its object.
            own = self._owners[provider]
            others = list({id(p): p for p in self._owners.values() if p is not own}.values())
            found = _resolved(self._manager.subset_hook_caller(name, remove_plugins=others))
            self._callers[(name, provider)] = found
        return found
