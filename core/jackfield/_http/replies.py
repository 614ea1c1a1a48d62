"""Reply shapes that many services share, checked strictly: lists of image URLs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from jackfield._errors import ResponseFormatError

__all__ = ["image_urls"]


def image_urls(provider: str, document: object, base_url: str, *, key: str = "data"
               ) -> list[str]:
    """Return the absolute URLs of a `{"data": [{"url": ...}, ...]}` reply (OpenAI's shape).

    :param document: the parsed JSON reply.
    :param base_url: the reply's own URL (`response.url`): relative URLs are resolved
        against it, as a browser would.
    :param key: the name of the list, for services that call it otherwise.
    :raises ResponseFormatError: when the list is missing or empty, an entry has no URL, or
        a URL is not http(s) (a reply must not make the core read `file://` or the like).
    """
    entries = document.get(key) if isinstance(document, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise ResponseFormatError(provider, f"the image reply has no {key!r} list of images",
                                  body=_shown(document))
    urls = []
    for entry in entries:
        url = entry.get("url") if isinstance(entry, Mapping) else None
        if not isinstance(url, str) or not url.strip():
            raise ResponseFormatError(provider, "an image in the reply has no 'url'",
                                      body=_shown(document))
        absolute = urljoin(base_url, url.strip())
        if urlsplit(absolute).scheme not in ("http", "https"):
            raise ResponseFormatError(provider, "an image URL in the reply is not http(s)",
                                      body=url)
        urls.append(absolute)
    return urls


def _shown(document: object) -> str:
    """Return a bounded JSON rendering of a reply for an error message."""
    return json.dumps(document, default=str)[:1000]
