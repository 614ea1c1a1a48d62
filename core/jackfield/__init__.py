"""jackfield: one async call over many chat, image and embedding providers, each a plugin.

This module is the caller's surface: the Registry, what a call returns, the policies that
tune it, and the errors it raises. Plugin authors import from `jackfield.provider` and test
with `jackfield.testing`; every `jackfield._...` module is private.

Names are imported lazily so that `import jackfield` stays fast and pulls in no HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jackfield._lazy import lazy_attributes

if TYPE_CHECKING:
    from jackfield._engine.completion import Completion, CompletionStream
    from jackfield._engine.discovery import PluginRecord
    from jackfield._engine.embedding import Embeddings
    from jackfield._engine.health import CooldownPolicy, ProviderHealth
    from jackfield._engine.model_book import DiscoveryPolicy
    from jackfield._engine.probe_book import ProbePolicy, ProbeReport, ProbeResult
    from jackfield._engine.registry import Registry
    from jackfield._engine.routing import Candidate
    from jackfield._errors import (
        AllProvidersFailedError,
        AuthenticationError,
        CapabilityError,
        ConfigurationError,
        InvalidRequestError,
        JackfieldError,
        ModelUnavailableError,
        PartialResponseError,
        PluginError,
        ProviderError,
        ProviderTimeoutError,
        ProviderUnavailableError,
        RateLimitError,
        ResponseFormatError,
        StalledResponseError,
        UnknownModelError,
        UnparsableReplyError,
    )
    from jackfield._server import create_app
    from jackfield._settings.limits import Limits, RetryPolicy, Timeouts
    from jackfield._types.capabilities import Capabilities
    from jackfield._types.content import ImagePart, TextPart, ToolCall
    from jackfield._types.events import (
        Chunk,
        Finish,
        Image,
        Logprobs,
        ReasoningDelta,
        TextDelta,
        ToolCallDelta,
        Usage,
    )
    from jackfield._types.messages import Message
    from jackfield._types.notices import CallWarning
    from jackfield._types.observations import (
        CallCancelled,
        CallFailed,
        CallFinished,
        CallInfo,
        CallStarted,
        FirstToken,
        ProviderFallback,
        TryFailed,
        TryStarted,
    )
    from jackfield._types.params import ResponseFormat, Tool, ToolChoice
    from jackfield._types.specs import ModelInfo

__version__ = "0.4.0"

_ERRORS = ("AllProvidersFailedError", "AuthenticationError", "CapabilityError",
           "ConfigurationError", "InvalidRequestError", "UnparsableReplyError",
           "JackfieldError", "ModelUnavailableError", "PartialResponseError", "PluginError",
           "ProviderError", "ProviderTimeoutError", "ProviderUnavailableError",
           "RateLimitError", "ResponseFormatError", "StalledResponseError", "UnknownModelError")
_OBSERVED = ("CallCancelled", "CallFailed", "CallFinished", "CallInfo", "CallStarted",
             "FirstToken", "ProviderFallback", "TryFailed", "TryStarted")
_LAZY = {
    **dict.fromkeys(("Completion", "CompletionStream"), "_engine.completion"),
    "PluginRecord": "_engine.discovery",
    "Embeddings": "_engine.embedding",
    "DiscoveryPolicy": "_engine.model_book",
    **dict.fromkeys(("ProbePolicy", "ProbeReport", "ProbeResult"), "_engine.probe_book"),
    # What jackfield_observe(event) is told (observer plugins, /metrics, tracing).
    **dict.fromkeys(_OBSERVED, "_types.observations"),
    **dict.fromkeys(("CooldownPolicy", "ProviderHealth"), "_engine.health"),
    "Registry": "_engine.registry",
    "Candidate": "_engine.routing",
    **dict.fromkeys(_ERRORS, "_errors"),
    "create_app": "_server",
    **dict.fromkeys(("Limits", "RetryPolicy", "Timeouts"), "_settings.limits"),
    "Capabilities": "_types.capabilities",
    **dict.fromkeys(("ImagePart", "TextPart", "ToolCall"), "_types.content"),
    **dict.fromkeys(("Chunk", "Finish", "Image", "Logprobs", "ReasoningDelta", "TextDelta",
                     "ToolCallDelta", "Usage"), "_types.events"),
    "Message": "_types.messages",
    "CallWarning": "_types.notices",
    **dict.fromkeys(("ResponseFormat", "Tool", "ToolChoice"), "_types.params"),
    "ModelInfo": "_types.specs",
}

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "CallCancelled",
    "CallFailed",
    "CallFinished",
    "CallInfo",
    "CallStarted",
    "CallWarning",
    "Candidate",
    "Capabilities",
    "CapabilityError",
    "Chunk",
    "Completion",
    "CompletionStream",
    "ConfigurationError",
    "CooldownPolicy",
    "DiscoveryPolicy",
    "Embeddings",
    "Finish",
    "FirstToken",
    "Image",
    "ImagePart",
    "InvalidRequestError",
    "JackfieldError",
    "Limits",
    "Logprobs",
    "Message",
    "ModelInfo",
    "ModelUnavailableError",
    "PartialResponseError",
    "PluginError",
    "PluginRecord",
    "ProbePolicy",
    "ProbeReport",
    "ProbeResult",
    "ProviderError",
    "ProviderFallback",
    "ProviderHealth",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitError",
    "ReasoningDelta",
    "Registry",
    "ResponseFormat",
    "ResponseFormatError",
    "RetryPolicy",
    "StalledResponseError",
    "TextDelta",
    "TextPart",
    "Timeouts",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "TryFailed",
    "TryStarted",
    "UnknownModelError",
    "UnparsableReplyError",
    "Usage",
    "__version__",
    "create_app",
]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
