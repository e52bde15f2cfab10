"""Failing the make-up of an exam with a prerequisite course starts a new training round:
the worker's lesson progress is reset (the hours ledger is kept), and watching every lesson
again opens a new pair of attempts. Driven through the exams and progress APIs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.courses_fixtures import demo_course  # noqa: F401  (fixture)
from tests.integration.exams_helpers import Clock, api_login, create_exam, make_bank, new_client
from trainer.courses.hours import course_completed
from trainer.courses.models import Course, Lesson, LessonProgress, TrainingHours
from trainer.db import db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock for the exams and courses areas (completions are compared with attempts)."""
    fake = Clock()
    for module in ("trainer.exams.api", "trainer.exams.views", "trainer.courses.api",
                   "trainer.courses.services", "trainer.courses.views"):
        monkeypatch.setattr(f"{module}.utcnow", fake, raising=False)
    return fake


@pytest.fixture
def bank(app, people) -> int:
    with app.app_context():
        return make_bank()


def watch_course(client, headers, clock: Clock, course: dict[str, Any]) -> None:
    """Open every lesson and play it to the end in real time, reporting every 15 s."""
    with client.application.app_context():
        durations = {lesson_id: db.session.get(Lesson, lesson_id).duration_seconds
                     for lesson_id in course["lessons"]}
    for lesson_id, duration in durations.items():
        url = f"/api/v1/lessons/{lesson_id}/progress"
        assert client.get(url).status_code == 200
        pos = 0.0
        while pos < duration:
            nxt = min(duration, pos + 15)
            clock.advance(nxt - pos)
            r = client.post(url, json={"segments": [[pos, nxt]], "position": nxt},
                            headers=headers)
            assert r.status_code == 200 and r.get_json()["accepted"], r.get_json()
            pos = nxt
        assert r.get_json()["completed"] is True


def fail_attempt(client, headers, clock: Clock, exam_id: int) -> dict[str, Any]:
    started = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert started.status_code == 201, started.get_json()
    attempt = started.get_json()
    clock.advance(30)
    result = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    assert result.status_code == 200 and result.get_json()["passed"] is False
    clock.advance(30)
    return attempt


def ledger(app, worker_id: int) -> list[tuple[int, int, str, dt.datetime]]:
    with app.app_context():
        return [(row.id, row.lesson_id, str(row.hours), row.credited_at)
                for row in db.session.scalars(sa.select(TrainingHours).where(
                    TrainingHours.user_id == worker_id).order_by(TrainingHours.id))]


def test_failed_make_up_resets_the_course_and_rewatching_opens_a_new_pair(
        app, people, bank, clock, demo_course):  # noqa: F811  (fixture)
    instructor = new_client(app)
    exam_id = create_exam(instructor, api_login(instructor, people["instructor_login"]),
                          prerequisite_course=demo_course["course_key"])
    client = new_client(app)
    headers = api_login(client, people["worker_login"])
    worker = people["worker"]

    watch_course(client, headers, clock, demo_course)
    earned = ledger(app, worker)
    assert len(earned) == len(demo_course["lessons"])
    clock.advance(60)

    # The exam and its make-up, both failed.
    assert fail_attempt(client, headers, clock, exam_id)["number"] == 1
    exams = client.get("/api/v1/exams").get_json()["exams"]
    assert exams[0]["reason"] == "make_up" and exams[0]["can_start"]
    assert fail_attempt(client, headers, clock, exam_id)["number"] == 2

    # A new start is refused with a message naming the course.
    refused = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "not_eligible" and error["details"]["reason"] == "retrain"
    with app.app_context():
        course = db.session.get(Course, demo_course["course_id"])
        titles = (course.title_zh, course.title_en)
    assert any(title in error["message"] for title in titles), error["message"]
    exams = client.get("/api/v1/exams").get_json()["exams"]
    assert exams[0]["reason"] == "retrain" and not exams[0]["can_start"]
    page = client.get("/exams/")
    assert page.status_code == 200
    assert any(title in page.get_data(as_text=True) for title in titles)

    # Progress reset, ledger untouched, the reset audited.
    with app.app_context():
        rows = list(db.session.scalars(sa.select(LessonProgress).where(
            LessonProgress.user_id == worker)))
        assert len(rows) == len(demo_course["lessons"])
        for row in rows:
            assert row.completed_at is None and row.segments == []
            assert row.furthest_position == 0 and row.last_position == 0
            assert row.watched_seconds == 0
        assert not course_completed(worker, demo_course["course_key"])
        from trainer.audit.models import AuditEntry

        audit = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "course.restart")).all()
        assert len(audit) == 1 and audit[0].after["user_id"] == worker
    assert ledger(app, worker) == earned
    lesson_id = demo_course["lessons"][0]
    state = client.get(f"/api/v1/lessons/{lesson_id}/progress").get_json()
    assert state["completed"] is False and state["resume_position"] == 0
    courses_page = client.get("/courses/").get_data(as_text=True)
    assert f'max="{len(demo_course["lessons"])}" value="0"' in courses_page

    # Watching every lesson again: completed afresh, no hours credited twice, a new pair.
    watch_course(client, headers, clock, demo_course)
    assert ledger(app, worker) == earned
    with app.app_context():
        assert course_completed(worker, demo_course["course_key"])
    clock.advance(60)
    exams = client.get("/api/v1/exams").get_json()["exams"]
    assert exams[0]["reason"] == "new_sitting" and exams[0]["can_start"]
    assert exams[0]["attempts_left"] == 2
    assert fail_attempt(client, headers, clock, exam_id)["number"] == 3
    exams = client.get("/api/v1/exams").get_json()["exams"]
    assert exams[0]["reason"] == "make_up" and exams[0]["attempts_left"] == 1
    assert fail_attempt(client, headers, clock, exam_id)["number"] == 4
    # The second pair failed as well: another training round.
    again = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert again.get_json()["error"]["details"]["reason"] == "retrain"
    with app.app_context():
        assert not course_completed(worker, demo_course["course_key"])
    assert ledger(app, worker) == earned


def test_a_failed_first_attempt_keeps_the_course_progress(
        app, people, bank, clock, demo_course):  # noqa: F811  (fixture)
    instructor = new_client(app)
    exam_id = create_exam(instructor, api_login(instructor, people["instructor_login"]),
                          prerequisite_course=demo_course["course_key"])
    client = new_client(app)
    headers = api_login(client, people["worker_login"])
    watch_course(client, headers, clock, demo_course)
    clock.advance(60)
    fail_attempt(client, headers, clock, exam_id)
    with app.app_context():
        assert course_completed(people["worker"], demo_course["course_key"])


def test_restart_course_touches_only_that_worker_and_course(app, people, demo_course):  # noqa: F811
    from trainer.audit.models import AuditEntry
    from trainer.courses.services import restart_course

    done = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    with app.app_context():
        for user_id in (people["worker"], people["other_worker"]):
            for lesson_id in demo_course["lessons"]:
                db.session.add(LessonProgress(user_id=user_id, lesson_id=lesson_id,
                                              segments=[[0.0, 10.0]], watched_seconds=10.0,
                                              furthest_position=10.0, last_position=10.0,
                                              completed_at=done))
        db.session.commit()
        assert restart_course(people["worker"], "no-such-course", reason="test") == 0
        assert restart_course(people["worker"], demo_course["course_key"],
                              reason="test") == len(demo_course["lessons"])
        db.session.commit()
        assert not course_completed(people["worker"], demo_course["course_key"])
        assert course_completed(people["other_worker"], demo_course["course_key"])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "course.restart")) == 1
