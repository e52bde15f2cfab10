"""Check and prepare lesson videos for phones on weak mobile networks, by calling ffprobe/ffmpeg.

Pure helpers: no Flask, no database. Every external call is an argument list (never a shell),
has a timeout, and turns any failure into a `MediaError` that says what went wrong.

A video is *phone friendly* (`is_phone_friendly`) when old and cheap phones play it in the browser
without a transcode and can start before the whole file has arrived: H.264 (Baseline, Main or
High profile) in yuv420p, at most 720p, with AAC audio or none, in an MP4 whose ``moov`` box comes
before ``mdat`` ("faststart").
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

INSTALL_HINT = "apt-get install ffmpeg"

PHONE_PROFILES = frozenset({"Constrained Baseline", "Baseline", "Main", "High"})
"""H.264 profiles every phone browser decodes in hardware (High 10/4:2:2 are excluded)."""

PHONE_MAX_LONG_SIDE = 1280
PHONE_MAX_SHORT_SIDE = 720


class MediaError(Exception):
    """ffprobe/ffmpeg is missing, failed, timed out, or the file is not a usable video."""


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe (and a read of the MP4 box order) says about one video file."""

    path: Path
    container: str
    """ffprobe's format_name, e.g. ``mov,mp4,m4a,3gp,3g2,mj2`` or ``matroska,webm``."""
    major_brand: str | None
    """The MP4 ``ftyp`` major brand (``isom``, ``mp42``; ``qt`` for QuickTime), if any."""
    duration: float
    """Seconds."""
    video_codec: str
    profile: str | None
    width: int
    height: int
    pix_fmt: str | None
    frame_rate: float | None
    audio_codec: str | None
    """None when the file has no audio stream."""
    faststart: bool | None
    """True when ``moov`` precedes ``mdat``; None when the file is not an ISO media file."""

    @property
    def is_mp4(self) -> bool:
        brand = (self.major_brand or "").strip()
        return "mp4" in self.container.split(",") and brand != "qt"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MediaError(f"{name} not found on PATH; install it with `{INSTALL_HINT}`")
    return found


