"""An upstream that quotes our request headers back in its replies, as some error pages do."""

from __future__ import annotations

import json

from aiohttp import web

from jackfield._types.requests import SENSITIVE_HEADERS
from jackfield.provider import CompletionRequest, HttpRequest, ProviderConfig, hookimpl
from mockprovider import MockProvider

__all__ = ["SECRET", "SECRET_COOKIE", "SECRET_KEY", "CookieMock", "echoing_app", "leaks"]

SECRET = "tok-9f8e7d6c5b4a3210"
# A cookie string whose value is a secret of its own, whatever the header around it.
SECRET_COOKIE = "sid=c00k1e-5ecret-value; theme=dark"
SECRET_KEY = SECRET[::-1]  # an X-Api-Key the plugin holds itself
_PIECES = (SECRET, "c00k1e-5ecret-value", "9f8e7d6c", SECRET_KEY)


def leaks(text: str) -> list[str]:
    """Return each piece of a secret that text quotes (also its first eight characters)."""
    return [piece for piece in _PIECES if piece in text]


def echoing_app(status: int, *, shape: str = "json") -> web.Application:
    """Return an app answering every request with status and a body that quotes its headers.

    shape "json": {"error": {"message": ...}} quoting the headers (as JSON and as text);
    "text": a plain-text header dump; "sse": one good event, then an event the parser rejects.
    """
    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        # Credentials first, so that they come before the cut of a shortened excerpt.
        headers = dict(sorted(request.headers.items(),
                              key=lambda item: item[0].lower() not in SENSITIVE_HEADERS))
        dump = "\r\n".join(f"{name}: {value}" for name, value in headers.items())
        if shape == "sse":
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(b'data: {"text": "hello "}\n\n')
            await response.write(f"data: {json.dumps({'echo': headers})}\n\n".encode())
            return response
        if shape == "text":
            return web.Response(status=status, text=f"Denied. You sent:\r\n{dump}")
        message = f"denied, headers were {json.dumps(headers)} ({dump})"
        return web.json_response({"error": {"message": message}, "headers": headers},
                                 status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


class CookieMock(MockProvider):
    """The mock provider, also sending a session cookie and an API key it holds itself (so
    that only the headers sent, not the configuration, know them)."""

    @hookimpl
    def jackfield_build_request(self, request: CompletionRequest,
                                config: ProviderConfig) -> HttpRequest:
        built = super().jackfield_build_request(request, config)
        headers = dict(built.headers) | {"Cookie": SECRET_COOKIE, "X-Api-Key": SECRET_KEY}
        return HttpRequest(built.method, built.url, headers=headers, json=built.json,
                           stream=built.stream)
