"""Line and SSE splitting: the same events however the bytes are chunked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jackfield._http.lines import LineSplitter, LineTooLongError, data_payload


def split_all(chunks: list[bytes], limit: int = 1 << 20) -> list[bytes]:
    splitter = LineSplitter(limit)
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + list(splitter.close())


def test_every_line_ending() -> None:
    assert split_all([b"a\nb\r\nc\rd"]) == [b"a", b"b", b"c", b"d"]
    assert split_all([b"a\r", b"\nb"]) == [b"a", b"b"]
    assert split_all([b"\n\n"]) == [b"", b""]


def test_data_payload_keeps_inner_spaces() -> None:
    assert data_payload("data:  world") == " world"
    assert data_payload("data: ") == ""
    assert data_payload("data:x") == "x"
    assert data_payload(": comment") is None


def test_too_long_line_raises() -> None:
    with pytest.raises(LineTooLongError):
        split_all([b"x" * 10, b"y" * 10], limit=15)


BODY = st.lists(st.sampled_from([b"data: a", b"data:  b", b"\n", b"\r\n", b"\r", b"x", b"\xff"]),
                max_size=40).map(b"".join)


@given(BODY, st.lists(st.integers(min_value=0, max_value=200), max_size=10))
def test_any_chunking_gives_the_same_lines(body: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert split_all(chunks) == split_all([body])
    assert split_all([bytes([b]) for b in body]) == split_all([body])
