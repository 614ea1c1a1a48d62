"""Building the AiChats HTTP request: endpoint, browser-shaped headers and the one-entry body."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jackfield.provider import CompletionRequest, HttpRequest, ProviderConfig

from .prompt import format_prompt

__all__ = ["ENDPOINT", "USER_AGENT", "build_request", "origin_of"]

ENDPOINT = "/chat/send2/"  # the trailing slash is part of the path
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36"
)


def origin_of(base_url: str) -> str:
    """Return scheme://host[:port] of base_url, the form a browser's Origin header takes."""
    # A browser's Origin never carries a path; for the default base URL (and any base URL
    # without a path, such as an emulator's) this is exactly the configured base URL.
    parts = urlsplit(base_url)
    if not parts.scheme or not parts.netloc:
        return base_url.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}"


def build_request(request: CompletionRequest, config: ProviderConfig) -> HttpRequest:
    """Return the POST to /chat/send2/ for a chat or image request (no I/O)."""
    cookie = config.require("cookie")  # raises AuthenticationError before anything is sent
    is_image = request.model.kind == "image"
    prompt = request.prompt if is_image else format_prompt(request.messages)
    headers = {
        "accept": "application/json, text/event-stream",
        "accept-language": "en-US,en;q=0.9",
        "cache-control": "no-cache",
        "pragma": "no-cache",
        "content-type": "application/json",
        "origin": origin_of(config.base_url),
        "referer": config.url("/image/" if is_image else "/chat/"),
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
        "user-agent": USER_AGENT,
        "cookie": cookie,
    }
    body: dict[str, Any] = {
        "type": "image" if is_image else "chat",
        "messagesHistory": [{"from": "you", "content": prompt}],
    }
    # Chat replies are read piece by piece; the image reply is one small JSON document.
    return HttpRequest("POST", config.url(ENDPOINT), headers=headers, json=body,
                       stream=not is_image)
