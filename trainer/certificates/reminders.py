"""Reminders: the outbox, its senders, and the cron run (``trainer certificates remind``).

What is due comes from the pure ``reminder_rules`` (stages, catch-up policy: only the most recent
due stage). Each reminder goes to the holder and to their employer's admins, one outbox row per
recipient and channel (SMS when the person has a mobile number, else e-mail); the outbox's
unique key means a reminder is recorded, hence sent, once whatever the number of runs.

Senders sit behind ``Sender``: ``console`` (the default: prints the message), ``smtp`` (e-mail
through the TRAINER_SMTP_* settings) and ``sms_log_stub`` (writes the SMS to the log and sends
nothing: a placeholder until an SMS gateway contract exists, named so nobody mistakes it).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from trainer.accounts.models import User
from trainer.accounts.rules import Role
from trainer.certificates import reminder_rules
from trainer.certificates.backlog_models import BacklogBooking, BookingState, ReminderOutbox
from trainer.certificates.models import Certificate
from trainer.clock import utcnow
from trainer.db import db

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
_IN_QUEUE = (BookingState.APPLIED, BookingState.BOOKED, BookingState.FAILED)
_CHUNK = 5000


def stages() -> tuple[int, ...]:
    return reminder_rules.parse_stages(current_app.config.get("REMINDER_STAGES") or "90,60,30,7")


# --- deciding and enqueueing ----------------------------------------------------------------


@dataclass
class EnqueueResult:
    certificates: int = 0
    enqueued: int = 0
    already: int = 0


def _candidates(today: dt.date, end: dt.date) -> Any:
    """Certificates with a date to remind of in [today, end] (the SQL pre-filter)."""
    def within(column: Any) -> Any:
        return sa.and_(column >= today, column <= end)

    return (
        sa.select(Certificate.id, Certificate.due_on, Certificate.renewal_applied_on,
                  Certificate.holder_deadline, Certificate.exam_deadline,
                  Certificate.holder_user_id, Certificate.employer_id, BacklogBooking.state)
        .outerjoin(BacklogBooking, BacklogBooking.certificate_id == Certificate.id)
        .where(Certificate.revoked_on.is_(None), sa.not_(Certificate.superseded),
               sa.or_(Certificate.holder_user_id.is_not(None), Certificate.employer_id.is_not(None)),
               sa.or_(within(Certificate.due_on), within(Certificate.holder_deadline),
                      within(Certificate.exam_deadline)))
        .order_by(Certificate.id)
    )


def channel_of(user: User) -> str:
    return "sms" if user.phone else "email"


def enqueue_due(today: dt.date) -> EnqueueResult:
    """Add today's due reminders to the outbox. Flushes; the caller commits."""
    chosen = stages()
    result = EnqueueResult()
    admins: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for user_id, employer_id, phone in db.session.execute(
            sa.select(User.id, User.employer_id, User.phone)
            .where(User.role == Role.EMPLOYER_ADMIN, User.active)):
        if employer_id is not None:
            admins[employer_id].append((user_id, "sms" if phone else "email"))
    holders: dict[int, str] = {}
    rows = db.session.execute(_candidates(today, reminder_rules.window_end(today, chosen))).all()
    holder_ids = {r.holder_user_id for r in rows if r.holder_user_id}
    for start in range(0, len(holder_ids), _CHUNK):
        chunk = list(holder_ids)[start:start + _CHUNK]
        for user_id, phone in db.session.execute(
                sa.select(User.id, User.phone).where(User.id.in_(chunk), User.active)):
            holders[user_id] = "sms" if phone else "email"
    wanted: list[dict[str, Any]] = []
    for row in rows:
        subject = reminder_rules.ReminderSubject(
            certificate_id=row.id, due_on=row.due_on,
            renewal_applied=row.renewal_applied_on is not None,
            holder_deadline=row.holder_deadline,
            applied=row.renewal_applied_on is not None or row.state in _IN_QUEUE,
            exam_deadline=row.exam_deadline, exam_passed=row.state == BookingState.PASSED)
        due = reminder_rules.reminders_due(subject, today, chosen)
        if not due:
            continue
        result.certificates += 1
        recipients = []
        if row.holder_user_id in holders:
            recipients.append((row.holder_user_id, holders[row.holder_user_id]))
        recipients += admins.get(row.employer_id, []) if row.employer_id else []
        for reminder in due:
            for user_id, channel in recipients:
                wanted.append({"certificate_id": row.id, "kind": reminder.kind.value,
                               "due_on": reminder.deadline, "stage": reminder.stage,
                               "recipient_id": user_id, "channel": channel})
    result.enqueued, result.already = _insert_new(wanted)
    return result


