"""What the observe tests share: a provider that counts tokens, and an observer that records."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

from jackfield import Finish, TextDelta, Usage
from jackfield.provider import CompletionRequest, HttpResponse, ProviderTransport, hookimpl
from mockprovider import MockProvider, _parse


class MeteredProvider(MockProvider):
    """The mock provider, reporting usage: prompt tokens are the last message's words,
    completion tokens the pieces it sent."""

    @hookimpl
    def jackfield_parse_response(self, request: CompletionRequest, response: HttpResponse,
                                 transport: ProviderTransport) -> AsyncIterator[Any]:
        return _metered(request, response, transport)


async def _metered(request: CompletionRequest, response: HttpResponse,
                   transport: ProviderTransport) -> AsyncIterator[Any]:
    pieces = 0
    async for event in _parse(request, response, transport):
        if isinstance(event, Finish):
            prompt = len(request.messages[-1].content.split())
            yield Usage(prompt, pieces, prompt + pieces)
        pieces += isinstance(event, TextDelta)
        yield event


class Recorder:
    """An observer plugin that keeps every event it is told (on the observer thread)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.seen = threading.Event()

    @hookimpl
    def jackfield_observe(self, event: Any) -> None:
        self.events.append(event)
        self.seen.set()

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.events]
