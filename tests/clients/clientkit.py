"""The server the client libraries talk to: jackfield's OpenAI-compatible app over the native
provider of tests/nativeprovider.py (and, when asked, the aichats plugin's emulator).

It runs on its own event loop in a thread, so that every client, synchronous or async, reaches
it over loopback exactly as it would reach any OpenAI-compatible server, and a blocking client
call cannot stall the server.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, TypeVar

from aiohttp import web

from jackfield import Registry, RetryPolicy, create_app
from jackfield.testing import serve_app

REPO = Path(__file__).resolve().parents[2]
API_KEY = "jf-client-test-key"  # the server's key: the clients must send it as users would
# The reply headers in which the server lists a call's warnings and what it emulated.
WARNINGS_HEADER = "X-Jackfield-Warnings"
EMULATED_HEADER = "X-Jackfield-Emulated"
_T = TypeVar("_T")


def load_native() -> ModuleType:
    """Return tests/nativeprovider.py, imported by path (the tests folder is no package)."""
    module = sys.modules.get("nativeprovider")
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location("nativeprovider",
                                                  REPO / "tests" / "nativeprovider.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["nativeprovider"] = module
    spec.loader.exec_module(module)
    return module


class Reply:
    """What the server answered one request with (recorded before the body is sent)."""

    def __init__(self, method: str, path: str, status: int, headers: Mapping[str, str]) -> None:
        self.method, self.path, self.status = method, path, status
        self.headers = dict(headers)

    def header(self, name: str) -> str | None:
        """Return a header's value (names compared without case), None when absent."""
        found = [value for key, value in self.headers.items() if key.lower() == name.lower()]
        return found[0] if found else None

    def warned(self) -> list[str]:
        """Return the params of the warnings the server listed (a JSON list of
        {"param", "message"} objects in X-Jackfield-Warnings)."""
        import json

        listed = json.loads(self.header(WARNINGS_HEADER) or "[]")
        return [entry.get("param") for entry in listed]

    def emulated(self) -> set[str]:
        """Return what the call emulated by prompting ("tools", "json"), from its header."""
        value = self.header(EMULATED_HEADER) or ""
        return {part.strip() for part in value.split(",") if part.strip()}

    def __repr__(self) -> str:
        return f"Reply({self.method} {self.path} -> {self.status}, {self.headers})"


class LiveServer:
    """`with LiveServer() as server:` jackfield serving on 127.0.0.1 until the block ends.

    server.base_url is the /v1 URL a client is given; server.native the native service
    (`.seen`: the bodies it received, `.script`: replies to give instead of its rules);
    server.replies what the jackfield server answered, in order.
    prompted: Registry(prompted=...); aichats: also serve the aichats plugin's models.
    """

    def __init__(self, *, prompted: bool | Mapping[str, Any] = False,
                 aichats: bool = False) -> None:
        self.native = load_native().NativeServer()
        self.prompted = prompted
        self.aichats = aichats
        self.replies: list[Reply] = []
        self.base_url = ""
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="jackfield-serve",
                                        daemon=True)
        self._stack = AsyncExitStack()

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        try:
            self._run(self._start())
        except BaseException:
            self._close_loop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self._run(self._stack.aclose())
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        try:
            self._run(self._loop.shutdown_asyncgens())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    async def _start(self) -> None:
        native_module = load_native()
        native_url = await self._stack.enter_async_context(serve_app(self.native.app))
        plugins: list[object] = [native_module.NativeProvider()]
        config: dict[str, dict[str, str]] = {"native": {"base_url": native_url}}
        if self.aichats:
            import jackfield_aichats

            emulator = jackfield_aichats.jackfield_emulator()()
            aichats_url = await self._stack.enter_async_context(serve_app(emulator))
            plugins.append(jackfield_aichats)
            # The emulator built with its defaults takes any cookie.
            config["aichats"] = {"base_url": aichats_url, "cookie": "session=test"}
        # One attempt: a failure reaches the client at once, as the test's error.
        registry = Registry(plugins, config=config, environ={}, prompted=self.prompted,
                            retry=RetryPolicy(attempts=1))
        self.url = await self._serve(registry)
        self.base_url = f"{self.url}/v1"

    async def _serve(self, registry: Registry) -> str:
        """Serve `jackfield serve`'s app over registry, recording its replies; its URL."""
        self._stack.push_async_callback(registry.aclose)
        app = create_app(registry, api_key=API_KEY)
        app.on_response_prepare.append(self._record)
        return await self._listen(app)

    async def _listen(self, app: web.Application) -> str:
        """Serve app on 127.0.0.1 until the block ends; return its root URL."""
        runner = web.AppRunner(app)
        await runner.setup()
        self._stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def _record(self, request: web.Request, response: web.StreamResponse) -> None:
        self.replies.append(Reply(request.method, request.path, response.status,
                                  response.headers))

    def last_chat(self) -> Reply:
        """Return the server's answer to the last POST /v1/chat/completions."""
        chats = [reply for reply in self.replies if reply.path == "/v1/chat/completions"]
        assert chats, f"the server answered no chat completion: {self.replies}"
        return chats[-1]

    def sent(self) -> dict[str, Any]:
        """Return the body the native service received last (what the provider was sent)."""
        assert self.native.seen, "the native service received no request"
        body: dict[str, Any] = self.native.seen[-1]
        return body


