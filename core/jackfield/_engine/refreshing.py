"""Keeping a registry's model lists current: `refresh_models()`, and before a call the stale
lists that could serve it and, for a name nobody lists, the services not asked lately.

The ModelBook knows what each provider has and when to ask again; this asks (through the
Caller, within the discovery timeout) and tells the registry when its Router must be rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jackfield._engine.model_book import ModelBook
from jackfield._errors import InvalidRequestError, ModelUnavailableError, UnknownModelError
from jackfield._settings.config import ProviderConfig
from jackfield._settings.limits import Timeouts
from jackfield._types.specs import ProviderSpec

if TYPE_CHECKING:
    from jackfield._engine.dispatch import Caller
    from jackfield._engine.routing import Router

__all__ = ["Refresher"]


class Refresher:
    """Asks the services of one registry for their models when its ModelBook says so."""

    def __init__(self, book: ModelBook, providers: Mapping[str, ProviderSpec],
                 configs: Mapping[str, ProviderConfig], timeouts: Timeouts,
                 caller: Callable[[], Caller], router: Callable[[], Router],
                 changed: Callable[[], None]) -> None:
        self._book = book
        self._providers = providers  # the plugins' own specs: the hook is told of those
        self._configs = configs
        self._caller = caller
        self._router = router  # the registry's current Router
        self._changed = changed  # rebuilds it from the book's lists
        policy = book.policy
        # The discovery timeout bounds every phase: a listing must never hold a call long.
        self._timeouts = Timeouts(connect=min(timeouts.connect, policy.timeout),
                                  read_idle=min(timeouts.read_idle, policy.timeout),
                                  total=policy.timeout)

    def names(self, provider: str | None, stale_only: bool) -> Collection[str]:
        """Return the providers refresh_models(provider, stale_only=...) asks."""
        if provider is not None and (not isinstance(provider, str)
                                     or provider not in self._configs):
            shown = provider if isinstance(provider, str) else type(provider).__name__
            raise InvalidRequestError(f"no provider is named {shown!r}; providers: "
                                      f"{', '.join(sorted(self._configs))}.", param="provider")
        names = self._book.discovering if provider is None else {provider}
        return self._book.stale(names) if stale_only else names

    async def refresh(self, names: Iterable[str]) -> None:
        """Ask each named provider's service now (or share the answer another caller is
        waiting for)."""
        caller = self._caller()

        async def fetch(name: str) -> Any:
            return await caller.discover(self._providers[name], self._configs[name],
                                         self._timeouts)

        if await self._book.refresh(names, fetch):
            self._changed()

    async def before_call(self, model: Any, check: Callable[[], object] | None = None) -> None:
        """Refresh the stale lists that could serve model and, for a name nobody lists, ask
        the services not asked within DiscoveryPolicy.retry. check validates the call's own
        input first, so that a bad call fails before any I/O (and only calls that will ask
        pay for it)."""
        if not isinstance(model, str):
            return
        provider, _, rest = model.partition("/")
        names = [provider] if rest and provider in self._configs else None
        stale = self._book.stale(names)
        if stale and self._resolves(model):
            # The call can be served as things stand: a service whose last listing failed
            # is not waited for again (a stalled one would cost every retry seconds a call
            # the whole discovery timeout); refresh_models() and unknown names still ask.
            stale = [name for name in stale if not self._book.failed(name)]
        if stale:
            if check is not None:
                check()
                check = None
            await self.refresh(stale)
        try:
            self._router().resolve(model)
        except ModelUnavailableError:
            return  # listed: a refresh would not change what resolve() says
        except UnknownModelError:
            askable = self._book.askable(names)
            if askable:
                if check is not None:
                    check()
                await self.refresh(askable)

    def _resolves(self, model: str) -> bool:
        try:
            self._router().resolve(model)
        except UnknownModelError:  # ModelUnavailableError included
            return False
        return True
