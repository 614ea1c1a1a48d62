"""jackfield._json: the same documents with and without orjson (jackfield[speedups])."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jackfield import _json

DOCUMENTS: list[Any] = [
    {"model": "m", "messages": [{"role": "user", "content": "héllo ✓"}], "n": 1, "t": 0.5},
    [1, 2**70, -(2**65)],  # past 64 bits: orjson refuses, the stdlib answers
    {"nested": {"a": [None, True, False, ""]}},
]


@pytest.fixture(params=["stdlib", "orjson"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "stdlib":
        monkeypatch.setattr(_json, "orjson", None)
    else:
        monkeypatch.setattr(_json, "orjson", pytest.importorskip("orjson"))
    return str(request.param)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_documents_round_trip_the_same_either_way(codec: str, document: Any) -> None:
    encoded = _json.dumps(document)
    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == document
    assert _json.loads(encoded) == document
    assert _json.loads(encoded.decode()) == document


def test_the_stdlib_bytes_are_those_of_json_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json, "orjson", None)
    assert _json.dumps(DOCUMENTS[0]) == json.dumps(DOCUMENTS[0]).encode()


@pytest.mark.parametrize("text", ["{", '{"a": 1} x', b"\xff"])
def test_what_is_not_json_raises_the_stdlib_error(codec: str, text: str | bytes) -> None:
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        _json.loads(text)


def test_non_string_keys_are_written_as_the_stdlib_writes_them(codec: str) -> None:
    assert json.loads(_json.dumps({1: "a"})) == {"1": "a"}


def test_nan_reads_as_the_stdlib_reads_it(codec: str) -> None:
    # orjson refuses NaN; the stdlib reads it, and the stdlib's answer is the one kept.
    value = _json.loads("[NaN]")[0]
    assert value != value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} refused")


@pytest.mark.parametrize("data", [
    '{"a": [1, "é"]}', b'{"a": [1, "\xc3\xa9"]}', "\ufeff{}".encode("utf-8"),
    '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-32-le"), "[Infinity]", b"[NaN]",
    "\ufeff{}", b"{", b"\xff\xfe\xfd", '{"a": 1} x',
])
def test_the_constant_hook_reads_as_json_loads_reads(codec: str, data: str | bytes) -> None:
    """With parse_constant the stdlib's reading is kept (a cached decoder, the same answers
    and the same errors as json.loads with the hook)."""
    try:
        expected: Any = json.loads(data, parse_constant=_no_constant)
    except ValueError as error:
        with pytest.raises(type(error)) as raised:
            _json.loads(data, parse_constant=_no_constant)
        assert str(raised.value) == str(error)
    else:
        assert _json.loads(data, parse_constant=_no_constant) == expected
