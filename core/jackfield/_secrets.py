"""Masking secrets in every text that leaves the process: errors, logs, the server's replies.

A provider's error page may quote the request it got, our credentials included. Each failed
try's error is masked with the secrets of that try (`redact_call_error`, applied where every
try's errors pass); the secrets seen so far are also remembered process-wide, so that log
records and the server's replies can be masked once more as a defence in depth.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jackfield._types.requests import SENSITIVE_HEADERS

if TYPE_CHECKING:
    from jackfield._settings.config import ProviderConfig

__all__ = ["LOGGERS", "MASK", "Redactor", "SecretFilter", "config_secrets", "credential_headers",
           "header_secrets", "mask_known", "redact_call_error", "remember", "url_secrets"]

MASK = "***"
MIN_CHARS = 4  # a shorter value is no secret worth garbling every "a" and "id" of a text for
WORD_BELOW = 8  # a value shorter than this is masked only where it stands as a whole word
MAX_KNOWN = 256  # secrets remembered process-wide; the oldest are forgotten first
CUT = "…"  # what excerpt() ends a shortened body with: a secret may be cut in two there
_SCHEMES = frozenset({"bearer", "basic", "digest", "token", "negotiate"})
_COOKIES = frozenset({"cookie", "set-cookie"})
_ALNUM = r"A-Za-z0-9"

# Credentials whose value we may not know (a follow-up request's headers, another program's
# token), recognised by their shape: "Bearer <token>", "<sensitive header>: <value>" and the
# password in "scheme://user:password@host".
_TOKEN = r"[A-Za-z0-9\-._~+/]"
_VALUE = r"[^\s\"'`<>,;}]"
_SCHEME_WORD = r"(?:bearer|basic|digest|token)"


@functools.cache
def _shapes() -> tuple[re.Pattern[str], ...]:
    """Compile the credential shapes on first use (`jackfield models` never needs them)."""
    bearer = re.compile(rf"(?i)\b(bearer|basic)(\s+)(?:{_TOKEN}{{8,}}=*|{_TOKEN}+=*(?={CUT}))")
    header = re.compile(
        r"(?i)(?<![\w-])(" + "|".join(sorted(SENSITIVE_HEADERS, key=len, reverse=True)) + r")"
        r"([\"']?[ \t]*[:=][ \t]*)"
        rf"(\"[^\"{CUT}]*\"?|'[^'{CUT}]*'?"
        rf"|{_SCHEME_WORD}[ \t]+{_VALUE}+"
        rf"|(?!{_SCHEME_WORD}\b|\.\.\.){_VALUE}+(?:;[ \t]*{_VALUE}+)*)")
    scheme = re.compile(rf"(?i)({_SCHEME_WORD}[ \t]+)")
    userinfo = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@\"'<>]*:)[^\s/@\"'<>]+@")
    return bearer, header, scheme, userinfo


def _mask_header(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    quote = value[0] if value[:1] in ("'", '"') else ""
    inner = value[1:] if quote else value
    closing = quote if quote and inner.endswith(quote) else ""
    inner = inner[:-1] if closing else inner
    scheme = _shapes()[2].match(inner)
    kept = scheme.group(1) if scheme else ""
    if not inner or inner.strip().lower() in _SCHEMES:
        return match.group(0)  # nothing secret in it: an empty value or a bare scheme word
    return f"{name}{separator}{quote}{kept}{MASK}{closing}"


def _mask_shapes(text: str) -> str:
    bearer, header, _, userinfo = _shapes()
    text = bearer.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = userinfo.sub(rf"\1{MASK}@", text)
    return header.sub(_mask_header, text)


def _forms(secret: str) -> set[str]:
    """Return the ways a secret may be quoted: as is, JSON-escaped, URL-encoded, on one line."""
    import json
    from urllib.parse import quote, quote_plus

    return {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
            quote(secret, safe=""), quote_plus(secret), " ".join(secret.split())}


_CLEAN_CHARS, _CLEAN_TEXTS = 200, 1024  # Redactor's memo: the longest text kept, how many


class Redactor:
    """Masks known secret strings (and credential-shaped text) in text and in errors."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = set()
        for secret in secrets:
            if len(secret.strip()) >= MIN_CHARS:
                forms |= {form for form in _forms(secret) if len(form) >= MIN_CHARS}
        # Longest first: a whole cookie string goes before the one value inside it.
        self._secrets = tuple(sorted(forms, key=lambda form: (-len(form), form)))
        patterns = [re.escape(form) if len(form) >= WORD_BELOW
                    else rf"(?<![{_ALNUM}]){re.escape(form)}(?![{_ALNUM}])"
                    for form in self._secrets]
        self._pattern = re.compile("|".join(patterns)) if patterns else None
        # Short texts that hold nothing to mask (a model id in every access log line), so
        # that the regexes run once per text, not once per request. Only clean texts are
        # kept: no secret is held here that the redactor does not hold already.
        self._clean: dict[str, None] = {}

    def mask(self, text: str) -> str:
        """Return text with every known secret and credential-shaped value as ***."""
        if text in self._clean:
            return text
        original = text
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        text = _mask_shapes(text)
        text = self._mask_cuts(text) if CUT in text and self._secrets else text
        if text == original and len(text) <= _CLEAN_CHARS:
            if len(self._clean) >= _CLEAN_TEXTS:
                self._clean.clear()  # a bound, not a cache policy: clients name few models
            self._clean[text] = None
        return text

    def _mask_cuts(self, text: str) -> str:
        """Mask the start of a secret that a shortened excerpt ends with."""
        pieces = text.split(CUT)
        for index, before in enumerate(pieces[:-1]):
            for secret in self._secrets:
                size = _cut_prefix(before, secret)
                if size:
                    pieces[index] = before[:-size] + MASK
                    break
        return CUT.join(pieces)

    def mask_error(self, error: BaseException) -> BaseException:
        """Mask error in place (its message, attributes, causes); return it.

        In place, so that its type, identity and traceback stay what they were.
        """
        seen: set[int] = set()

        def value(item: Any) -> Any:
            if isinstance(item, str):
                return self.mask(item)
            if isinstance(item, BaseException):
                visit(item)
            elif type(item) in (tuple, list):  # not a namedtuple: it could not be rebuilt so
                return type(item)(value(inner) for inner in item)
            return item

        def visit(exc: BaseException) -> None:
            if id(exc) in seen:
                return
            seen.add(id(exc))
            # A foreign exception may refuse new attributes: masking must not raise instead.
            with contextlib.suppress(AttributeError, TypeError):
                args = tuple(value(arg) for arg in exc.args)
                if args != exc.args:
                    exc.args = args
                for name, item in list(getattr(exc, "__dict__", {}).items()):
                    masked = value(item)
                    if masked is not item and masked != item:
                        setattr(exc, name, masked)
            for linked in (exc.__cause__, exc.__context__):
                if linked is not None:
                    visit(linked)

        visit(error)
        return error


