"""`trainer courses sync` and the demo loader: idempotent, versioned, all-or-nothing."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from trainer.courses.models import Course, Enrolment, Lesson, LessonProgress
from trainer.db import db

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "courses" / "first-lesson-return-to-work"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "courses"
    shutil.copytree(DEMO, base / "first")
    return base


def _manifest(root: Path) -> Path:
    return root / "first" / "course.toml"


def _bump(root: Path, old: str, new: str) -> None:
    path = _manifest(root)
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def _counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Course)) or 0,
            db.session.scalar(sa.select(sa.func.count()).select_from(Lesson)) or 0)


def test_sync_loads_the_course_and_its_media(app, runner, root):
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code == 0, result.output
    assert "first-lesson-return-to-work v1: added (3 lessons)" in result.output
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        assert course.key == "first-lesson-return-to-work"
        assert course.title_zh == "开工第一课"
        assert course.certificate_types == ["PM", "SM"]
        assert course.purpose == "review"
        assert course.hours == Decimal("0.09")
        lessons = course.active_lessons
        assert [x.key for x in lessons] == ["equipment-restart", "hazardous-chemicals",
                                            "epidemic-precautions"]
        assert sum(x.hours for x in lessons) == Decimal("0.09")
        assert lessons[0].premiere_at is not None and lessons[1].premiere_at is None
        assert lessons[0].no_skip and lessons[0].completion_threshold == 0.95
        media = Path(app.config["MEDIA_ROOT"])
        video = media / lessons[0].media_path
        assert video.read_bytes() == (DEMO / "media/01-equipment-restart.mp4").read_bytes()
        assert lessons[0].media_size == video.stat().st_size
        assert (media / lessons[0].poster).is_file()
        assert lessons[0].subtitles[0]["lang"] == "zh-CN"
        assert (media / lessons[0].subtitles[0]["path"]).read_text("utf-8").startswith("WEBVTT")


def test_sync_twice_changes_nothing(app, runner, root):
    runner.invoke(args=["courses", "sync", str(root)])
    with app.app_context():
        before = db.session.scalar(sa.select(Course.updated_at))
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code == 0
    assert "unchanged" in result.output and "0 added or updated" in result.output
    with app.app_context():
        assert _counts() == (1, 3)
        assert db.session.scalar(sa.select(Course.updated_at)) == before


def test_new_version_updates_in_place_and_keeps_progress(app, runner, root, people):
    runner.invoke(args=["courses", "sync", str(root)])
    with app.app_context():
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.key == "hazardous-chemicals"))
        lesson_id = lesson.id
        db.session.add(LessonProgress(user_id=people["worker"], lesson_id=lesson_id,
                                      segments=[[0, 40]], watched_seconds=40))
        db.session.commit()
    _bump(root, "version = 1", "version = 2")
    _bump(root, 'title.en = "The first lesson on returning to work"',
          'title.en = "First lesson back at work"')
    # Drop the last lesson.
    text = _manifest(root).read_text("utf-8")
    _manifest(root).write_text(text[: text.rindex("[[lessons]]")], "utf-8")
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code == 0, result.output
    assert "updated v1 → v2 (2 lessons)" in result.output
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        assert course.version == 2 and course.title_en == "First lesson back at work"
        assert [x.key for x in course.active_lessons] == ["equipment-restart",
                                                          "hazardous-chemicals"]
        assert sum(x.hours for x in course.active_lessons) == Decimal("0.09")
        assert _counts() == (1, 3)  # the dropped lesson is kept, inactive
        progress = db.session.scalar(sa.select(LessonProgress))
        assert progress.lesson_id == lesson_id and progress.watched_seconds == 40


def test_malformed_manifest_names_file_and_field_and_changes_nothing(app, runner, root):
    runner.invoke(args=["courses", "sync", str(root)])
    shutil.copytree(root / "first", root / "second")
    _bump(root, "version = 1", "version = 2")
    second = root / "second" / "course.toml"
    text = second.read_text("utf-8").replace('id = "first-lesson-return-to-work"',
                                              'id = "second-course"', 1)
    second.write_text(text.replace("duration_seconds = 84.8", 'duration_seconds = "long"'),
                      "utf-8")
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code != 0
    assert f"{second}: lessons[1].duration_seconds: must be a number" in result.output
    assert "nothing was changed" in result.output
    with app.app_context():
        assert _counts() == (1, 3)
        assert db.session.scalar(sa.select(Course.version)) == 1


def test_older_version_than_loaded_is_refused(app, runner, root):
    _bump(root, "version = 1", "version = 3")
    runner.invoke(args=["courses", "sync", str(root)])
    _bump(root, "version = 3", "version = 2")
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code != 0
    assert "version: is 2, older than version 3 already loaded" in result.output


def test_missing_folder_is_an_error(runner, app, tmp_path):
    result = runner.invoke(args=["courses", "sync", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "course folder not found" in result.output


def test_demo_loads_courses_and_enrols_demo_workers(app, runner):
    result = runner.invoke(args=["demo", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert "first-lesson-return-to-work v1: added" in result.output
    with app.app_context():
        enrolled = db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment))
        assert enrolled == 3
    again = runner.invoke(args=["demo", "--no-migrate"])
    assert again.exit_code == 0 and "enrolled" not in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 3


def test_premiere_command(app, runner, root):
    runner.invoke(args=["courses", "sync", str(root)])
    key = "first-lesson-return-to-work"
    r = runner.invoke(args=["courses", "premiere", key, "hazardous-chemicals",
                            "--at", "2026-11-24T09:00:00+08:00"])
    assert r.exit_code == 0, r.output
    assert "premiere at 2026-11-24T01:00:00+00:00" in r.output
    r = runner.invoke(args=["courses", "premiere", key, "hazardous-chemicals", "--in-minutes", "5"])
    assert r.exit_code == 0
    with app.app_context():
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.key == "hazardous-chemicals"))
        assert lesson.premiere_at is not None
    r = runner.invoke(args=["courses", "premiere", key, "hazardous-chemicals", "--clear"])
    assert r.exit_code == 0 and "on demand" in r.output
    for bad in (["--at", "2026-11-24T09:00:00"], ["--at", "tomorrow"], [],
                ["--clear", "--in-minutes", "3"]):
        r = runner.invoke(args=["courses", "premiere", key, "hazardous-chemicals", *bad])
        assert r.exit_code != 0, bad
    r = runner.invoke(args=["courses", "premiere", key, "nope", "--clear"])
    assert r.exit_code != 0 and "no lesson" in r.output


def test_sync_copies_media_again_when_storage_lost_it(app, runner, root):
    runner.invoke(args=["courses", "sync", str(root)])
    with app.app_context():
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.key == "equipment-restart"))
        video = Path(app.config["MEDIA_ROOT"]) / lesson.media_path
    video.unlink()
    result = runner.invoke(args=["courses", "sync", str(root)])
    assert result.exit_code == 0 and "missing media copied again" in result.output
    assert video.is_file()
    assert "unchanged" in runner.invoke(args=["courses", "sync", str(root)]).output
