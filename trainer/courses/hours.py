"""What other areas ask of courses: hours credited toward a certificate type, courses completed.

Exams and certificates call these (they never read the courses tables themselves). All run in
the caller's app context and session; none writes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from trainer.clock import local_zone
from trainer.courses.models import Course, Lesson, LessonProgress, TrainingHours
from trainer.db import db


def _start_of_local_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=local_zone()).astimezone(dt.UTC)


def _counts_toward(row: TrainingHours, type_code: str, purpose: str | None) -> bool:
    targets = [tuple(pair) for pair in (row.targets or []) if len(pair) == 2]
    if targets:
        return any(
            code == type_code and (purpose is None or target_purpose == purpose)
            for code, target_purpose in targets
        )
    # Rows without pairs: the plain list of codes and the single purpose.
    return type_code in (row.certificate_types or []) and (
        purpose is None or row.purpose == purpose
    )


def credited_hours(
    user_id: int,
    type_code: str,
    purpose: str | None = None,
    since: dt.date | None = None,
) -> Decimal:
    """Training hours in the worker's ledger from courses preparing for ``type_code``.

    ``purpose`` ("initial" or "review") narrows to courses counting toward that purpose;
    ``since`` keeps hours credited on or after that local date (the platform's time zone).
    """
    query = sa.select(TrainingHours).where(TrainingHours.user_id == user_id)
    if since is not None:
        query = query.where(TrainingHours.credited_at >= _start_of_local_day(since))
    total = Decimal(0)
    for row in db.session.scalars(query):
        if _counts_toward(row, type_code, purpose):
            total += Decimal(row.hours)
    return total


def course_completed(
    user_id: int, course_key: str, since: dt.datetime | None = None
) -> bool:
    """True when the worker completed every lesson of the course's current version.

    With ``since``, each lesson must have been completed at or after that moment.
    """
    course = db.session.scalar(sa.select(Course).where(Course.key == course_key))
    if course is None:
        return False
    lesson_ids = list(
        db.session.scalars(
            sa.select(Lesson.id).where(Lesson.course_id == course.id, Lesson.active.is_(True))
        )
    )
    if not lesson_ids:
        return False
    query = sa.select(sa.func.count()).where(
        LessonProgress.user_id == user_id,
        LessonProgress.lesson_id.in_(lesson_ids),
        LessonProgress.completed_at.is_not(None),
    )
    if since is not None:
        if since.tzinfo is None:
            raise ValueError("course_completed: since must be timezone-aware")
        query = query.where(LessonProgress.completed_at >= since)
    return (db.session.scalar(query) or 0) == len(lesson_ids)


def course_title(course_key: str) -> str | None:
    """The course's title in the current locale (None when there is no such course)."""
    from flask_babel import get_locale

    course = db.session.scalar(sa.select(Course).where(Course.key == course_key))
    if course is None:
        return None
    return course.title(str(get_locale() or "zh_CN"))
