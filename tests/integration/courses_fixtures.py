"""Shared set-up for the courses tests: the demo course loaded, the worker enrolled."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from trainer.accounts.models import User
from trainer.courses.models import Course
from trainer.courses.services import enrol, sync_courses
from trainer.db import db


@pytest.fixture
def demo_course(app: Any, people: dict[str, Any]) -> dict[str, Any]:
    """The committed demo course, synced; ``worker`` enrolled (``other_worker`` not)."""
    with app.app_context():
        sync_courses()
        course = db.session.scalar(sa.select(Course))
        enrol(db.session.get(User, people["worker"]), course, None, None)
        out = {"course_id": course.id, "course_key": course.key,
               "lessons": [lesson.id for lesson in course.active_lessons],
               "keys": {lesson.key: lesson.id for lesson in course.active_lessons},
               "media": {lesson.id: lesson.media_path for lesson in course.active_lessons}}
        db.session.commit()
    return out


class FakeClock:
    """Moves the courses area's clock by hand (reports are judged against wall-clock time)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    for module in ("trainer.courses.api", "trainer.courses.services", "trainer.courses.views"):
        monkeypatch.setattr(f"{module}.utcnow", fake, raising=False)
    return fake
