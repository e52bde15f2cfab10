"""Instructors upload lesson videos: probed, postered, converted when needed, refused clearly."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from trainer.courses.media import is_phone_friendly, probe
from trainer.courses.models import Course, Lesson
from trainer.db import db

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=120)


@pytest.fixture(scope="module")
def phone_mp4(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("v") / "ok.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10:duration=3", "-f", "lavfi",
           "-i", "sine=duration=3", "-c:v", "libx264", "-profile:v", "main", "-pix_fmt",
           "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path))
    return path.read_bytes()


@pytest.fixture(scope="module")
def webm_720p(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("v") / "lecture.webm"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=10:duration=2",
           "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k",
           str(path))
    return path.read_bytes()


@pytest.fixture
def instructor(app, client, people):
    client.login(people["instructor_login"])
    r = client.post_form("/courses/admin/new", {
        "key": "welding-refresher", "title_zh": "焊工复审", "title_en": "Welding refresher",
        "hours": "8", "certificate_types": "2.1, 2.2", "purpose": "review"})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def upload(client, data: bytes, name: str, json: bool = True, **fields):
    form = {"course": "welding-refresher", "title_zh": "第一课", "title_en": "Lesson one",
            "csrf_token": client.csrf("/courses/admin/upload"),
            "video": (io.BytesIO(data), name), **fields}
    headers = {"Accept": "application/json"} if json else {}
    headers["Accept-Language"] = "en"
    return client.post("/courses/admin/upload", data=form, headers=headers,
                       content_type="multipart/form-data")


def test_phone_friendly_upload_is_stored_as_is_with_a_poster(app, instructor, phone_mp4):
    r = upload(instructor, phone_mp4, "ok.mp4")
    assert r.status_code == 201, r.json
    lesson_id = r.json["lesson_id"]
    assert r.json["redirect"] == f"/courses/lessons/{lesson_id}"
    with app.app_context():
        lesson = db.session.get(Lesson, lesson_id)
        media = Path(app.config["MEDIA_ROOT"])
        assert (media / lesson.media_path).read_bytes() == phone_mp4
        assert (media / lesson.poster).read_bytes()[:3] == b"\xff\xd8\xff"
        assert lesson.media_info["rendition"] == "original"
        assert lesson.duration_seconds == pytest.approx(3, abs=0.2)
        assert str(lesson.hours) == "8.0000"
        course = db.session.scalar(sa.select(Course))
        assert course.version == 2 and course.certificate_types == ["2.1", "2.2"]
    page = instructor.get(f"/courses/lessons/{lesson_id}").get_data(as_text=True)
    assert 'data-testid="media-info"' in page
    video = instructor.get(f"/courses/lessons/{lesson_id}/video",
                           headers={"Range": "bytes=0-1"})
    assert video.status_code == 206


def test_webm_is_converted_to_480p_h264(app, instructor, webm_720p):
    r = upload(instructor, webm_720p, "lecture.webm")
    assert r.status_code == 201, r.json
    assert "480p" in r.json["message"]
    with app.app_context():
        lesson = db.session.get(Lesson, r.json["lesson_id"])
        info = probe(Path(app.config["MEDIA_ROOT"]) / lesson.media_path)
        assert is_phone_friendly(info) and info.height == 480 and info.video_codec == "h264"
        assert lesson.media_info["source_codec"] == "vp9"
        assert lesson.media_info["original"].endswith(".webm")


def test_two_lessons_share_the_course_hours(app, instructor, phone_mp4, webm_720p):
    upload(instructor, phone_mp4, "a.mp4")
    upload(instructor, webm_720p, "b.webm")
    with app.app_context():
        hours = [x.hours for x in db.session.scalar(sa.select(Course)).active_lessons]
        assert sum(hours) == 8 and len(hours) == 2


def test_not_a_video_is_refused(app, instructor):
    r = upload(instructor, b"%PDF-1.7 this is a document" * 100, "slides.mp4")
    assert r.status_code == 422
    assert "not a video" in r.json["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lesson)) == 0


def test_audio_only_file_is_not_a_video(app, instructor, tmp_path):
    path = tmp_path / "talk.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(path))
    r = upload(instructor, path.read_bytes(), "talk.mp4")
    assert r.status_code == 422 and "not a video" in r.json["error"]["message"]


def test_truncated_video_is_refused_as_unreadable(app, instructor, phone_mp4):
    r = upload(instructor, phone_mp4[:3000], "cut.mp4")
    assert r.status_code == 422
    assert "could not be read" in r.json["error"]["message"]


def test_over_the_size_limit_is_refused(app, instructor, phone_mp4):
    app.config["MEDIA_MAX_UPLOAD_BYTES"] = 10_000
    try:
        r = upload(instructor, phone_mp4, "ok.mp4")
    finally:
        app.config["MEDIA_MAX_UPLOAD_BYTES"] = 200 * 1024 * 1024
    assert r.status_code == 413
    assert "larger than the limit" in r.json["error"]["message"]


def test_empty_file_and_missing_title_are_refused(app, instructor):
    r = upload(instructor, b"", "empty.mp4")
    assert r.status_code == 422 and "empty" in r.json["error"]["message"]
    r = upload(instructor, b"x", "x.mp4", title_zh="")
    assert r.status_code == 400 and "title_zh" in r.json["error"]["fields"]


def test_without_javascript_errors_show_on_the_page(app, instructor):
    r = upload(instructor, b"not a video at all" * 10, "x.mp4", json=False)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "not a video" in page and 'id="upload-form"' in page


def test_manifest_courses_do_not_take_uploads(app, instructor, phone_mp4):
    from trainer.courses.services import sync_courses

    with app.app_context():
        sync_courses()
        db.session.commit()
    r = upload(instructor, phone_mp4, "ok.mp4", course="first-lesson-return-to-work")
    assert r.status_code == 400


def test_new_course_checks_its_fields(app, instructor):
    r = instructor.post_form("/courses/admin/new", {
        "key": "Bad Key", "title_zh": "x", "title_en": "x", "hours": "0",
        "certificate_types": "1.2;x", "purpose": "review"},
        headers={"Accept-Language": "en"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "lowercase letters" in page or "Number must be" in page


def test_workers_cannot_upload(client, people):
    client.login(people["worker_login"])
    assert client.get("/courses/admin/upload").status_code == 403
    assert client.get("/courses/admin/new").status_code == 403
