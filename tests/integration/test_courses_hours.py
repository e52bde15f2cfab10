"""The functions exams and certificates call: credited_hours and course_completed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from trainer.courses.hours import course_completed, credited_hours
from trainer.courses.models import Course, Lesson, LessonProgress, TrainingHours
from trainer.db import db

UTC = dt.UTC


def _course(key: str, targets: list[tuple[str, str]], lessons: int = 2) -> Course:
    purposes = {p for _, p in targets}
    course = Course(
        key=key, version=1, title_zh=key, title_en=key,
        certificate_types=sorted({c for c, _ in targets}),
        purpose=purposes.pop() if len(purposes) == 1 else None,
        targets=[list(t) for t in targets], hours=Decimal("2"),
    )
    db.session.add(course)
    db.session.flush()
    for i in range(lessons):
        db.session.add(Lesson(course_id=course.id, key=f"l{i}", position=i, title_zh="x",
                              title_en="x", media_path="m.mp4", duration_seconds=60,
                              hours=Decimal("1")))
    db.session.flush()
    return course


def _credit(user_id: int, course: Course, lesson: Lesson, hours: str, at: dt.datetime) -> None:
    db.session.add(TrainingHours(
        user_id=user_id, course_id=course.id, lesson_id=lesson.id, hours=Decimal(hours),
        certificate_types=list(course.certificate_types), purpose=course.purpose,
        targets=list(course.targets), credited_at=at))
    db.session.flush()


def test_credited_hours_by_type_purpose_and_date(ctx, people):
    worker = people["worker"]
    review = _course("sm-review", [("SM", "review"), ("PM", "review")])
    initial = _course("weld-initial", [("2.1", "initial")])
    mixed = _course("mixed", [("SM", "initial"), ("1.2", "review")])
    _credit(worker, review, review.lessons[0], "1.5", dt.datetime(2026, 3, 1, 2, tzinfo=UTC))
    _credit(worker, review, review.lessons[1], "0.25", dt.datetime(2026, 3, 5, 2, tzinfo=UTC))
    _credit(worker, initial, initial.lessons[0], "4", dt.datetime(2026, 3, 5, 2, tzinfo=UTC))
    _credit(worker, mixed, mixed.lessons[0], "1", dt.datetime(2026, 3, 6, 2, tzinfo=UTC))
    _credit(people["other_worker"], review, review.lessons[0], "9",
            dt.datetime(2026, 3, 1, tzinfo=UTC))

    assert credited_hours(worker, "SM") == Decimal("2.75")
    assert credited_hours(worker, "SM", "review") == Decimal("1.75")
    assert credited_hours(worker, "SM", "initial") == Decimal("1")
    assert credited_hours(worker, "PM", "review") == Decimal("1.75")
    assert credited_hours(worker, "1.2", "review") == Decimal("1")
    assert credited_hours(worker, "1.2", "initial") == Decimal("0")
    assert credited_hours(worker, "2.1") == Decimal("4")
    assert credited_hours(worker, "9.16") == Decimal("0")
    assert isinstance(credited_hours(worker, "9.16"), Decimal)
    # since is a local (Asia/Shanghai) date: 2026-03-05 02:00 UTC is 10:00 local on the 5th.
    assert credited_hours(worker, "SM", "review", since=dt.date(2026, 3, 5)) == Decimal("0.25")
    assert credited_hours(worker, "SM", "review", since=dt.date(2026, 3, 6)) == Decimal("0")
    # 2026-03-04 16:00 UTC is midnight on the 5th in Shanghai: credited on the 5th.
    _credit(worker, initial, initial.lessons[1], "1", dt.datetime(2026, 3, 4, 16, tzinfo=UTC))
    assert credited_hours(worker, "2.1", since=dt.date(2026, 3, 5)) == Decimal("5")
    assert credited_hours(worker, "2.1", since=dt.date(2026, 3, 6)) == Decimal("0")


def test_course_completed_needs_every_active_lesson(ctx, people):
    worker = people["worker"]
    course = _course("c", [("SM", "review")], lessons=3)
    first, second, third = course.lessons
    assert not course_completed(worker, "c")
    assert not course_completed(worker, "no-such-course")
    t1 = dt.datetime(2026, 3, 1, tzinfo=UTC)
    t2 = dt.datetime(2026, 3, 2, tzinfo=UTC)
    db.session.add_all([
        LessonProgress(user_id=worker, lesson_id=first.id, completed_at=t1),
        LessonProgress(user_id=worker, lesson_id=second.id, completed_at=t2),
        LessonProgress(user_id=worker, lesson_id=third.id),
    ])
    db.session.flush()
    assert not course_completed(worker, "c")
    # A lesson a later version dropped no longer counts.
    third.active = False
    db.session.flush()
    assert course_completed(worker, "c")
    assert course_completed(worker, "c", since=t1)
    assert not course_completed(worker, "c", since=t1 + dt.timedelta(seconds=1))
    assert not course_completed(people["other_worker"], "c")