def _cut_prefix(before: str, secret: str) -> int:
    """Return how many characters at the end of before start secret (0 if none)."""
    for size in range(min(len(secret) - 1, len(before)), 0, -1):
        start = len(before) - size
        # A few characters may just happen to match: then only at the start of a word.
        plausible = size >= MIN_CHARS or start == 0 or not before[start - 1].isalnum()
        if plausible and before.endswith(secret[:size]):
            return size
    return 0


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """Return the credential values among request headers (see SENSITIVE_HEADERS): whole
    values, the token after an auth scheme and each value inside a cookie string."""
    found: list[str] = []
    for name, raw in credential_headers(headers).items():
        lowered, value = name.lower(), raw.strip()
        if not value:
            continue
        if lowered in _COOKIES:
            found.append(value)
            for part in value.split(";"):
                _, equals, inner = part.partition("=")
                inner = inner.strip().strip('"')
                if equals and len(inner) >= WORD_BELOW:  # "theme=dark" holds no secret
                    found.append(inner)
            continue
        scheme, _, credentials = value.partition(" ")
        if credentials.strip():
            found += [value, credentials.strip()]
        elif scheme.lower() not in _SCHEMES:  # a bare "Bearer" is no secret
            found.append(value)
    return found


_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def credential_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Return only the headers that may carry a credential (see SENSITIVE_HEADERS): what
    header_secrets() reads, kept by an open stream in place of all its request's headers."""
    kept = {name: value for name, value in headers.items()
            if name.lower() in SENSITIVE_HEADERS}
    return kept or _NO_HEADERS


def url_secrets(url: str | None) -> list[str]:
    """Return the password of a URL like http://user:password@host (a proxy's, say)."""
    if not url or "@" not in url:
        return []
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def config_secrets(config: ProviderConfig) -> list[str]:
    """Return the values of a provider's settings declared secret, of its configured
    credential headers, and its URL's password."""
    values = [config.values[name] for name in config.secret_names if config.values.get(name)]
    return values + header_secrets(config.headers) + url_secrets(config.base_url)


def redact_call_error(error: BaseException, config: ProviderConfig,
                      headers: Mapping[str, str] | None = None, proxy: str | None = None) -> None:
    """Mask one try's error with that try's secrets: the provider's configured secrets, the
    credential headers of the request sent (None if it was not built) and the proxy's."""
    secrets = config_secrets(config) + url_secrets(proxy)
    if headers is not None:
        secrets += header_secrets(headers)
    remember(*secrets)
    Redactor(secrets).mask_error(error)


class _Known:
    """The secrets seen so far in this process, most recent last, and their Redactor."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, None] = {}
        self.redactor: Redactor | None = None


_KNOWN = _Known()


def remember(*secrets: str) -> None:
    """Add secrets to those every log record and server reply is masked with."""
    fresh = [s for s in secrets if len(s.strip()) >= MIN_CHARS and s not in _KNOWN.values]
    if not fresh:
        return
    with _KNOWN.lock:
        for secret in fresh:
            _KNOWN.values[secret] = None
        while len(_KNOWN.values) > MAX_KNOWN:
            del _KNOWN.values[next(iter(_KNOWN.values))]
        _KNOWN.redactor = None


def _known_redactor() -> Redactor:
    with _KNOWN.lock:
        if _KNOWN.redactor is None:
            _KNOWN.redactor = Redactor(_KNOWN.values)
        return _KNOWN.redactor


def mask_known(text: str) -> str:
    """Return text with every secret remembered so far (and credential shapes) masked."""
    return _known_redactor().mask(text)


class SecretFilter(logging.Filter):
    """Masks remembered secrets in a record's message, traceback and stack before handlers
    see it: the last line of defence for what a log shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = _known_redactor()
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it itself when formatting
        masked = redactor.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Rendered here, masked, and cached where every Formatter looks first.
            record.exc_text = redactor.mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redactor.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.mask(record.stack_info)
        return True


# Every logger jackfield logs to: a logger's filters do not apply to its children's records.
LOGGERS = ("jackfield", "jackfield._server")
_FILTER = SecretFilter()
for _name in LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)
