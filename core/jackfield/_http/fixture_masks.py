"""Masking a recording before it is written: each secret becomes a marker naming it.

A recording is meant to be committed, so nothing secret may stay in it however it was
placed: in a header, the URL's query or password, the request body, or the service's echo
of any of them in its reply. Known values (the provider's secret settings, credential
headers sent or received, the base URL's password) become `<redacted:NAME>`, NAME being the
setting or header it came from, the same in every recording of that provider; then what the
core masks in any text that leaves the process (credential shapes such as `Bearer ...`)
becomes `***`. A replay treats both as "any value".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jackfield._secrets import MIN_CHARS, WORD_BELOW, Redactor, _forms, header_secrets, url_secrets
from jackfield._types.requests import SENSITIVE_HEADERS

__all__ = ["MARKER", "FixtureMasker", "marker", "masked_chunks"]

MARKER = re.compile(r"<redacted:[\w.-]+>|\*\*\*")  # what a replay matches any value with
_SCHEME = re.compile(r"(?i)(bearer|basic|digest|token)\s+")
_MASKED = re.compile(rf"(?i)(?:(?:bearer|basic|digest|token)\s+)?(?:{MARKER.pattern})")
_UNSAFE = re.compile(r"[^\w.-]")
_SHAPES = Redactor(())  # no known value: the credential shapes alone


def marker(name: str) -> str:
    """Return the marker that stands for the secret called name."""
    return "<redacted:" + _UNSAFE.sub("-", name.lower()) + ">"


class FixtureMasker:
    """Replaces every known secret with its marker, in text, bytes, JSON and headers."""

    def __init__(self, named: Iterable[tuple[str, str]] = ()) -> None:
        self._markers: dict[str, str] = {}  # each form of a secret -> its marker
        self._pattern: re.Pattern[str] | None = None
        self.learn(named)

    @classmethod
    def for_provider(cls, secret_settings: Mapping[str, str], headers: Mapping[str, str],
                     base_url: str, proxy: str | None = None) -> FixtureMasker:
        """Return a masker of a provider's secret settings (name -> value), its configured
        headers' credentials, and the passwords of its base URL and proxy."""
        masker = cls(secret_settings.items())
        masker.learn_headers(headers.items())
        masker.learn(("password", value) for value in url_secrets(base_url))
        masker.learn(("proxy-password", value) for value in url_secrets(proxy))
        return masker

    def learn(self, named: Iterable[tuple[str, str]]) -> None:
        """Add secrets (name, value); a value known already keeps its first name."""
        added = False
        for name, secret in named:
            if not isinstance(secret, str) or len(secret.strip()) < MIN_CHARS:
                continue
            for form in _forms(secret):
                if len(form) >= MIN_CHARS and form not in self._markers:
                    self._markers[form] = marker(name)
                    added = True
        if added:
            # Longest first: a whole cookie string goes before the one value inside it.
            forms = sorted(self._markers, key=lambda form: (-len(form), form))
            self._pattern = re.compile("|".join(
                re.escape(form) if len(form) >= WORD_BELOW
                else rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])" for form in forms))

    def learn_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """Add the credentials among headers (request or reply), each named by its header."""
        for name, value in headers:
            # "Bearer <key>" whose key is a known setting stays "Bearer <redacted:key>".
            self.learn((name, secret) for secret in header_secrets({name: value})
                       if self.text(secret) == secret)

    def text(self, text: str) -> str:
        """Return text with every known secret as its marker and credential shapes as ***."""
        if self._pattern is not None:
            text = self._pattern.sub(lambda match: self._markers[match.group(0)], text)
        return _SHAPES.mask(text)

    def data(self, data: bytes) -> bytes:
        """Return bytes masked as text() masks; bytes that are not UTF-8 lose the known
        secrets only (the credential shapes are text)."""
        try:
            return self.text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            for form, name in self._markers.items():
                data = data.replace(form.encode("utf-8"), name.encode("utf-8"))
            return data

    def json(self, value: Any) -> Any:
        """Return a JSON value with every string (keys too) masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(key)): self.json(inner) for key, inner in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(inner) for inner in value]
        return value

    def header_value(self, name: str, value: str) -> str:
        """Return a header's value masked; a credential header keeps only its scheme word."""
        masked = self.text(value)
        if name.lower() not in SENSITIVE_HEADERS or _MASKED.fullmatch(masked.strip()):
            return masked
        scheme = _SCHEME.match(value)
        return (scheme.group(0) if scheme else "") + marker(name)

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        return dict(self.header_pairs(headers))

    def header_pairs(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.header_value(name, value)) for name, value in headers]


def masked_chunks(chunks: list[bytes], masker: FixtureMasker) -> list[bytes]:
    """Return the body masked, in the chunks it arrived in where masking allows.

    The whole body is masked at once, so that a secret cut across two chunks is masked too;
    a chunk is kept as it came (masked) when it is exactly the next piece of the masked
    body, and is otherwise merged with the next one. The chunks always join to the masked
    body, never to anything less masked.
    """
    return _rechunk(chunks, masker.data)


def _rechunk(chunks: list[bytes], mask: Callable[[bytes], bytes]) -> list[bytes]:
    whole = mask(b"".join(chunks))
    out: list[bytes] = []
    done = 0
    pending = b""
    for chunk in chunks:
        pending += chunk
        piece = mask(pending)
        if piece and whole.startswith(piece, done):
            out.append(piece)
            done += len(piece)
            pending = b""
    if done < len(whole):
        out.append(whole[done:])
    return out