def _run(args: Sequence[str], timeout: float, what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        # Argument list, no shell: file names are data, never parsed by a shell.
        result = subprocess.run(  # noqa: S603
            list(args), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"{what}: {Path(args[0]).name} timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise MediaError(f"{what}: cannot run {args[0]}: {exc}") from exc
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = " | ".join(stderr[-3:]) or f"exit status {result.returncode}"
        raise MediaError(f"{what}: {Path(args[0]).name} failed: {detail}")
    return result


def _input_arg(path: Path) -> str:
    # "file:" stops ffmpeg from reading a name such as "concat:a|b" or "-x" as something else.
    return "file:" + os.fspath(path)


def mp4_top_level_boxes(path: str | os.PathLike[str]) -> list[str]:
    """The types of the top-level boxes (atoms) of an ISO media file, in file order.

    Returns an empty list when the file does not start like an ISO media file.
    """
    boxes: list[str] = []
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        offset = 0
        while offset + 8 <= end:
            f.seek(offset)
            header = f.read(8)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1:
                large = f.read(8)
                if len(large) < 8:
                    break
                size = int.from_bytes(large, "big")
            elif size == 0:
                size = end - offset
            if size < 8 or not kind.isprintable():
                break
            if not boxes and kind not in {"ftyp", "styp", "moov", "mdat", "free", "skip", "wide"}:
                return []
            boxes.append(kind)
            offset += size
    return boxes


def has_faststart(path: str | os.PathLike[str]) -> bool | None:
    """True when ``moov`` comes before ``mdat`` (playback can start while downloading).

    False when ``mdat`` comes first; None when the file is not an ISO media file or lacks either.
    """
    boxes = mp4_top_level_boxes(path)
    if "moov" not in boxes or "mdat" not in boxes:
        return None
    return boxes.index("moov") < boxes.index("mdat")


def _rate(value: object) -> float | None:
    try:
        rate = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return float(rate) if rate > 0 else None


def probe(path: str | os.PathLike[str], *, timeout: float = 30.0) -> VideoInfo:
    """Describe a video file. Raises `MediaError` when ffprobe cannot read it as a video."""
    file = Path(path)
    if not file.is_file():
        raise MediaError(f"{file}: file not found")
    args = [
        _tool("ffprobe"), "-v", "error", "-print_format", "json",
        "-show_format", "-show_streams", _input_arg(file),
    ]  # fmt: skip
    result = _run(args, timeout, f"{file}: probe")
    try:
        data = json.loads(result.stdout.decode("utf-8", "replace"))
    except ValueError as exc:
        raise MediaError(f"{file}: probe: ffprobe printed no JSON") from exc
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    if video is None:
        raise MediaError(f"{file}: not a video (no video stream)")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    if duration is None or duration <= 0:
        raise MediaError(f"{file}: not a video (duration unknown)")
    container = str(fmt.get("format_name", ""))
    tags = fmt.get("tags") or {}
    brand = tags.get("major_brand")
    return VideoInfo(
        path=file,
        container=container,
        major_brand=str(brand).strip() if brand is not None else None,
        duration=duration,
        video_codec=str(video.get("codec_name", "")),
        profile=video.get("profile"),
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        pix_fmt=video.get("pix_fmt"),
        frame_rate=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
        audio_codec=audio.get("codec_name") if audio else None,
        faststart=has_faststart(file) if "mp4" in container.split(",") else None,
    )


def _float(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def phone_problems(info: VideoInfo) -> list[str]:
    """Why this video is not phone friendly; empty when it is."""
    problems: list[str] = []
    if not info.is_mp4:
        problems.append(f"container is {info.container}, not MP4")
    elif not info.faststart:
        problems.append("moov box is not before mdat (encode with -movflags +faststart)")
    if info.video_codec != "h264":
        problems.append(f"video codec is {info.video_codec}, not H.264")
    elif info.profile not in PHONE_PROFILES:
        problems.append(f"H.264 profile is {info.profile}, not Baseline/Main/High")
    if info.pix_fmt != "yuv420p":
        problems.append(f"pixel format is {info.pix_fmt}, not yuv420p")
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > PHONE_MAX_LONG_SIDE or short_side > PHONE_MAX_SHORT_SIDE:
        problems.append(f"frame is {info.width}x{info.height}, larger than 720p")
    if info.audio_codec not in (None, "aac"):
        problems.append(f"audio codec is {info.audio_codec}, not AAC")
    return problems


def is_phone_friendly(info: VideoInfo) -> bool:
    """H.264 yuv420p ≤ 720p with AAC or no audio, in a faststart MP4 (see `phone_problems`)."""
    return not phone_problems(info)


def _fit(width: int, height: int, box_long: int, box_short: int) -> tuple[int, int]:
    """The even frame size that fits the box (turned to match the video's orientation)."""
    box_w, box_h = (box_long, box_short) if width >= height else (box_short, box_long)
    scale = min(1.0, box_w / width, box_h / height)

    def even(side: float, limit: int) -> int:
        return max(2, min(limit // 2 * 2, round(side / 2) * 2))

    return even(width * scale, box_w), even(height * scale, box_h)


def make_poster(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    at_seconds: float,
    *,
    quality: int = 4,
    timeout: float = 60.0,
) -> Path:
    """Write the frame at ``at_seconds`` as an image (JPEG for .jpg), scaled to fit 854x480.

    Raises `MediaError` when the source is unreadable or has no frame at that time.
    """
    if not math.isfinite(at_seconds) or at_seconds < 0:
        raise MediaError(f"{src}: poster time must be a number of seconds ≥ 0, got {at_seconds}")
    info = probe(src)
    if at_seconds > info.duration:
        raise MediaError(
            f"{src}: poster time {at_seconds:g} s is past the end ({info.duration:.2f} s)"
        )
    out = Path(dest)
    width, height = _fit(info.width, info.height, 854, 480)
    tmp = out.with_name(f".{out.name}.part{out.suffix}")
    args = [
        _tool("ffmpeg"), "-nostdin", "-y", "-v", "error",
        "-ss", f"{at_seconds:.3f}", "-i", _input_arg(info.path),
        "-frames:v", "1", "-vf", f"scale={width}:{height}", "-q:v", str(quality),
        "-update", "1", "-map_metadata", "-1", _input_arg(tmp),
    ]  # fmt: skip
    try:
        _run(args, timeout, f"{src}: poster")
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise MediaError(f"{src}: poster: no frame at {at_seconds:g} s")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def transcode_480p(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    crf: int = 26,
    preset: str = "medium",
    max_video_kbps: int = 800,
    audio_kbps: int = 64,
    timeout: float | None = None,
) -> VideoInfo:
    """Re-encode any readable video into a phone-friendly 480p MP4 and return its `VideoInfo`.

    Fits the frame into 854x480 (480x854 for portrait), never upscales, caps the frame rate at
    30 fps and the video bitrate at ``max_video_kbps`` (weak mobile networks), keyframes every
    4 s, mono AAC, H.264 Main profile yuv420p, faststart; metadata (e.g. a phone's GPS tags) is
    dropped. The output is written next to ``dest`` and renamed into place only when complete.
    """
    info = probe(src)
    out = Path(dest)
    width, height = _fit(info.width, info.height, 854, 480)
    filters = [f"scale={width}:{height}", "setsar=1"]
    if info.frame_rate is None or info.frame_rate > 30:
        filters.append("fps=30")
    filters.append("format=yuv420p")
    if timeout is None:
        timeout = max(120.0, info.duration * 20)
    tmp = out.with_name(f".{out.name}.part")
    args = [
        _tool("ffmpeg"), "-nostdin", "-y", "-v", "error", "-i", _input_arg(info.path),
        "-map", "0:v:0", "-vf", ",".join(filters),
        "-c:v", "libx264", "-profile:v", "main", "-level:v", "3.1", "-pix_fmt", "yuv420p",
        "-preset", preset, "-crf", str(crf),
        "-maxrate", f"{max_video_kbps}k", "-bufsize", f"{max_video_kbps * 2}k",
        "-force_key_frames", "expr:gte(t,n_forced*4)",
    ]  # fmt: skip
    if info.audio_codec is not None:
        args += ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{audio_kbps}k", "-ac", "1"]
    args += [
        "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart", "-f", "mp4", _input_arg(tmp),
    ]  # fmt: skip
    try:
        _run(args, timeout, f"{src}: transcode")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return probe(out)
