"""Range header parsing (RFC 9110 §14) for lesson media."""

from __future__ import annotations

import pytest

from trainer.courses.delivery import ByteRange, Unsatisfiable, mime_type, parse_range


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("", None),
    ("bytes=0-1", ByteRange(0, 1)),
    ("bytes=0-", ByteRange(0, 999)),
    ("bytes=500-", ByteRange(500, 999)),
    ("bytes=999-", ByteRange(999, 999)),
    ("bytes=-1", ByteRange(999, 999)),
    ("bytes=-200", ByteRange(800, 999)),
    ("bytes=-5000", ByteRange(0, 999)),
    ("bytes=0-5000", ByteRange(0, 999)),
    ("bytes=10-10", ByteRange(10, 10)),
    ("BYTES = 0-1", ByteRange(0, 1)),
    ("bytes=0-1, 5-9", ByteRange(0, 9)),
    ("bytes=2000-, 0-1", ByteRange(0, 1)),   # the unsatisfiable part is dropped
    ("bytes=abc", None),
    ("bytes=1-a", None),
    ("bytes=5-2", None),
    ("bytes=-", None),
    ("bytes=", None),
    ("items=0-1", None),
    ("bytes=0-1;x", None),
])
def test_parse_range(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0",
                                    "bytes=1000-,2000-"])
def test_unsatisfiable(header):
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


def test_empty_file_is_unsatisfiable_for_any_range():
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=0-1", 0)


def test_content_range_and_length():
    r = ByteRange(0, 1)
    assert r.length == 2 and r.content_range(1000) == "bytes 0-1/1000"


def test_mime_types():
    assert mime_type("a/b.mp4") == "video/mp4"
    assert mime_type("a/b.VTT") == "text/vtt; charset=utf-8"
    assert mime_type("x.jpg") == "image/jpeg"
    assert mime_type("x.bin") == "application/octet-stream"
