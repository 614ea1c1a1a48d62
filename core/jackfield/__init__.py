"""jackfield: one async call over many chat and image providers, each a pluggy plugin.

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
    from jackfield._engine.health import CooldownPolicy, ProviderHealth
    from jackfield._engine.registry import Registry
    from jackfield._engine.routing import Candidate
    from jackfield._errors import (
        AllProvidersFailedError,
        AuthenticationError,
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
    )
    from jackfield._server import create_app
    from jackfield._settings.limits import Limits, RetryPolicy, Timeouts
    from jackfield._types.events import Chunk, Finish, Image, TextDelta, Usage
    from jackfield._types.messages import Message
    from jackfield._types.specs import ModelInfo

__version__ = "0.2.0"

_ERRORS = ("AllProvidersFailedError", "AuthenticationError", "ConfigurationError",
           "InvalidRequestError",
           "JackfieldError", "ModelUnavailableError", "PartialResponseError", "PluginError",
           "ProviderError", "ProviderTimeoutError", "ProviderUnavailableError",
           "RateLimitError", "ResponseFormatError", "StalledResponseError", "UnknownModelError")
_LAZY = {
    **dict.fromkeys(("Completion", "CompletionStream"), "_engine.completion"),
    "PluginRecord": "_engine.discovery",
    **dict.fromkeys(("CooldownPolicy", "ProviderHealth"), "_engine.health"),
    "Registry": "_engine.registry",
    "Candidate": "_engine.routing",
    **dict.fromkeys(_ERRORS, "_errors"),
    "create_app": "_server",
    **dict.fromkeys(("Limits", "RetryPolicy", "Timeouts"), "_settings.limits"),
    **dict.fromkeys(("Chunk", "Finish", "Image", "TextDelta", "Usage"), "_types.events"),
    "Message": "_types.messages",
    "ModelInfo": "_types.specs",
}

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "Candidate",
    "Chunk",
    "Completion",
    "CompletionStream",
    "ConfigurationError",
    "CooldownPolicy",
    "Finish",
    "Image",
    "InvalidRequestError",
    "JackfieldError",
    "Limits",
    "Message",
    "ModelInfo",
    "ModelUnavailableError",
    "PartialResponseError",
    "PluginError",
    "PluginRecord",
    "ProviderError",
    "ProviderHealth",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitError",
    "Registry",
    "ResponseFormatError",
    "RetryPolicy",
    "StalledResponseError",
    "TextDelta",
    "Timeouts",
    "UnknownModelError",
    "Usage",
    "__version__",
    "create_app",
]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
