"""Which videos are phone friendly, and reading MP4 box order: pure parts, no ffmpeg needed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from trainer.courses.media import (
    VideoInfo,
    has_faststart,
    is_phone_friendly,
    mp4_top_level_boxes,
    phone_problems,
)

FRIENDLY = VideoInfo(
    path=Path("lesson.mp4"),
    container="mov,mp4,m4a,3gp,3g2,mj2",
    major_brand="isom",
    duration=89.2,
    video_codec="h264",
    profile="Main",
    width=854,
    height=480,
    pix_fmt="yuv420p",
    frame_rate=10.0,
    audio_codec="aac",
    faststart=True,
)


def test_480p_h264_aac_faststart_mp4_is_phone_friendly() -> None:
    assert phone_problems(FRIENDLY) == []
    assert is_phone_friendly(FRIENDLY)


@pytest.mark.parametrize(
    "changes",
    [
        {"audio_codec": None},
        {"width": 1280, "height": 720, "profile": "High"},
        {"width": 720, "height": 1280, "profile": "Constrained Baseline"},
        {"profile": "Baseline"},
        {"major_brand": "mp42"},
    ],
)
def test_also_phone_friendly(changes: dict[str, object]) -> None:
    assert is_phone_friendly(dataclasses.replace(FRIENDLY, **changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"container": "matroska,webm", "faststart": None}, "container is matroska,webm, not MP4"),
        ({"major_brand": "qt"}, "not MP4"),
        ({"faststart": False}, "moov box is not before mdat"),
        ({"video_codec": "vp9", "profile": "Profile 0"}, "video codec is vp9, not H.264"),
        ({"video_codec": "hevc"}, "not H.264"),
        ({"profile": "High 10"}, "H.264 profile is High 10"),
        ({"pix_fmt": "yuv444p"}, "pixel format is yuv444p, not yuv420p"),
        ({"pix_fmt": "yuv420p10le"}, "not yuv420p"),
        ({"width": 1920, "height": 1080}, "frame is 1920x1080, larger than 720p"),
        ({"width": 1080, "height": 1920}, "larger than 720p"),
        ({"width": 960, "height": 960}, "larger than 720p"),
        ({"audio_codec": "opus"}, "audio codec is opus, not AAC"),
        ({"audio_codec": "mp3"}, "not AAC"),
    ],
)
def test_not_phone_friendly(changes: dict[str, object], problem: str) -> None:
    info = dataclasses.replace(FRIENDLY, **changes)  # type: ignore[arg-type]
    assert not is_phone_friendly(info)
    assert any(problem in text for text in phone_problems(info)), phone_problems(info)


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def test_box_order_faststart(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(box(b"ftyp", b"isom") + box(b"moov", b"x" * 20) + box(b"mdat", b"y" * 99))
    assert mp4_top_level_boxes(path) == ["ftyp", "moov", "mdat"]
    assert has_faststart(path) is True


def test_box_order_moov_at_the_end_with_a_64_bit_mdat(tmp_path: Path) -> None:
    path = tmp_path / "b.mp4"
    large_mdat = (1).to_bytes(4, "big") + b"mdat" + (16 + 5).to_bytes(8, "big") + b"z" * 5
    path.write_bytes(box(b"ftyp", b"isom") + large_mdat + box(b"moov"))
    assert mp4_top_level_boxes(path) == ["ftyp", "mdat", "moov"]
    assert has_faststart(path) is False


def test_box_order_of_a_mdat_running_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "c.mp4"
    path.write_bytes(box(b"ftyp") + box(b"moov") + (0).to_bytes(4, "big") + b"mdat" + b"q" * 50)
    assert mp4_top_level_boxes(path) == ["ftyp", "moov", "mdat"]


@pytest.mark.parametrize("content", [b"", b"WEBVTT\n\n", b"\x1aE\xdf\xa3webm-ish", box(b"ftyp")])
def test_not_an_mp4_has_no_faststart(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "d.bin"
    path.write_bytes(content)
    assert has_faststart(path) is None
