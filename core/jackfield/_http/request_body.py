"""The body of a request to a provider, as aiohttp is given it."""

from __future__ import annotations

import io
from typing import Any

from jackfield._json import dumps
from jackfield._types.requests import HttpRequest

__all__ = ["LARGE_BODY", "payload"]

# aiohttp warns (ResourceWarning) that raw bytes over 1 MiB block the loop; bodies that large
# (image parts sent inline as data: URLs) go as a stream instead.
LARGE_BODY = 2**20


def payload(request: HttpRequest) -> dict[str, Any]:
    """Return the headers and body arguments for aiohttp: the JSON encoded as its json=
    encodes it (Content-Type application/json unless the plugin set one), a large body as
    a stream."""
    headers = dict(request.headers)
    if request.json is None:
        return {"headers": headers}
    if not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    body = dumps(request.json)
    return {"headers": headers, "data": io.BytesIO(body) if len(body) > LARGE_BODY else body}
