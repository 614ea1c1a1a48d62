"""plugboard: one async call over many chat and image providers, each a pluggy plugin.

Names are imported lazily so that `import plugboard` stays fast and pulls in no HTTP stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .completion import Completion, CompletionStream
    from .config import ProviderConfig
    from .errors import (
        AllProvidersFailedError,
        AuthenticationError,
        InvalidRequestError,
        ModelUnavailableError,
        PartialResponseError,
        PlugboardError,
        PluginError,
        ProviderError,
        ProviderTimeoutError,
        ProviderUnavailableError,
        RateLimitError,
        ResponseFormatError,
        StalledResponseError,
        UnknownModelError,
    )
    from .events import Chunk, Event, Finish, Image, TextDelta, Usage
    from .health import CooldownPolicy, ProviderHealth
    from .limits import Limits, RetryPolicy, Timeouts
    from .messages import Message
    from .registry import Registry
    from .requests import CompletionRequest, HttpRequest
    from .response import HttpResponse
    from .specs import ModelInfo, ModelSpec, Option, ProviderSpec, Setting
    from .transport import Download, ProviderTransport

__version__ = "0.1.0"

_LAZY = {
    "Completion": "completion", "CompletionStream": "completion",
    "ProviderConfig": "config",
    "AllProvidersFailedError": "errors", "AuthenticationError": "errors",
    "InvalidRequestError": "errors", "ModelUnavailableError": "errors",
    "PartialResponseError": "errors", "PlugboardError": "errors", "PluginError": "errors",
    "ProviderError": "errors", "ProviderTimeoutError": "errors",
    "ProviderUnavailableError": "errors", "RateLimitError": "errors",
    "ResponseFormatError": "errors", "StalledResponseError": "errors",
    "UnknownModelError": "errors",
    "Chunk": "events", "Event": "events", "Finish": "events", "Image": "events",
    "TextDelta": "events",
    "Usage": "events",
    "CooldownPolicy": "health", "ProviderHealth": "health",
    "Limits": "limits", "RetryPolicy": "limits", "Timeouts": "limits",
    "Message": "messages",
    "Registry": "registry",
    "CompletionRequest": "requests", "HttpRequest": "requests",
    "HttpResponse": "response",
    "ModelInfo": "specs", "ModelSpec": "specs", "Option": "specs", "ProviderSpec": "specs",
    "Setting": "specs",
    "Download": "transport", "ProviderTransport": "transport",
}

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "Chunk",
    "Completion",
    "CompletionRequest",
    "CompletionStream",
    "CooldownPolicy",
    "Download",
    "Event",
    "Finish",
    "HttpRequest",
    "HttpResponse",
    "Image",
    "InvalidRequestError",
    "Limits",
    "Message",
    "ModelInfo",
    "ModelSpec",
    "ModelUnavailableError",
    "Option",
    "PartialResponseError",
    "PlugboardError",
    "PluginError",
    "ProviderConfig",
    "ProviderError",
    "ProviderHealth",
    "ProviderSpec",
    "ProviderTimeoutError",
    "ProviderTransport",
    "ProviderUnavailableError",
    "RateLimitError",
    "Registry",
    "ResponseFormatError",
    "RetryPolicy",
    "Setting",
    "StalledResponseError",
    "TextDelta",
    "Timeouts",
    "UnknownModelError",
    "Usage",
    "__version__",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'plugboard' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
