"""Everything a provider plugin uses: hooks, what it declares, the types its hooks exchange,
the reply reader and its line/SSE helpers, the errors a provider raises, and the checks
every protocol needs (`error_for_status`, `HttpResponse.refuse_html`, `image_urls`).

A plugin imports from here (and from `jackfield.testing` in its tests), never from a
`jackfield._...` module: those are private and may change in any release. Names load lazily,
so importing this module pulls in no HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jackfield._lazy import lazy_attributes
from jackfield.hookspecs import hookimpl

if TYPE_CHECKING:
    from jackfield._errors import (
        AuthenticationError,
        InvalidRequestError,
        JackfieldError,
        ProviderError,
        ProviderTimeoutError,
        ProviderUnavailableError,
        RateLimitError,
        ResponseFormatError,
        UnknownModelError,
    )
    from jackfield._http.error_reply import ErrorReply
    from jackfield._http.lines import LineSplitter, LineTooLongError, data_payload, sse_data
    from jackfield._http.replies import image_urls
    from jackfield._http.response import HttpResponse
    from jackfield._http.statuses import error_for_status, parse_retry_after
    from jackfield._http.transport import Download, ProviderTransport
    from jackfield._settings.config import ProviderConfig
    from jackfield._types.capabilities import SAMPLING, Capabilities
    from jackfield._types.content import ImagePart, TextPart, ToolCall
    from jackfield._types.events import (
        Event,
        Finish,
        Image,
        Logprobs,
        ReasoningDelta,
        TextDelta,
        ToolCallDelta,
        Usage,
        Vector,
    )
    from jackfield._types.messages import Message
    from jackfield._types.notices import CallWarning
    from jackfield._types.params import CallParams, ResponseFormat, Tool, ToolChoice
    from jackfield._types.requests import (
        CompletionRequest,
        EmbeddingRequest,
        HttpRequest,
        ProviderRequest,
    )
    from jackfield._types.specs import Kind, ModelSpec, Option, ProviderSpec, Setting

_LAZY = {
    **dict.fromkeys(("AuthenticationError", "InvalidRequestError", "JackfieldError",
                     "ProviderError", "ProviderTimeoutError", "ProviderUnavailableError",
                     "RateLimitError", "ResponseFormatError", "UnknownModelError"), "_errors"),
    "ErrorReply": "_http.error_reply",
    **dict.fromkeys(("LineSplitter", "LineTooLongError", "data_payload", "sse_data"),
                    "_http.lines"),
    "HttpResponse": "_http.response",
    "image_urls": "_http.replies",
    **dict.fromkeys(("error_for_status", "parse_retry_after"), "_http.statuses"),
    **dict.fromkeys(("Download", "ProviderTransport"), "_http.transport"),
    "ProviderConfig": "_settings.config",
    **dict.fromkeys(("Capabilities", "SAMPLING"), "_types.capabilities"),
    **dict.fromkeys(("ImagePart", "TextPart", "ToolCall"), "_types.content"),
    **dict.fromkeys(("Event", "Finish", "Image", "Logprobs", "ReasoningDelta", "TextDelta",
                     "ToolCallDelta", "Usage", "Vector"), "_types.events"),
    "Message": "_types.messages",
    "CallWarning": "_types.notices",
    **dict.fromkeys(("CallParams", "ResponseFormat", "Tool", "ToolChoice"), "_types.params"),
    **dict.fromkeys(("CompletionRequest", "EmbeddingRequest", "HttpRequest", "ProviderRequest"),
                    "_types.requests"),
    **dict.fromkeys(("Kind", "ModelSpec", "Option", "ProviderSpec", "Setting"), "_types.specs"),
}

__all__ = [
    "SAMPLING",
    "AuthenticationError",
    "CallParams",
    "CallWarning",
    "Capabilities",
    "CompletionRequest",
    "Download",
    "EmbeddingRequest",
    "ErrorReply",
    "Event",
    "Finish",
    "HttpRequest",
    "HttpResponse",
    "Image",
    "ImagePart",
    "InvalidRequestError",
    "JackfieldError",
    "Kind",
    "LineSplitter",
    "LineTooLongError",
    "Logprobs",
    "Message",
    "ModelSpec",
    "Option",
    "ProviderConfig",
    "ProviderError",
    "ProviderRequest",
    "ProviderSpec",
    "ProviderTimeoutError",
    "ProviderTransport",
    "ProviderUnavailableError",
    "RateLimitError",
    "ReasoningDelta",
    "ResponseFormat",
    "ResponseFormatError",
    "Setting",
    "TextDelta",
    "TextPart",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "UnknownModelError",
    "Usage",
    "Vector",
    "data_payload",
    "error_for_status",
    "hookimpl",
    "image_urls",
    "parse_retry_after",
    "sse_data",
]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
