"""The hooks a provider plugin implements: the contract between jackfield and its plugins.

Each hook's docstring is its contract: when the core calls it, what it gets, what it returns
and what it may raise. CONTRIBUTING.md documents every hook under its exact signature (a test
checks it). A hook implementation may accept only the arguments it needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from jackfield._http.response import HttpResponse
    from jackfield._http.transport import ProviderTransport
    from jackfield._settings.config import ProviderConfig
    from jackfield._types.events import Event
    from jackfield._types.requests import CompletionRequest, HttpRequest
    from jackfield._types.specs import ProviderSpec

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "jackfield"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def jackfield_provider() -> ProviderSpec:
    """Declare the provider this plugin adds.

    Called once when the plugin is registered, and by `jackfield models` and `jackfield
    plugins`: keep it cheap (no I/O, no heavy imports).

    :return: a `ProviderSpec`: the provider's name, default base URL, models (each with
        the `Capabilities` it has: tools, image input, JSON modes, stop, seed, reasoning,
        logprobs and the sampling parameters it honours; True, False or None for unknown),
        aliases, options and settings. An option may not take a name of complete()'s own
        parameters (`temperature`, `stop`, `tools`, ...): ProviderSpec refuses it. Anything
        but a `ProviderSpec`, or an exception, disables this plugin alone (a
        `PluginError` in `Registry.plugins()`).
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def jackfield_build_request(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Describe the HTTP request that asks the service for a reply; send nothing.

    Called for each call routed to this provider, after the core validated the messages,
    parameters and options and fitted them to the model's declared capabilities, and anew
    for every retry (so per-request ids stay fresh). Any exception that is not a
    `JackfieldError` becomes a `PluginError` naming this plugin.

    :param request: the validated call: provider, resolved `ModelSpec`, messages, `params`,
        options with their defaults filled in, and whether the caller streams.
        `request.params` is a `CallParams` holding only what this model is sent (sampling
        parameters it does not honour, and `seed` or `stop` it cannot do, are left out:
        the core reports or applies them); `params.to_openai()` gives them in OpenAI's wire
        form. The messages hold only what the capabilities allow: image parts only for a
        model with image input, tool calls and "tool" messages only for one with tools (a
        prompted call rewrites them into plain text turns); a `Message` carries `content`
        (its text), `parts`, `tool_calls`, `tool_call_id` and `name`, and `to_dict()` gives
        OpenAI's shape.
    :param config: the provider's resolved settings: `config.url(path)` joins onto the base
        URL, `config.get(name)` and `config.require(name)` read settings.
    :return: an `HttpRequest` (method, URL, headers, JSON body, whether to stream).
    :raises InvalidRequestError: for input the service cannot take (nothing is sent).
    :raises AuthenticationError: for a missing credential (`config.require` raises it).
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def jackfield_parse_response(
    request: CompletionRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Translate a 2xx reply into events, yielding each as soon as it arrives.

    Called only for 2xx replies: the core has already turned 401/403, 429, 5xx and other
    statuses into typed errors. The core releases the connection when the iterator ends;
    an exception that is not a `JackfieldError` becomes a `PluginError` naming this plugin.

    :param request: the same request the build hook got.
    :param response: the reply being read: `iter_lines()`, `iter_chunks()`, `read()`,
        `json()`, `refuse_html()`, all within the registry's size and idle limits.
    :param transport: the core's session for follow-up downloads (`await transport.get(url)`),
        sent without the provider's credentials.
    :return: an async iterator of `TextDelta`, `ReasoningDelta` (the model's reasoning,
        kept apart from the answer), `ToolCallDelta` (a piece of a tool call: `index`, then
        `id` and `name` in its first piece and `arguments` fragments; a model with tools
        only), `Image`, `Usage` and `Finish` events (`Finish("tool_calls")` after tool
        calls; the core also says so when the service answers "stop").
    :raises ResponseFormatError: when the reply does not follow the service's protocol
        (never yield an error message as text).
    :raises ProviderError: a subclass of it for an error the service reports in a 2xx reply
        (`error_for_status` maps a status to the right one).
    """
    raise NotImplementedError


@hookspec
def jackfield_emulator() -> Callable[[], Any]:
    """Offer an emulator of this plugin's service, for tests, demos and `jackfield emulate`.

    Optional. Called only by the emulator tooling, never during a call.

    :return: a factory that takes no arguments and returns an `aiohttp.web.Application`
        speaking the service's protocol and accepting any credential.
    """
    raise NotImplementedError
