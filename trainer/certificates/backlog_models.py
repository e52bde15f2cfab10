"""Exam sessions, backlog bookings and the reminder outbox (issue 5: backlog and reminders)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.models import User
from trainer.certificates.models import Certificate
from trainer.clock import utcnow
from trainer.db import Model


class ExamSession(Model):
    """A sitting of the formal exam: a day, a place (None = online), a number of seats, and
    which certificate types (selectors, empty = all) and region (code prefix, empty = all) it
    serves."""

    __tablename__ = "exam_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    place: Mapped[str | None] = mapped_column(sa.String(200))
    capacity: Mapped[int] = mapped_column()
    type_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    region_selector: Mapped[str] = mapped_column(sa.String(6), default="")
    notes: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("capacity >= 0", name="capacity"),)

    @property
    def online(self) -> bool:
        return not self.place


class BookingState:
    APPLIED = "applied"
    BOOKED = "booked"
    PASSED = "passed"
    FAILED = "failed"
    ALL = ("applied", "booked", "passed", "failed")


class BacklogBooking(Model):
    """A covered certificate's progress through the exam backlog: one row per certificate.

    ``applied``: training done and exam requested (the certificate's ``renewal_applied_on`` is
    set at the same time, so the status rules see it); ``booked``: a seat in ``session``;
    ``passed`` / ``failed``: the result (``result_on`` the day).
    """

    __tablename__ = "backlog_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="CASCADE"), unique=True
    )
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("exam_sessions.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(sa.String(10), index=True)
    applied_on: Mapped[dt.date | None] = mapped_column()
    result_on: Mapped[dt.date | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column()

    certificate: Mapped[Certificate] = relationship()
    session: Mapped[ExamSession | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "state in ('applied', 'booked', 'passed', 'failed')", name="state"
        ),
        sa.CheckConstraint("state <> 'booked' or session_id is not null", name="booked_session"),
    )


class ReminderOutbox(Model):
    """One reminder to one person on one channel. The unique key makes "never twice" a
    database fact: (certificate, kind, date reminded of, stage, recipient, channel)."""

    __tablename__ = "reminder_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(sa.String(10))
    kind: Mapped[str] = mapped_column(sa.String(20))
    certificate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[int] = mapped_column()
    due_on: Mapped[dt.date] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))

    recipient: Mapped[User] = relationship()
    certificate: Mapped[Certificate] = relationship()

    __table_args__ = (
        sa.UniqueConstraint(
            "certificate_id", "kind", "due_on", "stage", "recipient_id", "channel",
            name="uq_reminder_outbox_once",
        ),
        sa.CheckConstraint("channel in ('email', 'sms')", name="channel"),
        sa.CheckConstraint(
            "kind in ('due', 'holder_deadline', 'exam_deadline')", name="kind"
        ),
    )


# Declaring or lifting a suspension recomputes the certificates whose due date *or holder
# deadline* lies in its window (a deadline inside a later suspension is chained): with this
# index PostgreSQL answers that OR with index scans instead of reading the whole register.
sa.Index("ix_certificates_holder_deadline", Certificate.__table__.c.holder_deadline)
