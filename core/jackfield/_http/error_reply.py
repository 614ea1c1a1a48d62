"""A service's non-2xx reply as a plugin's error hook sees it: status, headers, body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from jackfield._errors import ProviderError

__all__ = ["ErrorReply"]


@attrs.frozen
class ErrorReply:
    """One error reply: what `jackfield_error_reply` turns into the typed error it means.

    `body` holds at most the first 64 KiB; `default` is the error the core raises when the
    hook returns None (from the status: 401/403, 429, 5xx, ...).
    """

    provider: str
    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    default: ProviderError
    model: str | None = None  # the model id the request was sent for (None: discovery)

    @property
    def text(self) -> str:
        """Return the body as text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """Return the body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def error_object(self) -> Mapping[str, Any]:
        """Return OpenAI's `{"error": {...}}` object (message, type, param, code), or {}.

        Many services share this shape: OpenAI, vLLM, Ollama's /v1, OpenRouter, Groq. The
        plainer shapes some servers send come as {"message": ...}: `{"error": "..."}`
        (Ollama's own API, LM Studio), `{"detail": "..."}` (FastAPI-based servers) and a
        top-level `{"message": "..."}`.
        """
        document = self.json()
        if not isinstance(document, Mapping):
            return {}
        error = document.get("error")
        if isinstance(error, Mapping):
            return error
        for key in ("error", "detail", "message"):
            if isinstance(document.get(key), str):
                return {"message": document[key]}
        return {}
