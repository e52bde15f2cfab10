"""WebVTT subtitles: the cues, and a message naming the line when the file is broken."""

from __future__ import annotations

import pytest

from trainer.courses.webvtt import Cue, WebVTTError, parse_webvtt


def test_cues_with_and_without_identifiers_hours_notes_and_settings() -> None:
    text = (
        "\ufeffWEBVTT - 开工第一课\r\n"
        "Kind: captions\r\n"
        "\r\n"
        "NOTE written by hand\r\n"
        "\r\n"
        "intro\r\n"
        "00:00.000 --> 00:03.250\r\n"
        "第一讲。\r\n"
        "\r\n"
        "01:00:03.250 --> 01:00:09.000 line:90% align:center\r\n"
        "两行\r\n"
        "字幕\r\n"
    )

    assert parse_webvtt(text) == [
        Cue(0.0, 3.25, "第一讲。", "intro", 7),
        Cue(3603.25, 3609.0, "两行\n字幕", "", 10),
    ]


def test_header_only_has_no_cues() -> None:
    assert parse_webvtt("WEBVTT\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: a WebVTT file must start with WEBVTT"),
        ("WEBVTTX\n", "line 1: a WebVTT file must start with WEBVTT"),
        ("WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", "line 3: expected a cue timing line"),
        ("WEBVTT\n\nid\nno timing\n", "line 3: expected a cue timing line"),
        (
            "WEBVTT\n\n00:01.000 --> 00:02\nx\n",
            "line 3: malformed cue timing '00:01.000 --> 00:02'",
        ),
        ("WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", "line 3: malformed cue timing"),
        ("WEBVTT\n\n00:02.000 --> 00:02.000\nx\n", "line 3: cue ends (2.000 s) before it starts"),
        (
            "WEBVTT\n\n00:05.000 --> 00:06.000\na\n\nb\n00:04.000 --> 00:07.000\nb\n",
            "line 7: cue starts at 4.000 s, before the previous cue (5.000 s)",
        ),
    ],
)
def test_broken_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(WebVTTError) as caught:
        parse_webvtt(text)
    assert str(caught.value).startswith(message)