def _insert_new(wanted: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert the rows whose unique key is not in the outbox yet: (inserted, present)."""
    def key(row: Any) -> tuple[Any, ...]:
        return (row["certificate_id"], row["kind"], row["due_on"], row["stage"],
                row["recipient_id"], row["channel"])

    unique = list({key(r): r for r in wanted}.values())
    inserted = present = 0
    now = utcnow()
    table = cast(sa.Table, ReminderOutbox.__table__)
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        ids = {r["certificate_id"] for r in chunk}
        existing = {
            tuple(r) for r in db.session.execute(
                sa.select(table.c.certificate_id, table.c.kind, table.c.due_on, table.c.stage,
                          table.c.recipient_id, table.c.channel)
                .where(table.c.certificate_id.in_(ids))).all()
        }
        fresh = [dict(r, created_at=now, attempts=0) for r in chunk if key(r) not in existing]
        present += len(chunk) - len(fresh)
        if fresh:
            db.session.execute(_insert_ignoring_duplicates(), fresh)
            inserted += len(fresh)
    return inserted, present


def _insert_ignoring_duplicates() -> Any:
    """INSERT … ON CONFLICT DO NOTHING, so a concurrent run cannot make a duplicate either."""
    dialect = db.session.get_bind().dialect.name
    table = cast(sa.Table, ReminderOutbox.__table__)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    return sa.insert(table)


# --- senders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    channel: str
    recipient_name: str
    phone: str | None
    email: str | None
    subject: str
    body: str


class SendError(Exception):
    """The message could not be handed over; it stays pending (up to MAX_ATTEMPTS)."""


class Sender(Protocol):
    def send(self, message: Outgoing) -> None: ...


class ConsoleSender:
    """Prints the message (the default: development, and a log for cron)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream

    def send(self, message: Outgoing) -> None:
        to = message.phone or message.email or message.recipient_name
        print(f"[reminder {message.channel} to {to}] {message.subject}: {message.body}",
              file=self.stream or sys.stdout)


class SmtpEmailSender:
    """E-mail through an SMTP server: TRAINER_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, message: Outgoing) -> None:
        if not message.email:
            raise SendError("no e-mail address on file")
        host = self.config.get("SMTP_HOST")
        if not host:
            raise SendError("TRAINER_SMTP_HOST is not set")
        mail = EmailMessage()
        mail["From"] = self.config.get("SMTP_FROM") or "trainer@localhost"
        mail["To"] = message.email
        mail["Subject"] = message.subject
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(host, int(self.config.get("SMTP_PORT") or 25), timeout=30) as smtp:
                if self.config.get("SMTP_USER"):
                    smtp.starttls()
                    smtp.login(self.config["SMTP_USER"], self.config.get("SMTP_PASSWORD") or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise SendError(f"SMTP: {error}") from error


class SmsLogStub:
    """NOT an SMS gateway: writes the SMS to the application log and sends nothing."""

    def send(self, message: Outgoing) -> None:
        if not message.phone:
            raise SendError("no mobile number on file")
        log.info("SMS stub (not sent) to %s: %s", message.phone, message.body)


def sender_for(channel: str) -> Sender:
    config = current_app.config
    name = (config.get("REMINDER_SMS_SENDER") if channel == "sms"
            else config.get("REMINDER_EMAIL_SENDER")) or "console"
    if name == "smtp" and channel == "email":
        return SmtpEmailSender(config)
    if name == "sms_log_stub" and channel == "sms":
        return SmsLogStub()
    return ConsoleSender()


# --- messages and sending -------------------------------------------------------------------


def message_text(row: ReminderOutbox, today: dt.date) -> tuple[str, str]:
    """(subject, body) in the recipient's language."""
    cert = row.certificate
    days = max(0, (row.due_on - today).days)
    values = {"number": cert.number, "holder": cert.holder_name, "type": cert.type_code,
              "date": row.due_on.isoformat(), "days": days}
    if row.kind == reminder_rules.ReminderKind.HOLDER_DEADLINE:
        subject = _("Certificate %(number)s: train and apply by %(date)s", **values)
        body = _("%(holder)s, certificate %(number)s (%(type)s) is deemed valid after the "
                 "suspension: complete the refresher training and apply for the exam by %(date)s "
                 "(%(days)s days left), or it expires.", **values)
    elif row.kind == reminder_rules.ReminderKind.EXAM_DEADLINE:
        subject = _("Certificate %(number)s: exam by %(date)s", **values)
        body = _("%(holder)s, the exam for certificate %(number)s (%(type)s) must be taken by "
                 "%(date)s (%(days)s days left). Check your booked exam session.", **values)
    else:
        subject = _("Certificate %(number)s due on %(date)s", **values)
        body = _("%(holder)s, certificate %(number)s (%(type)s) is due for review or renewal on "
                 "%(date)s (%(days)s days left). Apply within the renewal window.", **values)
    return subject, body


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    pending: int = 0


def send_pending(today: dt.date | None = None, limit: int = 10000) -> SendResult:
    """Send outbox rows not yet sent (each at most MAX_ATTEMPTS times). Flushes."""
    from trainer.clock import today as local_today

    day = today or local_today()
    result = SendResult()
    rows = db.session.scalars(
        sa.select(ReminderOutbox)
        .where(ReminderOutbox.sent_at.is_(None), ReminderOutbox.attempts < MAX_ATTEMPTS)
        .order_by(ReminderOutbox.id).limit(limit)).all()
    default_locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    senders: dict[str, Sender] = {}
    for row in rows:
        user = row.recipient
        with force_locale(user.locale or default_locale):
            subject, body = message_text(row, day)
        message = Outgoing(row.channel, user.name, user.phone, getattr(user, "email", None),
                           subject, body)
        sender = senders.setdefault(row.channel, sender_for(row.channel))
        row.attempts += 1
        try:
            sender.send(message)
        except SendError as error:
            row.last_error = str(error)[:300]
            result.failed += 1
            continue
        row.sent_at = utcnow()
        row.last_error = None
        result.sent += 1
    db.session.flush()
    result.pending = db.session.scalar(
        sa.select(sa.func.count()).select_from(ReminderOutbox)
        .where(ReminderOutbox.sent_at.is_(None), ReminderOutbox.attempts < MAX_ATTEMPTS)) or 0
    return result


def for_user(user_id: int, limit: int = 20) -> list[ReminderOutbox]:
    """A person's latest reminders (for their certificates page)."""
    return list(db.session.scalars(
        sa.select(ReminderOutbox).where(ReminderOutbox.recipient_id == user_id)
        .order_by(ReminderOutbox.created_at.desc(), ReminderOutbox.id.desc()).limit(limit)))


def kinds_label(kind: str) -> str:
    labels = {
        "due": _("Due date"),
        "holder_deadline": _("Train and apply by"),
        "exam_deadline": _("Exam by"),
    }
    return labels.get(kind, kind)


def delivered(rows: Iterable[ReminderOutbox]) -> int:
    return sum(1 for r in rows if r.sent_at is not None)
