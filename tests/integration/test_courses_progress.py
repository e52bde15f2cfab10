"""The progress API: honest watch tracking, completion and hours, as the player uses it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import courses_fixtures
import pytest
import sqlalchemy as sa

from trainer.courses.hours import course_completed, credited_hours
from trainer.courses.models import Lesson, LessonProgress, TrainingHours
from trainer.db import db
from trainer.signals import hours_credited

demo_course = courses_fixtures.demo_course
clock = courses_fixtures.clock


@pytest.fixture
def lesson(demo_course):
    return demo_course["keys"]["hazardous-chemicals"]  # 84.8 s, no premiere


@pytest.fixture
def worker(client, people):
    client.login(people["worker_login"])
    client.token = client.csrf("/account")
    return client


def url(lesson_id):
    return f"/api/v1/lessons/{lesson_id}/progress"


def report(client, lesson_id, segments, position=None, **extra):
    if position is None:
        position = segments[-1][1] if segments else 0
    return client.post(url(lesson_id), json={"segments": segments, "position": position,
                                             **extra},
                       headers={"X-CSRFToken": client.token})


def watch(worker, clock, lesson, start, end, step=15):
    """Play from start to end in real time, reporting every `step` seconds."""
    pos = start
    while pos < end:
        nxt = min(end, pos + step)
        clock.advance(nxt - pos)
        r = report(worker, lesson, [[pos, nxt]])
        assert r.status_code == 200, r.json
        pos = nxt
    return r


def test_open_returns_the_resume_point_and_counts_a_visit(app, worker, clock, lesson):
    r = worker.get(url(lesson))
    assert r.status_code == 200
    assert r.json["resume_position"] == 0 and r.json["segments"] == []
    assert r.json["duration"] == 84.8 and r.json["no_skip"] is True
    assert r.json["premiere"]["phase"] == "on_demand"
    with app.app_context():
        assert db.session.get(Lesson, lesson).visits == 1


def test_reports_in_real_time_are_recorded_as_a_union(app, worker, clock, lesson):
    worker.get(url(lesson))
    r = watch(worker, clock, lesson, 0, 30)
    assert r.json["accepted"] and r.json["segments"] == [[0, 30]]
    # Rewatching 10-20 adds nothing.
    clock.advance(10)
    r = report(worker, lesson, [[10, 20]])
    assert r.json["watched_seconds"] == 30 and r.json["last_position"] == 20
    with app.app_context():
        row = db.session.scalar(sa.select(LessonProgress))
        assert row.segments == [[0, 30]] and row.furthest_position == 30


def test_faster_than_real_time_is_refused_and_nothing_is_recorded(app, worker, clock, lesson):
    worker.get(url(lesson))
    clock.advance(15)
    r = report(worker, lesson, [[0, 60]])
    assert r.status_code == 409
    assert r.json["error"]["code"] == "too_fast"
    assert r.json["error"]["details"]["watched_seconds"] == 0
    with app.app_context():
        assert db.session.scalar(sa.select(LessonProgress.segments)) == []
    # Once enough wall-clock time has passed, the same (kept) segments are accepted.
    clock.advance(45)
    r = report(worker, lesson, [[0, 60]])
    assert r.status_code == 200 and r.json["watched_seconds"] == 60


def test_the_first_report_needs_the_lesson_opened_first(worker, clock, lesson):
    clock.advance(15)
    assert report(worker, lesson, [[0, 15]]).status_code == 409  # no anchor: only tolerance


def test_queued_reports_after_a_lost_connection_are_accepted_merged(worker, clock, lesson):
    worker.get(url(lesson))
    watch(worker, clock, lesson, 0, 15)
    clock.advance(45)  # offline for three report intervals; the page kept them
    r = report(worker, lesson, [[15, 30], [30, 45], [45, 60]])
    assert r.status_code == 200 and r.json["segments"] == [[0, 60]]


def test_seeking_past_the_furthest_point_is_not_credited(worker, clock, lesson):
    worker.get(url(lesson))
    watch(worker, clock, lesson, 0, 20)
    clock.advance(15)
    r = report(worker, lesson, [[60, 75]], position=75)
    assert r.status_code == 200
    assert r.json["reason"] == "skipped_ahead" and r.json["refused"] == [[60, 75]]
    assert r.json["segments"] == [[0, 20]] and r.json["furthest_position"] == 20
    assert r.json["resume_position"] <= 22


def test_completion_credits_hours_once_and_sends_the_signal(app, worker, clock, lesson, people,
                                                          demo_course):
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    hours_credited.connect(receiver)
    try:
        worker.get(url(lesson))
        r = watch(worker, clock, lesson, 0, 80)
        assert not r.json["completed"]  # 80 / 84.8 = 94.3 % < 95 %
        r = watch(worker, clock, lesson, 80, 81)
        assert r.json["completed"] and r.json["credited_hours"] == "0.0306"
        r = watch(worker, clock, lesson, 81, 84.8)
        assert r.json["completed"] and r.json["credited_hours"] is None
    finally:
        hours_credited.disconnect(receiver)
    assert len(sent) == 1
    assert sent[0]["user_id"] == people["worker"]
    assert sent[0]["course_key"] == "first-lesson-return-to-work"
    assert sent[0]["lesson_key"] == "hazardous-chemicals"
    assert sent[0]["hours"] == Decimal("0.0306")
    assert sent[0]["certificate_types"] == ["PM", "SM"] and sent[0]["purpose"] == "review"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingHours)) == 1
        assert credited_hours(people["worker"], "SM", "review") == Decimal("0.0306")
        assert credited_hours(people["worker"], "SM", "initial") == Decimal("0")
        assert not course_completed(people["worker"], demo_course["course_key"])


def test_whole_course_completed(app, worker, clock, demo_course, people):
    for lesson_id in demo_course["lessons"]:
        with app.app_context():
            db.session.get(Lesson, lesson_id).premiere_at = None
            db.session.commit()
        worker.get(url(lesson_id))
        with app.app_context():
            duration = db.session.get(Lesson, lesson_id).duration_seconds
        watch(worker, clock, lesson_id, 0, duration)
    with app.app_context():
        assert course_completed(people["worker"], demo_course["course_key"])
        assert credited_hours(people["worker"], "PM") == Decimal("0.09")


def test_resume_on_another_device(app, client, worker, clock, lesson, people):
    worker.get(url(lesson))
    watch(worker, clock, lesson, 0, 40)
    phone = app.test_client()  # a second browser: a fresh client, same worker
    phone.login(people["worker_login"])
    r = phone.get(url(lesson))
    assert r.json["resume_position"] == 40 and r.json["furthest_position"] == 40


def test_bearer_token_callers_need_no_csrf(client, clock, lesson, people):
    token = client.post("/api/v1/tokens", json={"login": people["worker_login"],
                                                "password": "correct-horse-42"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(url(lesson), headers=headers).status_code == 200
    clock.advance(15)
    r = client.post(url(lesson), json={"segments": [[0, 15]], "position": 15}, headers=headers)
    assert r.status_code == 200 and r.json["watched_seconds"] == 15


def test_session_callers_need_the_csrf_header(worker, clock, lesson):
    worker.get(url(lesson))
    clock.advance(15)
    r = worker.post(url(lesson), json={"segments": [[0, 15]], "position": 15})
    assert r.status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    ({"segments": "0-15", "position": 1}, "segments"),
    ({"segments": [[0]], "position": 1}, "segments"),
    ({"segments": [[5, 1]], "position": 1}, "segments"),
    ({"segments": [[0, 1]], "position": "x"}, "position"),
    ({"segments": [[0, 1]], "position": 500}, "position"),
    ({"segments": [[0, 1]], "position": True}, "position"),
])
def test_malformed_reports_are_refused_clearly(app, worker, clock, lesson, body, field):
    worker.get(url(lesson))
    r = worker.post(url(lesson), json=body, headers={"X-CSRFToken": worker.token})
    assert r.status_code == 422
    assert r.json["error"]["details"]["field"] == field
    assert r.json["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(LessonProgress.segments)) == []


def test_not_json_is_400(worker, lesson):
    r = worker.post(url(lesson), data="x", headers={"X-CSRFToken": worker.token})
    assert r.status_code == 400


def test_other_workers_and_anonymous_cannot_report(client, people, lesson, clock):
    assert client.get(url(lesson)).status_code == 401
    client.login(people["other_worker_login"])
    assert client.get(url(lesson)).status_code == 404
    token = client.csrf("/account")
    r = client.post(url(lesson), json={"segments": [], "position": 0},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 404


def test_live_premiere_late_joiner_starts_mid_stream(app, worker, clock, demo_course):
    lesson = demo_course["keys"]["equipment-restart"]
    with app.app_context():
        db.session.get(Lesson, lesson).premiere_at = clock.now - dt.timedelta(seconds=30)
        db.session.commit()
    r = worker.get(url(lesson))
    assert r.json["premiere"]["phase"] == "live" and r.json["premiere"]["offset"] == 30
    clock.advance(15)
    r = report(worker, lesson, [[30, 45]])
    assert r.status_code == 200 and r.json["segments"] == [[30, 45]]
    clock.advance(15)
    r = report(worker, lesson, [[45, 60], [70, 80]], position=80)
    assert r.json["reason"] == "ahead_of_live" and [70, 80] in r.json["refused"]
    assert r.json["segments"] == [[30, 60]]


def test_upcoming_premiere_has_a_countdown(app, worker, clock, demo_course):
    lesson = demo_course["keys"]["equipment-restart"]
    with app.app_context():
        db.session.get(Lesson, lesson).premiere_at = clock.now + dt.timedelta(minutes=10)
        db.session.commit()
    r = worker.get(url(lesson))
    assert r.json["premiere"]["phase"] == "upcoming"
    assert r.json["premiere"]["seconds_until"] == 600


def test_before_the_premiere_nothing_plays_or_counts(app, client, people, clock, demo_course):
    lesson = demo_course["keys"]["equipment-restart"]
    with app.app_context():
        db.session.get(Lesson, lesson).premiere_at = clock.now + dt.timedelta(minutes=10)
        db.session.commit()
    client.login(people["worker_login"])
    token = client.csrf("/account")
    page = client.get(f"/courses/lessons/{lesson}").get_data(as_text=True)
    assert 'data-testid="countdown"' in page and 'data-seconds="600.000"' in page
    assert f'src="/courses/lessons/{lesson}/video"' not in page
    assert client.get(f"/courses/lessons/{lesson}/video").status_code == 403
    clock.advance(30)
    r = client.post(url(lesson), json={"segments": [[0, 10]], "position": 10},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_started"
    client.logout()
    client.login(people["instructor_login"])  # staff may preview
    assert client.get(f"/courses/lessons/{lesson}/video",
                      headers={"Range": "bytes=0-1"}).status_code == 206


def test_after_the_premiere_replay_on_demand(app, worker, clock, demo_course):
    lesson = demo_course["keys"]["equipment-restart"]  # premiere 2020-02-24: long over
    page = worker.get(f"/courses/lessons/{lesson}").get_data(as_text=True)
    assert 'data-testid="replay"' in page
    assert worker.get(url(lesson)).json["premiere"]["phase"] == "replay"
    clock.advance(15)
    r = report(worker, lesson, [[0, 15]])
    assert r.status_code == 200 and r.json["watched_seconds"] == 15


def test_admins_see_live_viewers_and_total_visits(app, client, people, clock, demo_course):
    lesson = demo_course["keys"]["hazardous-chemicals"]
    client.login(people["worker_login"])
    token = client.csrf("/account")
    client.get(url(lesson))
    clock.advance(15)
    client.post(url(lesson), json={"segments": [[0, 15]], "position": 15},
                headers={"X-CSRFToken": token})
    client.logout()
    client.login(people["admin_login"])
    page = client.get(f"/courses/lessons/{lesson}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "Watching now: 1 · Total visits: 2" in text
    stats = client.get(f"/courses/admin/courses/{demo_course['course_key']}/enrolments")
    assert 'data-testid="lesson-stats"' in stats.get_data(as_text=True)
    clock.advance(31)
    page = client.get(f"/courses/lessons/{lesson}", headers={"Accept-Language": "en"})
    assert "Watching now: 0 · Total visits: 3" in page.get_data(as_text=True)


def test_a_lesson_dropped_from_the_course_takes_no_more_reports(app, worker, clock, lesson):
    worker.get(url(lesson))
    with app.app_context():
        db.session.get(Lesson, lesson).active = False
        db.session.commit()
    clock.advance(15)
    assert report(worker, lesson, [[0, 15]]).status_code == 404
    assert worker.get(url(lesson)).status_code == 404


def test_staff_reports_are_recorded_but_earn_no_hours(app, client, people, clock, lesson):
    client.login(people["instructor_login"])
    client.token = client.csrf("/account")
    client.get(url(lesson))
    r = watch(client, clock, lesson, 0, 84.8)
    assert r.json["completed"] and r.json["credited_hours"] is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingHours)) == 0
