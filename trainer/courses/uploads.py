"""Instructor uploads of lesson videos: check, probe, poster, 480p rendition, store, add lesson.

Refuses, with a message the instructor can act on: a file over the size limit, a file that is
not a video (by its first bytes, then by ffprobe), and a video ffprobe cannot read (truncated or
damaged). A phone-friendly MP4 is stored as it is; anything else is re-encoded to a 480p H.264
rendition (`trainer.courses.media.transcode_480p`), and the original is kept beside it.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from trainer.courses import rules
from trainer.courses.media import MediaError, is_phone_friendly, make_poster, probe, transcode_480p
from trainer.courses.models import Course, Lesson
from trainer.courses.storage import Storage, store_by_content
from trainer.db import db

SNIFF_BYTES = 64


class UploadError(Exception):
    """Why an upload was refused, in the user's language; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def looks_like_video(head: bytes) -> bool:
    """The first bytes of a container phones or ffmpeg read as video (MP4/MOV/3GP, WebM/MKV,
    AVI, FLV, MPEG-TS/PS, ASF/WMV)."""
    if len(head) >= 12 and head[4:8] in {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}:
        return True
    return (
        head.startswith(b"\x1a\x45\xdf\xa3")  # EBML: WebM, Matroska
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
        or head.startswith(b"FLV")
        or head.startswith(b"\x00\x00\x01\xba")  # MPEG program stream
        or (len(head) > 0 and head[0] == 0x47 and (len(head) < 189 or head[188] == 0x47))
        or head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11")  # ASF / WMV
    )


def iso_media_truncated(path: Path) -> bool:
    """True when an MP4/MOV's last top-level box runs past the end of the file (cut short)."""
    end = path.stat().st_size
    offset = 0
    with path.open("rb") as f:
        while offset + 8 <= end:
            f.seek(offset)
            header = f.read(16)
            size = int.from_bytes(header[:4], "big")
            if size == 1 and len(header) >= 16:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                return False
            if size < 8:
                return True
            if offset + size > end:
                return True
            offset += size
    return offset != end


def max_upload_bytes() -> int:
    return int(current_app.config.get("MEDIA_MAX_UPLOAD_BYTES")
               or current_app.config.get("UPLOAD_MAX_BYTES") or 200 * 1024 * 1024)


def check_size(length: int | None) -> None:
    limit = max_upload_bytes()
    if length is not None and length > limit:
        raise UploadError(_("The file is larger than the limit of %(mb)s MB.",
                            mb=limit // (1024 * 1024)), 413)


@dataclass
class Prepared:
    video: Path
    poster: Path
    info: dict[str, object]
    duration: float
    original: Path


def prepare(source: Path, workdir: Path) -> Prepared:
    """Check and convert an uploaded file (already saved at ``source``)."""
    check_size(source.stat().st_size)
    with source.open("rb") as f:
        head = f.read(SNIFF_BYTES * 4)
    if not looks_like_video(head):
        raise UploadError(_("This file is not a video. Upload an MP4, MOV, WebM, MKV or AVI "
                            "video."))
    unreadable = _("The video could not be read; it may be incomplete or damaged. Export it "
                   "again and upload the new file.")
    if head[4:8] == b"ftyp" and iso_media_truncated(source):
        raise UploadError(unreadable)
    try:
        info = probe(source)
    except MediaError as exc:
        if "not a video" in str(exc):
            raise UploadError(_("This file is not a video. Upload an MP4, MOV, WebM, MKV or "
                                "AVI video.")) from exc
        raise UploadError(unreadable) from exc
    facts: dict[str, object] = {
        "source_codec": info.video_codec, "source_width": info.width,
        "source_height": info.height, "source_container": info.container,
        "source_audio": info.audio_codec, "source_bytes": source.stat().st_size,
    }
    video = source
    try:
        if is_phone_friendly(info):
            facts["rendition"] = "original"
        else:
            video = workdir / "rendition.mp4"
            out = transcode_480p(source, video)
            info = out
            facts["rendition"] = "480p"
        poster = make_poster(video, workdir / "poster.jpg", min(1.0, info.duration / 2))
    except MediaError as exc:
        raise UploadError(_("The video could not be converted for phones; it may be damaged. "
                            "Export it again and upload the new file.")) from exc
    facts.update(codec=info.video_codec, width=info.width, height=info.height,
                 audio=info.audio_codec, duration=round(info.duration, 3))
    return Prepared(video, poster, facts, info.duration, source)


def add_uploaded_lesson(course: Course, title_zh: str, title_en: str, source: Path,
                        storage: Storage) -> Lesson:
    """Prepare the upload and add it as the course's last lesson (flushes)."""
    with tempfile.TemporaryDirectory(prefix="lesson-", dir=_tmp_root()) as tmp:
        prepared = prepare(source, Path(tmp))
        prefix = f"uploads/{course.key}"
        video_key, video_info = store_by_content(storage, prefix, prepared.video)
        poster_key, _poster = store_by_content(storage, prefix, prepared.poster)
        if prepared.video != prepared.original:
            original_key, _orig = store_by_content(storage, f"{prefix}/originals", prepared.original)
            prepared.info["original"] = original_key
    position = (db.session.scalar(sa.select(sa.func.max(Lesson.position))
                                  .where(Lesson.course_id == course.id)) or 0) + 1
    lesson = Lesson(
        course_id=course.id, key=f"upload-{secrets.token_hex(4)}", position=position,
        title_zh=title_zh, title_en=title_en, media_path=video_key, media_size=video_info.size,
        duration_seconds=round(prepared.duration, 3), poster=poster_key, subtitles=[],
        completion_threshold=0.95, no_skip=True, media_info=prepared.info, hours=Decimal(0))
    db.session.add(lesson)
    db.session.flush()
    db.session.refresh(course)
    reshare_hours(course)
    course.version += 1
    db.session.flush()
    return lesson


def reshare_hours(course: Course) -> None:
    lessons = course.active_lessons
    for lesson, hours in zip(lessons, rules.split_hours(
            Decimal(course.hours), [x.duration_seconds for x in lessons]), strict=True):
        lesson.hours = hours


def _tmp_root() -> str:
    root = Path(current_app.config["MEDIA_ROOT"]) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return str(root)


def save_upload(stream: object, filename: str) -> Path:
    """Copy the uploaded stream to a temporary file under MEDIA_ROOT/tmp, enforcing the limit."""
    limit = max_upload_bytes()
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=Path(filename).suffix[:10],
                                dir=_tmp_root())
    written = 0
    with open(fd, "wb") as out:
        while True:
            chunk = stream.read(1024 * 1024)  # type: ignore[attr-defined]
            if not chunk:
                break
            written += len(chunk)
            if written > limit:
                out.close()
                Path(name).unlink(missing_ok=True)
                check_size(written)
            out.write(chunk)
    if written == 0:
        Path(name).unlink(missing_ok=True)
        raise UploadError(_("The file is empty."))
    return Path(name)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
