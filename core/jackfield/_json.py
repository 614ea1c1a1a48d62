"""JSON for the hot path: orjson when `jackfield[speedups]` installed it, else the stdlib.

Both give the same documents for what jackfield sends and reads (orjson's bytes are compact
UTF-8, the stdlib's are as `json.dumps` writes them, unchanged from before the extra existed).
Where orjson refuses what the stdlib takes (an integer past 64 bits, a key that is not a
string), the stdlib answers, so the extra changes speed, never behaviour: a document the stdlib
cannot read either raises the stdlib's own json.JSONDecodeError, with its message.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "loads"]

try:
    import orjson  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # the default install: pure Python
    orjson = None

def dumps(document: Any) -> bytes:
    """Return document as JSON bytes."""
    if orjson is not None:
        try:
            encoded: bytes = orjson.dumps(document)
            return encoded
        except TypeError:  # orjson.JSONEncodeError: big ints, non-str keys, unknown types
            pass  # the stdlib's verdict below is the one that counts
    return json.dumps(document).encode()


def loads(data: bytes | str, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """Return the document data holds; raise json.JSONDecodeError if it is none.

    parse_constant is the stdlib's hook for NaN and Infinity, which orjson refuses: a
    document holding them is read by the stdlib, with the hook.
    """
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # big ints are valid JSON orjson refuses; the stdlib decides, with its text
    if parse_constant is None:
        return json.loads(data)
    if isinstance(data, str):
        if data.startswith("\ufeff"):  # the stdlib's own error for a str with a BOM
            return json.loads(data, parse_constant=parse_constant)
    else:  # bytes in any of JSON's encodings, read as json.loads reads them
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    # json.loads(data, parse_constant=...) builds a JSONDecoder on every call (issue 16).
    return _decoder(parse_constant).decode(data)


@functools.lru_cache(maxsize=8)
def _decoder(parse_constant: Callable[[str], Any]) -> json.JSONDecoder:
    return json.JSONDecoder(parse_constant=parse_constant)
