"""The body of a request to a provider, as aiohttp is given it."""

from __future__ import annotations

import io
from collections.abc import Mapping

from jackfield._json import dumps
from jackfield._types.requests import HttpRequest

__all__ = ["LARGE_BODY", "payload"]

# aiohttp warns (ResourceWarning) that raw bytes over 1 MiB block the loop; bodies that large
# (image parts sent inline as data: URLs) go as a stream instead.
LARGE_BODY = 2**20


def payload(request: HttpRequest) -> tuple[Mapping[str, str], bytes | io.BytesIO | None]:
    """Return the headers and the body for aiohttp: the JSON encoded as its json= encodes it
    (Content-Type application/json unless the plugin set one), a large body as a stream.

    The plugin's headers are passed on as they are (aiohttp copies them into its own), and
    copied here only when the content type is added.
    """
    headers = request.headers
    if request.json is None:
        return headers, None
    # The two usual spellings first: a dict lookup, where the scan lowers every name.
    if "content-type" not in headers and "Content-Type" not in headers and not any(
            name.lower() == "content-type" for name in headers):
        headers = {**headers, "Content-Type": "application/json"}
    body = dumps(request.json)
    return headers, io.BytesIO(body) if len(body) > LARGE_BODY else body
