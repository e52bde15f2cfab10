"""probe, make_poster and transcode_480p on real videos made with ffmpeg during the test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from trainer.courses.media import (
    MediaError,
    has_faststart,
    is_phone_friendly,
    make_poster,
    phone_problems,
    probe,
    transcode_480p,
)

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="needs ffmpeg and ffprobe: apt-get install ffmpeg",
)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=120)


@pytest.fixture(scope="module")
def webm_1080p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of 1080p VP9 + Opus: nothing a cheap phone wants (10 fps keeps tests fast)."""
    path = tmp_path_factory.mktemp("src") / "lecture.webm"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=10:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
        "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k",
        "-c:a", "libopus", "-shortest", str(path),
    )  # fmt: skip
    return path


def test_probe_reads_a_webm(webm_1080p: Path) -> None:
    info = probe(webm_1080p)

    assert info.path == webm_1080p
    assert "webm" in info.container
    assert (info.video_codec, info.width, info.height) == ("vp9", 1920, 1080)
    assert info.audio_codec == "opus"
    assert info.pix_fmt == "yuv420p"
    assert info.frame_rate == 10
    assert info.faststart is None
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert not is_phone_friendly(info)
    assert len(phone_problems(info)) == 4  # container, codec, size, audio


def test_transcode_makes_it_phone_friendly(webm_1080p: Path, tmp_path: Path) -> None:
    dest = tmp_path / "lecture.mp4"

    info = transcode_480p(webm_1080p, dest)

    assert info == probe(dest)
    assert phone_problems(info) == []
    assert (info.video_codec, info.profile, info.pix_fmt) == ("h264", "Main", "yuv420p")
    assert (info.width, info.height) == (854, 480)
    assert info.audio_codec == "aac"
    assert info.faststart is True and has_faststart(dest)
    assert info.duration == pytest.approx(2.0, abs=0.15)
    assert [p.name for p in tmp_path.iterdir()] == ["lecture.mp4"]  # no part file left


def test_transcode_keeps_portrait_caps_frame_rate_and_copes_without_audio(tmp_path: Path) -> None:
    src = tmp_path / "phone.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=60:duration=0.5",
           "-c:v", "libx264", "-pix_fmt", "yuv422p", "-preset", "ultrafast", str(src))  # fmt: skip
    assert not is_phone_friendly(probe(src))

    info = transcode_480p(src, tmp_path / "phone.mp4", preset="ultrafast")

    assert (info.width, info.height) == (480, 854)
    assert info.frame_rate == 30
    assert info.audio_codec is None
    assert is_phone_friendly(info)


def test_transcode_never_upscales(tmp_path: Path) -> None:
    src = tmp_path / "small.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src))  # fmt: skip
    info = transcode_480p(src, tmp_path / "out.mp4")
    assert (info.width, info.height) == (320, 240)


def test_an_mp4_without_faststart_is_not_phone_friendly(tmp_path: Path) -> None:
    src = tmp_path / "slow-start.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=1",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(src))  # fmt: skip
    info = probe(src)
    assert info.faststart is False
    assert phone_problems(info) == [
        "moov box is not before mdat (encode with -movflags +faststart)"
    ]


def test_poster_is_a_scaled_jpeg_of_the_frame(webm_1080p: Path, tmp_path: Path) -> None:
    dest = tmp_path / "poster.jpg"

    assert make_poster(webm_1080p, dest, 1.0) == dest

    with Image.open(dest) as image:
        assert image.format == "JPEG"
        assert image.size == (854, 480)
    assert [p.name for p in tmp_path.iterdir()] == ["poster.jpg"]


@pytest.mark.parametrize("at", [5.0, -1.0, float("nan")])
def test_poster_time_outside_the_video_is_refused(
    webm_1080p: Path, tmp_path: Path, at: float
) -> None:
    with pytest.raises(MediaError, match="poster time"):
        make_poster(webm_1080p, tmp_path / "poster.jpg", at)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", "开工第一课\n".encode()),
        ("fake.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64),
        ("empty.mp4", b""),
        ("sound.wav", None),
    ],
)
def test_probe_of_a_non_video_raises_media_error(
    tmp_path: Path, name: str, content: bytes | None
) -> None:
    path = tmp_path / name
    if content is None:
        ffmpeg("-f", "lavfi", "-i", "sine=duration=1", str(path))
    else:
        path.write_bytes(content)

    with pytest.raises(MediaError, match=rf"{path.name}: "):
        probe(path)


def test_transcode_of_a_non_video_raises_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "notes.mp4"
    src.write_text("not a video", encoding="utf-8")
    with pytest.raises(MediaError):
        transcode_480p(src, tmp_path / "out.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.mp4"]


def test_probe_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="file not found"):
        probe(tmp_path / "missing.mp4")


def test_missing_ffprobe_says_how_to_install_it(
    webm_1080p: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MediaError, match=r"ffprobe not found.*apt-get install ffmpeg"):
        probe(webm_1080p)
