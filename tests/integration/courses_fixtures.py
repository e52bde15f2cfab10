"""Shared set-up for the courses tests: the demo course loaded, the worker enrolled."""

from __future__ import annotations

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
