"""Courses, lessons, enrolments, watch progress and the training-hours ledger.

A course row is the current version of a manifest in ``courses/`` (or of a course instructors
built in the web UI). Lessons keep their identity (``course_id``, ``key``) across versions, so a
new version updates them in place and watch progress survives; a lesson dropped from the manifest
is marked inactive, never deleted (its progress and hours stay on record).

``training_hours`` is the ledger: one row per worker and completed lesson, written once, with
the certificate types and purpose the course counted toward *when the hours were credited*.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.models import User
from trainer.clock import utcnow
from trainer.db import Model

HOURS = sa.Numeric(8, 4)


class Course(Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    # Certificate type codes this course counts toward (["SM", "PM"]) ...
    certificate_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # ... and for what: "initial" or "review"; None when the manifest mixes purposes (then
    # `targets` says which pair is which).
    purpose: Mapped[str | None] = mapped_column(sa.String(10))
    # Every (code, purpose) pair: [["SM", "review"], ["PM", "review"]].
    targets: Mapped[list[list[str]]] = mapped_column(sa.JSON, default=list)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    # "manifest" (synced from courses/) or "upload" (built by instructors in the web UI).
    source: Mapped[str] = mapped_column(sa.String(10), default="manifest")
    # The manifest's SHA-256 at the last sync (sync is a no-op when nothing changed).
    source_digest: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position"
    )

    def title(self, locale: str) -> str:
        return self.title_en if str(locale).startswith("en") else self.title_zh

    def description(self, locale: str) -> str:
        return self.description_en if str(locale).startswith("en") else self.description_zh

    @property
    def active_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons if lesson.active]


class Lesson(Model):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    # Storage keys (trainer.courses.storage) of the video and poster.
    media_path: Mapped[str] = mapped_column(sa.String(500))
    media_size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    duration_seconds: Mapped[float] = mapped_column(sa.Float)
    poster: Mapped[str | None] = mapped_column(sa.String(500))
    # [{"lang": "zh-CN", "path": <storage key>}]
    subtitles: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    completion_threshold: Mapped[float] = mapped_column(sa.Float, default=0.95)
    no_skip: Mapped[bool] = mapped_column(default=True)
    premiere_at: Mapped[dt.datetime | None] = mapped_column()
    hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal(0))
    # False once the lesson left the course (a later version dropped it).
    active: Mapped[bool] = mapped_column(default=True)
    # What ffprobe said about the video (codec, size, rendition made…), for instructors.
    media_info: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Page loads of the lesson (the "total visits" counter admins see).
    visits: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship(back_populates="lessons")

    __table_args__ = (
        sa.UniqueConstraint("course_id", "key", name="uq_lessons_course_key"),
        sa.CheckConstraint(
            "completion_threshold > 0 and completion_threshold <= 1", name="threshold"
        ),
        sa.CheckConstraint("duration_seconds > 0", name="duration"),
    )

    def title(self, locale: str) -> str:
        return self.title_en if str(locale).startswith("en") else self.title_zh


class Enrolment(Model):
    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    enrolled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    due_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    enrolled_by: Mapped[User | None] = relationship(foreign_keys=[enrolled_by_id])
    course: Mapped[Course] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", name="uq_enrolments_user_course"),
    )


class LessonProgress(Model):
    """What one worker has watched of one lesson: the union of watched segments."""

    __tablename__ = "lesson_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(
        sa.ForeignKey("lessons.id", ondelete="CASCADE"), index=True
    )
    # Sorted, disjoint, merged [start, end] intervals in seconds of video.
    segments: Mapped[list[list[float]]] = mapped_column(sa.JSON, default=list)
    furthest_position: Mapped[float] = mapped_column(sa.Float, default=0.0)
    last_position: Mapped[float] = mapped_column(sa.Float, default=0.0)
    watched_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    completed_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the last accepted report arrived (the watch-rate limit and the live viewer count).
    last_report_at: Mapped[dt.datetime | None] = mapped_column(index=True)

    user: Mapped[User] = relationship()
    lesson: Mapped[Lesson] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_lesson"),
    )


class TrainingHours(Model):
    """The hours ledger: hours credited to a worker for one completed lesson, once."""

    __tablename__ = "training_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lessons.id"), index=True)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    # Snapshot of the course's certificate types, purpose and (code, purpose) pairs.
    certificate_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(sa.String(10))
    targets: Mapped[list[list[str]]] = mapped_column(sa.JSON, default=list)
    course_version: Mapped[int] = mapped_column(default=1)
    credited_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
    lesson: Mapped[Lesson] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "lesson_id", name="uq_training_hours_user_lesson"),
    )
