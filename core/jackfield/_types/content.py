"""What a message carries besides text: image parts and the tool calls an assistant made."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import attrs

from jackfield._errors import InvalidRequestError

__all__ = ["IMAGE_TYPES", "MAX_IMAGE_BYTES", "ImagePart", "TextPart", "ToolCall", "check_image",
           "image_from_url"]

# What OpenAI accepts as image input, and its size cap per image.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",),
          "image/gif": (b"GIF87a", b"GIF89a"), "image/webp": (b"RIFF",)}
# "image/jpg" is not a registered type, but browsers and many clients write it.
_MIME_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
_WRAPS = "\r\n\t "
_UNWRAP = str.maketrans("", "", _WRAPS)


@attrs.frozen
class TextPart:
    """A piece of text in a message's content parts."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        """Return OpenAI's wire form: {"type": "text", "text": ...}."""
        return {"type": "text", "text": self.text}


@attrs.frozen(repr=False)
class ImagePart:
    """An image given to a model: an http(s) URL, or bytes with their MIME type.

    `detail` is OpenAI's "auto" / "low" / "high" hint, None when not given.
    """

    url: str | None = None
    data: bytes | None = None
    mime_type: str | None = None
    detail: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.url is None) == (self.data is None):
            raise ValueError("an ImagePart needs a url or data (with mime_type), not both")
        if self.data is not None and self.mime_type not in IMAGE_TYPES:
            raise ValueError(f"an ImagePart's mime_type must be one of {IMAGE_TYPES}, "
                             f"got {self.mime_type!r}")

    @property
    def data_url(self) -> str:
        """Return the image as a URL: its own, or a base64 data: URL of its bytes."""
        if self.data is None:
            assert self.url is not None
            return self.url
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def to_dict(self) -> dict[str, Any]:
        """Return OpenAI's wire form: {"type": "image_url", "image_url": {"url": ...}}."""
        inner: dict[str, Any] = {"url": self.data_url}
        if self.detail is not None:
            inner["detail"] = self.detail
        return {"type": "image_url", "image_url": inner}

    def __repr__(self) -> str:
        shown = self.url if self.data is None else f"<{len(self.data)} bytes {self.mime_type}>"
        return f"ImagePart({shown})"


@attrs.frozen
class ToolCall:
    """A call of one of the caller's tools, as the model asked for it.

    `arguments` is the JSON text the model wrote; `parsed_arguments()` decodes it.
    """

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> Any:
        """Return the arguments decoded from JSON (ValueError if the model wrote bad JSON)."""
        return json.loads(self.arguments)

    def to_dict(self) -> dict[str, Any]:
        """Return OpenAI's wire form of the call."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.arguments}}


def image_from_url(url: str, where: str, detail: str | None = None) -> ImagePart:
    """Return the image a content part's URL names; a data: URL is decoded and checked."""
    if url[:5].lower() != "data:":
        return check_image(ImagePart(url=url, detail=detail), where)
    header, comma, payload = url[5:].partition(",")
    # data:<type>[;<name>=<value>]*;base64,<data>: parameters (charset=...) may come first.
    mime, *flags = (piece.strip().lower() for piece in header.split(";"))
    mime = _MIME_ALIASES.get(mime, mime)
    if not comma or not flags or flags[-1] != "base64":
        raise InvalidRequestError(f"{where}: a data: URL must be data:<type>;base64,<data>.",
                                  param=where)
    if mime not in IMAGE_TYPES:
        raise InvalidRequestError(f"{where}: image type {mime!r} is not accepted; send one of "
                                  f"{', '.join(IMAGE_TYPES)}.", param=where)
    limit = MAX_IMAGE_BYTES * 4 // 3 + 4
    if len(payload) <= limit * 21 // 20 and any(char in payload for char in _WRAPS):
        payload = payload.translate(_UNWRAP)  # base64.encodebytes() wraps lines at 76
    if len(payload) > limit:
        raise InvalidRequestError(f"{where}: the image is larger than "
                                  f"{MAX_IMAGE_BYTES // 2**20} MiB.", param=where)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(f"{where}: the data: URL is not valid base64.",
                                  param=where) from None
    if not data:
        raise InvalidRequestError(f"{where}: the data: URL holds no bytes.", param=where)
    return check_image(ImagePart(data=data, mime_type=mime, detail=detail), where)


def check_image(image: ImagePart, where: str) -> ImagePart:
    """Return image if it can be sent: an http(s) URL, or bytes that are what their MIME
    type says (the caller's own ImagePart is held to the rules of a data: URL)."""
    if image.data is None:
        assert image.url is not None
        if image.url[:5].lower() == "data:":
            return image_from_url(image.url, where, image.detail)
        scheme, _, rest = image.url.partition("://")
        if scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
            raise InvalidRequestError(
                f"{where}: an image URL must be http(s)://... or a data: URL, got "
                f"{image.url[:60]!r}.", param=where)
        return image
    data, mime = image.data, image.mime_type
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidRequestError(f"{where}: the image is larger than "
                                  f"{MAX_IMAGE_BYTES // 2**20} MiB.", param=where)
    assert mime is not None
    if not data.startswith(_MAGIC[mime]) or (mime == "image/webp" and data[8:12] != b"WEBP"):
        found = next((kind for kind, magic in _MAGIC.items() if data.startswith(magic)), None)
        said = f"the bytes are {found}" if found else "the bytes are not an image of that type"
        raise InvalidRequestError(f"{where}: the image says {mime} but {said}.", param=where)
    return image
