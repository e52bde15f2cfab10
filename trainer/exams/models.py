"""Exam definitions, attempts, the questions each attempt showed, and the wrong-answer book.

``attempt_questions`` is a contract with the question-statistics code: its column names
(``question_version_id``, ``option_order``, ``response`` in ORIGINAL option indexes, ``saved_at``,
``client_seq``, ``correct``, ``points``) must not change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.models import User
from trainer.clock import utcnow
from trainer.db import Model
from trainer.questions.models import Question, QuestionBank, QuestionVersion

FORMAL = "formal"
PRACTICE = "practice"
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
EXPIRED = "expired"

exam_banks = sa.Table(
    "exam_banks",
    Model.metadata,
    sa.Column("exam_id", sa.ForeignKey("exams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("bank_id", sa.ForeignKey("question_banks.id", ondelete="CASCADE"),
              primary_key=True),
)


class Exam(Model):
    """An exam definition: where its questions come from, how long, how it is passed."""

    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    # Catalogue code of the certificate a pass counts towards ("1.2", "SM"; "" for none).
    certificate_type: Mapped[str] = mapped_column(sa.String(10), default="")
    # [{"type": "single", "category": "", "count": 20, "points": 2}, ...]; [] means
    # ``question_count`` questions of any type worth 100 / question_count points each.
    blueprint: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    question_count: Mapped[int] = mapped_column()
    time_limit_seconds: Mapped[int] = mapped_column()
    grace_seconds: Mapped[int] = mapped_column(default=30)
    pass_mark: Mapped[int] = mapped_column(default=80)
    # Attempts in one sitting: the exam plus make-ups (2 = one exam and one make-up).
    max_attempts: Mapped[int] = mapped_column(default=2)
    mode: Mapped[str] = mapped_column(sa.String(10), default=FORMAL)
    opens_at: Mapped[dt.datetime | None] = mapped_column()
    closes_at: Mapped[dt.datetime | None] = mapped_column()
    prerequisite_course: Mapped[str | None] = mapped_column(sa.String(100))
    review_allowed: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    banks: Mapped[list[QuestionBank]] = relationship(secondary=exam_banks,
                                                     order_by=QuestionBank.name)
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("mode in ('formal', 'practice')", name="mode"),
        sa.CheckConstraint("time_limit_seconds > 0", name="time_limit_positive"),
        sa.CheckConstraint("question_count > 0", name="question_count_positive"),
    )

    @property
    def is_practice(self) -> bool:
        return self.mode == PRACTICE


class ExamAttempt(Model):
    """One sitting of an exam by one worker, with its own paper and a fixed deadline."""

    __tablename__ = "exam_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(sa.ForeignKey("exams.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    number: Mapped[int] = mapped_column()
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # started_at + the exam's time limit, fixed at the start; extra time is added on top.
    deadline: Mapped[dt.datetime] = mapped_column()
    extra_seconds: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(12), default=IN_PROGRESS, index=True)
    score: Mapped[float | None] = mapped_column(sa.Float)
    passed: Mapped[bool | None] = mapped_column()
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    # "<exam_id>:<user_id>" while in progress, NULL once closed: a unique column gives "one
    # active attempt per worker per exam" on every database (NULLs never collide).
    active_key: Mapped[str | None] = mapped_column(sa.String(40), unique=True)

    exam: Mapped[Exam] = relationship()
    user: Mapped[User] = relationship()
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("status in ('in_progress', 'submitted', 'expired')", name="status"),
        sa.CheckConstraint("(status = 'in_progress') = (active_key is not null)",
                           name="active_key_when_open"),
        sa.UniqueConstraint("exam_id", "user_id", "number",
                            name="uq_exam_attempts_exam_user_number"),
    )

    @property
    def effective_deadline(self) -> dt.datetime:
        return self.deadline + dt.timedelta(seconds=self.extra_seconds or 0)


class AttemptQuestion(Model):
    """One question of an attempt's paper, the exact version shown, and the saved response."""

    __tablename__ = "attempt_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("exam_attempts.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"), index=True)
    question_version_id: Mapped[int] = mapped_column(sa.ForeignKey("question_versions.id"),
                                                     index=True)
    position: Mapped[int] = mapped_column()
    # Shown order of the ORIGINAL option indexes: [2, 0, 3, 1] shows option 2 first.
    option_order: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    # In ORIGINAL option indexes (sorted list), or true/false; NULL = unanswered.
    response: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    saved_at: Mapped[dt.datetime | None] = mapped_column()
    # The client's sequence number of the saved response: an older one never overwrites it.
    client_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    correct: Mapped[bool | None] = mapped_column()
    # Points awarded (0..max_points), set when the attempt is graded.
    points: Mapped[float | None] = mapped_column(sa.Float)
    # What the question was worth on this paper.
    max_points: Mapped[float] = mapped_column(sa.Float, default=0.0)

    attempt: Mapped[ExamAttempt] = relationship(back_populates="questions")
    question: Mapped[Question] = relationship()
    version: Mapped[QuestionVersion] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("attempt_id", "question_id",
                            name="uq_attempt_questions_attempt_question"),
    )


class WrongAnswer(Model):
    """错题本: a question a worker got wrong, until they answer it right enough times."""

    __tablename__ = "wrong_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id", ondelete="CASCADE"),
                                             index=True)
    times_wrong: Mapped[int] = mapped_column(default=0)
    last_wrong_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Right answers in a row since the last wrong one; the entry clears at CLEAR_AFTER.
    right_streak: Mapped[int] = mapped_column(default=0)
    cleared: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship()

    __table_args__ = (sa.UniqueConstraint("user_id", "question_id",
                                          name="uq_wrong_answers_user_question"),)
