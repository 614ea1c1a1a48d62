"""Reading AiChats replies: streamed `data:` pieces for chat, a JSON image URL for images."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from jackfield.provider import Event, Finish, Image, ResponseFormatError, TextDelta, image_urls

if TYPE_CHECKING:
    from jackfield.provider import CompletionRequest, HttpResponse, ProviderTransport

__all__ = ["image_type", "parse_chat", "parse_image", "parse_response", "piece_of"]

DATA_PREFIX = "data: "
# Enough of the non-data lines to show what the service sent instead (errors show 200 chars).
EVIDENCE_CHARS = 1024
IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def piece_of(line: str) -> str | None:
    """Return the piece a line carries ("" for a bare data line); None for other lines."""
    if line.startswith(DATA_PREFIX):
        return line[len(DATA_PREFIX):]
    # A bare `data: ` line whose trailing space a proxy trimmed still carries nothing.
    if line == "data:":
        return ""
    return None


def image_type(data: bytes) -> str | None:
    """Return the MIME type the bytes' magic number names (PNG, JPEG, GIF, WebP), else None."""
    for magic, mime_type in IMAGE_MAGIC:
        if data.startswith(magic):
            return mime_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


async def parse_chat(request: CompletionRequest, response: HttpResponse) -> AsyncIterator[Event]:
    """Yield each non-empty piece as it arrives, then Finish("stop"); no data line is an error."""
    await response.refuse_html()
    seen_data = False
    evidence: list[str] = []
    evidence_chars = 0
    async for line in response.iter_lines():
        piece = piece_of(line)
        if piece is None:
            if not seen_data and evidence_chars < EVIDENCE_CHARS:
                evidence.append(line[:EVIDENCE_CHARS])
                evidence_chars += len(evidence[-1]) + 1
            continue
        seen_data = True
        if piece:
            yield TextDelta(piece)  # kept verbatim: pieces carry their own spaces
    if not seen_data:
        # An error page not labelled HTML, or an empty body, is not an (empty) answer: say
        # what came instead.
        raise ResponseFormatError(
            request.provider,
            f"the chat reply ({response.content_type or 'no content type'}) "
            "carries no `data:` line",
            body="\n".join(evidence) or "an empty body",
        )
    yield Finish("stop")


async def parse_image(request: CompletionRequest, response: HttpResponse,
                      transport: ProviderTransport) -> AsyncIterator[Event]:
    """Read the JSON reply, download every image it names and yield it with its bytes."""
    await response.refuse_html()
    for url in image_urls(request.provider, await response.json(), response.url):
        download = await transport.get(url)
        mime_type = image_type(download.data)
        if mime_type is None:
            # Type and size only: a non-image answer may be a page not to be quoted.
            raise ResponseFormatError(
                request.provider,
                f"the image download is not a PNG, JPEG, WebP or GIF ({download.summary})",
            )
        # The magic number, not the server's header, decides the type the caller is told.
        yield Image(url=url, data=download.data, mime_type=mime_type)
    yield Finish("stop")


def parse_response(request: CompletionRequest, response: HttpResponse,
                   transport: ProviderTransport) -> AsyncIterator[Event]:
    """Return the event stream for a 2xx reply to a chat or image request."""
    if request.model.kind == "image":
        return parse_image(request, response, transport)
    return parse_chat(request, response)