def tool_names(body: Mapping[str, Any]) -> list[str]:
    """Return the function names a request body offered as tools."""
    return [tool["function"]["name"] for tool in body.get("tools") or ()]



def streamed_call(chunks: Iterable[Any]) -> tuple[Any, dict[str, Any], list[str]]:
    """Return what streamed chat chunks (openai SDK objects, or litellm's of that shape) say
    of one tool call: its first delta (checked: index 0, an id, type "function", a name),
    its argument fragments joined and parsed, and the finish reasons given."""
    import json

    chunks = list(chunks)
    deltas = [call for chunk in chunks for choice in chunk.choices
              for call in choice.delta.tool_calls or ()]
    assert len(deltas) > 2, f"not a call whose arguments came in fragments: {chunks}"
    first = deltas[0]
    assert first.index == 0 and first.id and first.type == "function", first
    assert first.function is not None and first.function.name, first
    assert all(delta.index == 0 for delta in deltas), deltas
    arguments = "".join(delta.function.arguments or "" for delta in deltas if delta.function)
    finishes = [choice.finish_reason for chunk in chunks for choice in chunk.choices
                if choice.finish_reason]
    return first, json.loads(arguments), finishes


def check_structured(body: Mapping[str, Any], method: str, name: str) -> None:
    """Check that a chat body asked for the schema `name` as langchain's
    with_structured_output(method=...) asks: a json_schema response format, or a forced
    call of a tool of that name ("function_calling")."""
    if method == "json_schema":
        assert body["response_format"]["type"] == "json_schema", body
        assert body["response_format"]["json_schema"]["name"] == name, body
    else:
        assert method == "function_calling", method
        assert tool_names(body) == [name], body
        assert body["tool_choice"]["function"]["name"] == name, body

# A tool as users declare it: the native service answers with arguments that satisfy the
# schema (its rule for strings is "sunny", the first value of an enum).
WEATHER_TOOL: dict[str, Any] = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "The city's name."},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"]}}}
WEATHER_ARGUMENTS = {"city": "sunny", "unit": "celsius"}


def png_data_url(seed: str = "a cat") -> str:
    """Return a real PNG as a data: URL, the way clients send local images."""
    import base64

    from jackfield.testing import png_bytes

    return "data:image/png;base64," + base64.b64encode(png_bytes(seed)).decode()


def tagged_call(name: str, arguments: Mapping[str, Any], prose: str = "") -> dict[str, Any]:
    """A text-only model's reply calling a tool the way prompted tools ask it to (the tagged
    format open models are trained on), after some prose if given."""
    import json

    block = f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"
    return {"role": "assistant", "content": f"{prose}\n{block}" if prose else block}


def text_reply(text: str) -> dict[str, Any]:
    """A text-only model's reply, exactly as written."""
    return {"role": "assistant", "content": text}


@contextmanager
def openai_for(server: LiveServer) -> Iterator[Any]:
    """An openai.OpenAI for the server, with no retries (a failure shows at once), closed."""
    import openai

    with openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0,
                       timeout=20) as client:
        yield client


@asynccontextmanager
async def async_openai_for(server: LiveServer) -> AsyncIterator[Any]:
    """An openai.AsyncOpenAI for the server, as openai_for, closed on the caller's loop.

    Agent libraries get this one explicitly: pydantic-ai's default client is a process-wide
    cached one that is never closed, so its connections would outlive the test's loop.
    """
    import openai

    client = openai.AsyncOpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0,
                                timeout=20)
    try:
        yield client
    finally:
        await client.close()


def litellm_completion(server: LiveServer, messages: list[Any], model: str,
                       **kwargs: Any) -> Any:
    """litellm.completion() through its `openai/<model>` route to the server.

    It gets a client the test closes: litellm's own would stay in its process-wide cache
    with its connection open after the test (a ResourceWarning later on). A stream is read
    while that client is open, and returned as the list of its chunks.
    """
    import litellm  # only the `latest` group has it

    with openai_for(server) as client:
        response = litellm.completion(model=f"openai/{model}", api_base=server.base_url,
                                      api_key=API_KEY, messages=messages, num_retries=0,
                                      timeout=20, client=client, **kwargs)
        return list(response) if kwargs.get("stream") else response
