"""The hooks a provider plugin implements: the contract between jackfield and its plugins.

Each hook's docstring is its contract: when the core calls it, what it gets, what it returns
and what it may raise. CONTRIBUTING.md documents every hook under its exact signature (a test
checks it). A hook implementation may accept only the arguments it needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from jackfield._errors import JackfieldError
    from jackfield._http.error_reply import ErrorReply
    from jackfield._http.response import HttpResponse
    from jackfield._http.transport import ProviderTransport
    from jackfield._settings.config import ProviderConfig
    from jackfield._types.events import Event
    from jackfield._types.requests import HttpRequest, ProviderRequest
    from jackfield._types.specs import ModelSpec, ProviderSpec

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
        `PluginError` in `Registry.plugins()`). The models listed are the static list: a
        plugin whose models live on the server also implements
        `jackfield_discover_models`, and sets `pass_through=True` to accept pinned ids
        (`provider/any-id`) that no listing knows.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
async def jackfield_discover_models(
    provider: ProviderSpec, config: ProviderConfig, transport: ProviderTransport
) -> Sequence[ModelSpec] | None:
    """Ask the service which models it has (an `async def`). Optional.

    Called for each provider this plugin serves (its own, and every named instance with
    its own settings) when its list is stale (`DiscoveryPolicy.ttl`), on
    `Registry.refresh_models()` and `jackfield models --refresh`, and when a call names a
    model nobody lists. Never during a call's own request. The answer is cached.

    :param provider: the provider being listed, with its static models.
    :param config: its resolved settings (base URL, credentials).
    :param transport: the core's session: `await transport.fetch_json(HttpRequest(...))`
        sends a request to the provider's own origin within the discovery timeout (with the
        configured `headers`) and returns the parsed JSON; a non-2xx reply raises the typed
        error (`jackfield_error_reply` first).
    :return: the models the service has (they replace the static list; a model allow-list
        configured for the provider is applied by the core), or None to keep the static
        list (discovery is not possible with this configuration).
    :raises JackfieldError: any error (`AuthenticationError` for a missing key, say) keeps
        the last known list and becomes a warning (`Registry.discovery_warnings()`); it
        never fails a call or a listing.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def jackfield_error_reply(request: ProviderRequest | None, reply: ErrorReply
                          ) -> JackfieldError | None:
    """Turn the service's non-2xx reply into the typed error it means. Optional.

    Called for every non-2xx reply to this provider's requests (calls and discovery),
    before the core's own status mapping, which `reply.default` holds.

    :param request: the call's request, or None for a discovery request.
    :param reply: the status, headers and body (`reply.json()`, `reply.text`), the model id
        sent, and `reply.default`, the error the core would raise.
    :return: the error to raise, or None for `reply.default`:
        `UnknownModelError.from_service(reply.provider, reply.model, message)` for
        "no such model" (the call goes to the next candidate; alone, it is a 404 on the
        server), `InvalidRequestError(message, param=...)` for input the service refuses
        (context too long; a 400), `RateLimitError` for quota, `AuthenticationError`, or
        another `ProviderError` subclass. Anything else is a `PluginError`.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def jackfield_build_request(request: ProviderRequest, config: ProviderConfig) -> HttpRequest:
    """Describe the HTTP request that asks the service for a reply; send nothing.

    Called for each call routed to this provider, after the core validated the messages,
    parameters and options and fitted them to the model's declared capabilities, and anew
    for every retry (so per-request ids stay fresh). Any exception that is not a
    `JackfieldError` becomes a `PluginError` naming this plugin.

    :param request: for a chat or image model, a `CompletionRequest`; for an embedding model
        (`request.model.kind == "embedding"`), an `EmbeddingRequest` with `inputs` (the
        texts) and `dimensions`. A `CompletionRequest` is the validated call: provider,
        resolved `ModelSpec`, messages, `params`,
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
        URL, `config.get(name)` and `config.require(name)` read settings; the configured
        `config.headers` are added by the core.
    :return: an `HttpRequest` (method, URL, headers, JSON body, whether to stream).
    :raises InvalidRequestError: for input the service cannot take (nothing is sent).
    :raises AuthenticationError: for a missing credential (`config.require` raises it).
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def jackfield_parse_response(
    request: ProviderRequest, response: HttpResponse, transport: ProviderTransport
) -> AsyncIterator[Event]:
    """Translate a 2xx reply into events, yielding each as soon as it arrives.

    Called only for 2xx replies: the core has already turned 401/403, 429, 5xx and other
    statuses into typed errors (with `jackfield_error_reply` first). It is an async
    generator: nothing in it runs, and nothing raises, until the core iterates it. The core
    releases the connection when the iterator ends; an exception that is not a
    `JackfieldError` becomes a `PluginError` naming this plugin.

    :param request: the same request the build hook got.
    :param response: the reply being read: `iter_lines()`, `iter_chunks()`, `read()`,
        `json()`, `refuse_html()`, all within the registry's size and idle limits.
    :param transport: the core's session for follow-up downloads (`await transport.get(url)`),
        sent without the provider's credentials.
    :return: an async iterator of `TextDelta`, `ReasoningDelta` (the model's reasoning,
        kept apart from the answer), `ToolCallDelta` (a piece of a tool call: `index`, then
        `id` and `name` in its first piece and `arguments` fragments; a model with tools
        only), `Image`, `Logprobs` (a call that asked for them), `Usage` and `Finish` events
        (`Finish("tool_calls")` after tool calls; the core also says so when the service
        answers "stop"); for an `EmbeddingRequest`, one `Vector(index, values)` per input
        and `Usage`.
    :raises ResponseFormatError: when the reply does not follow the service's protocol
        (never yield an error message as text).
    :raises ProviderError: a subclass of it for an error the service reports in a 2xx reply
        or in the stream (`error_for_status` maps a status to the right one).
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


@hookspec
def jackfield_observe(event: Any) -> None:
    """Hear what each call does, to ship it to any backend. Optional; any plugin may.

    Called for every call of the registry the plugin is registered in, on jackfield's
    observer thread (one event at a time, in order), never in the call's own task: a slow
    or hanging observer delays only the events after it, which are dropped and counted
    once its queue of 10,000 is full. An exception is logged and swallowed.

    :param event: one of `CallStarted`, `TryStarted`, `TryFailed` (its `retry_in`: a retry
        follows; its `cooldown`: the provider is now skipped), `ProviderFallback`,
        `FirstToken`, then `CallFinished` (usage, finish reason, `duration`,
        `time_to_first_token`, the core's own `overhead`, in seconds), `CallFailed` (the
        typed error) or `CallCancelled`; all exported from `jackfield`. Each has `call`
        (`CallInfo`: an id unique in the process, the operation, the model asked for,
        stream, the candidate providers) and `at` (time.time()). No event holds a prompt,
        a reply or a credential; error texts are masked.
    :return: nothing (the return value is ignored).
    """
