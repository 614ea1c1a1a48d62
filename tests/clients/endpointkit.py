"""The servers of the endpoint tests: jackfield serving the jackfield-openai plugin's
`openai` provider, pointed at that plugin's strict OpenAI emulator, or chained to a second
jackfield server whose providers are the seed plugins (aichats, amigochat) over theirs.

Both run as clientkit.LiveServer does: on 127.0.0.1, on their own event loop in a thread.
What the service behind jackfield received is recorded, so a test can check what
jackfield-openai sent as well as what the client got back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from clientkit import API_KEY, LiveServer

from jackfield import DiscoveryPolicy, Registry, RetryPolicy, create_app
from jackfield.testing import serve_app

__all__ = ["EMULATOR_KEY", "EndpointServer", "Received"]

# The emulator's own key, which only jackfield-openai holds: the clients send API_KEY to
# jackfield, jackfield sends this one on (made up; no real key belongs in the tests).
EMULATOR_KEY = "sk-emulator-key-not-a-secret-0123456789"


class Received:
    """One POST a service behind jackfield received: its path, JSON body and headers."""

    def __init__(self, path: str, body: Any, headers: Mapping[str, str]) -> None:
        self.path, self.body = path, body
        self.headers = {key.lower(): value for key, value in headers.items()}


def _recorder(received: list[Received]) -> Any:
    """An aiohttp middleware that keeps every POST's JSON body before the handler reads it
    (aiohttp keeps the bytes, so the handler reads them again)."""

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "POST":
            raw = await request.read()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")  # kept as text: the handler refuses it
            received.append(Received(request.path, body, request.headers))
        response: web.StreamResponse = await handler(request)
        return response

    return record


class EndpointServer(LiveServer):
    """`with EndpointServer() as server:` jackfield serving the `openai` provider of the
    jackfield-openai plugin, its models discovered from the service behind it.

    That service is the plugin's strict OpenAI emulator (`jackfield_emulator`, requiring
    EMULATOR_KEY; server.emulator_models changes its models while it runs), or with
    chain=True a second `jackfield serve` whose providers are the seed plugins aichats and
    amigochat over their emulators. server.upstream holds what that service received.
    discovery: the registry's DiscoveryPolicy (default: jackfield's own).
    """

    def __init__(self, *, chain: bool = False, discovery: DiscoveryPolicy | None = None) -> None:
        super().__init__()
        self.chain = chain
        self.discovery = discovery or DiscoveryPolicy()
        self.upstream: list[Received] = []
        self.upstream_url = ""
        self._emulator: web.Application | None = None

    @property
    def emulator_models(self) -> Any:
        """The emulator's ModelList: `.add(id)` "pulls" a model into it."""
        from jackfield_openai.emulator import MODELS_KEY

        assert self._emulator is not None, "a chained server has no OpenAI emulator"
        return self._emulator[MODELS_KEY]

    async def _start(self) -> None:
        import jackfield_openai

        if self.chain:
            self.upstream_url, key = await self._start_seed_server(), API_KEY
        else:
            self._emulator = jackfield_openai.jackfield_emulator()(api_key=EMULATOR_KEY)
            self._emulator.middlewares.append(_recorder(self.upstream))
            self.upstream_url = await self._stack.enter_async_context(
                serve_app(self._emulator))
            key = EMULATOR_KEY
        config = {"openai": {"base_url": f"{self.upstream_url}/v1", "api_key": key}}
        registry = Registry([jackfield_openai], config=config, environ={},
                            retry=RetryPolicy(attempts=1), discovery=self.discovery)
        self.url = await self._serve(registry)
        self.base_url = f"{self.url}/v1"

    async def _start_seed_server(self) -> str:
        """Serve the seed plugins' emulators and a jackfield server over them; its URL."""
        import jackfield_aichats
        import jackfield_amigochat

        aichats = await self._stack.enter_async_context(
            serve_app(jackfield_aichats.jackfield_emulator()()))
        amigochat = await self._stack.enter_async_context(
            serve_app(jackfield_amigochat.jackfield_emulator()()))
        # The aichats emulator built with its defaults takes any cookie.
        config = {"aichats": {"base_url": aichats, "cookie": "session=test"},
                  "amigochat": {"base_url": amigochat}}
        registry = Registry([jackfield_aichats, jackfield_amigochat], config=config,
                            environ={}, retry=RetryPolicy(attempts=1))
        self._stack.push_async_callback(registry.aclose)
        app = create_app(registry, api_key=API_KEY)
        app.middlewares.append(_recorder(self.upstream))
        return await self._listen(app)

    def sent(self) -> dict[str, Any]:
        """Return the last chat body the service behind jackfield received."""
        chats = [entry.body for entry in self.upstream
                 if entry.path.endswith("/chat/completions")]
        assert chats, f"the service received no chat completion: {self.upstream}"
        body: dict[str, Any] = chats[-1]
        return body

    def sent_to(self, path: str) -> list[Any]:
        """Return the bodies the service received at path (e.g. "/v1/embeddings")."""
        return [entry.body for entry in self.upstream if entry.path == path]
