"""What instructors and admins see of exams: who is sitting one now, results by exam and by
employer (with exports), one attempt in detail.

Scope: instructors and admins see every worker; an employer admin sees only the attempts of
their own employer's people (others' attempts do not exist for them). Read-only except for the
views' extra-time form, which goes through ``trainer.exams.services.grant_extra_time``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from trainer.accounts.models import Employer, User
from trainer.accounts.rules import Role
from trainer.clock import local_zone
from trainer.db import db
from trainer.exams import rules
from trainer.exams.models import (
    EXPIRED,
    IN_PROGRESS,
    SUBMITTED,
    AttemptQuestion,
    Exam,
    ExamAttempt,
)
from trainer.spreadsheets import safe_cell

CLOSED = (SUBMITTED, EXPIRED)
EXPORT_LIMIT = 100_000


def scoped(query: sa.Select[Any], actor: User) -> sa.Select[Any]:
    """Limit a query that joins ``User`` (the taker) to what ``actor`` may see."""
    if actor.role == Role.EMPLOYER_ADMIN:
        return query.where(User.employer_id == actor.employer_id)
    if actor.role in (Role.ADMIN, Role.INSTRUCTOR):
        return query
    return query.where(sa.false())


def visible_attempt(attempt_id: int, actor: User) -> ExamAttempt | None:
    """The attempt when ``actor`` may see it; None (a 404) otherwise."""
    query = scoped(sa.select(ExamAttempt).join(User, User.id == ExamAttempt.user_id)
                   .where(ExamAttempt.id == attempt_id), actor)
    return db.session.scalar(query)


def answered_count() -> Any:
    """SQL: 1 for a saved, non-empty response (a cleared answer is stored as JSON null)."""
    return sa.func.count(sa.case(
        (sa.cast(AttemptQuestion.response, sa.Text) != "null", AttemptQuestion.id)))


# -- who is sitting an exam now --------------------------------------------------------------

@dataclass
class LiveRow:
    attempt: ExamAttempt
    seconds_left: float
    answered: int
    total: int


def live_attempts(actor: User, now: dt.datetime, exam_id: int | None = None) -> list[LiveRow]:
    """Attempts in progress whose time (with extra time and grace) has not run out."""
    counts = (sa.select(AttemptQuestion.attempt_id, answered_count().label("answered"),
                        sa.func.count(AttemptQuestion.id).label("total"))
              .group_by(AttemptQuestion.attempt_id).subquery())
    query = (sa.select(ExamAttempt, counts.c.answered, counts.c.total)
             .join(User, User.id == ExamAttempt.user_id)
             .join(Exam, Exam.id == ExamAttempt.exam_id)
             .outerjoin(counts, counts.c.attempt_id == ExamAttempt.id)
             .where(ExamAttempt.status == IN_PROGRESS)
             .options(sa.orm.contains_eager(ExamAttempt.user), sa.orm.contains_eager(ExamAttempt.exam))
             .order_by(ExamAttempt.started_at, ExamAttempt.id))
    if exam_id is not None:
        query = query.where(ExamAttempt.exam_id == exam_id)
    rows = []
    for attempt, answered, total in db.session.execute(scoped(query, actor)):
        if rules.is_overdue(attempt.effective_deadline, attempt.exam.grace_seconds, now):
            continue  # over: closed on its next access or by `trainer exams close-overdue`
        rows.append(LiveRow(attempt, rules.seconds_left(attempt.effective_deadline, now),
                            answered or 0, total or 0))
    return rows


# -- results ----------------------------------------------------------------------------

@dataclass
class Filters:
    exam_id: int | None = None
    employer_id: int | None = None
    outcome: str = ""  # "", "passed", "failed"


def results_query(actor: User, filters: Filters) -> sa.Select[Any]:
    """Closed attempts (submitted or expired), newest first, with taker and exam loaded."""
    query = (sa.select(ExamAttempt)
             .join(User, User.id == ExamAttempt.user_id)
             .join(Exam, Exam.id == ExamAttempt.exam_id)
             .where(ExamAttempt.status.in_(CLOSED))
             .options(sa.orm.contains_eager(ExamAttempt.user).joinedload(User.employer),
                      sa.orm.contains_eager(ExamAttempt.exam)))
    query = _filtered(query, filters)
    return scoped(query, actor).order_by(ExamAttempt.submitted_at.desc(), ExamAttempt.id.desc())


def _filtered(query: sa.Select[Any], filters: Filters) -> sa.Select[Any]:
    if filters.exam_id is not None:
        query = query.where(ExamAttempt.exam_id == filters.exam_id)
    if filters.employer_id is not None:
        query = query.where(User.employer_id == filters.employer_id)
    if filters.outcome == "passed":
        query = query.where(ExamAttempt.passed.is_(True))
    elif filters.outcome == "failed":
        query = query.where(sa.or_(ExamAttempt.passed.is_(False), ExamAttempt.passed.is_(None)))
    return query


@dataclass
class Summary:
    key: int | None
    label: str
    attempts: int
    passed: int
    average: float | None

    @property
    def pass_rate(self) -> float:
        return self.passed / self.attempts if self.attempts else 0.0


def _summary(actor: User, filters: Filters, key: Any, label: Any,
             outer: bool) -> list[Summary]:
    query = (sa.select(key, label, sa.func.count(ExamAttempt.id),
                       sa.func.count(sa.case((ExamAttempt.passed.is_(True), ExamAttempt.id))),
                       sa.func.avg(ExamAttempt.score))
             .select_from(ExamAttempt)
             .join(User, User.id == ExamAttempt.user_id)
             .join(Exam, Exam.id == ExamAttempt.exam_id))
    if outer:
        query = query.outerjoin(Employer, Employer.id == User.employer_id)
    query = _filtered(query.where(ExamAttempt.status.in_(CLOSED)), filters)
    query = scoped(query, actor).group_by(key, label).order_by(label)
    return [Summary(k, name or "—", n, passed, None if avg is None else round(float(avg), 1))
            for k, name, n, passed, avg in db.session.execute(query)]


def by_exam(actor: User, filters: Filters) -> list[Summary]:
    return _summary(actor, filters, Exam.id, Exam.title, outer=False)


def by_employer(actor: User, filters: Filters) -> list[Summary]:
    return _summary(actor, filters, Employer.id, Employer.name, outer=True)


def exams_with_attempts(actor: User) -> list[Exam]:
    """Exams any visible worker has attempted, for the filter menus."""
    ids = scoped(sa.select(ExamAttempt.exam_id).join(User, User.id == ExamAttempt.user_id)
                 .distinct(), actor)
    return list(db.session.scalars(sa.select(Exam).where(Exam.id.in_(ids))
                                   .order_by(Exam.title, Exam.id)))


def employers_for(actor: User) -> list[Employer]:
    query = sa.select(Employer).order_by(Employer.name)
    if actor.role == Role.EMPLOYER_ADMIN:
        query = query.where(Employer.id == actor.employer_id)
    return list(db.session.scalars(query))


# -- export ------------------------------------------------------------------------------

EXPORT_HEADER = (
    _l("Worker"), _l("Mobile number"), _l("Username"), _l("Employer"), _l("Exam"),
    _l("Certificate type"), _l("Attempt"), _l("Started"), _l("Finished"), _l("Status"),
    _l("Score"), _l("Passed"),
)


def status_label(status: str) -> str:
    return str({IN_PROGRESS: _l("In progress"), SUBMITTED: _l("Submitted"),
                EXPIRED: _l("Closed at the deadline")}.get(status, status))


def _local(value: dt.datetime | None) -> dt.datetime | None:
    # Spreadsheets have no time zones: the platform's local time, without tzinfo.
    return value.astimezone(local_zone()).replace(tzinfo=None, microsecond=0) if value else None


def export_rows(attempts: Iterable[ExamAttempt]) -> Iterable[list[Any]]:
    yes, no = str(_l("yes")), str(_l("no"))
    for a in attempts:
        user = a.user
        yield [user.name, user.phone or "", user.username or "",
               user.employer.name if user.employer else "", a.exam.title,
               a.exam.certificate_type or "", a.number, _local(a.started_at),
               _local(a.submitted_at), status_label(a.status),
               a.score, "" if a.passed is None else (yes if a.passed else no)]


def to_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else
                         (v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime)
                          else safe_cell(v)) for v in row])
    # A byte-order mark, so Excel on Chinese Windows opens UTF-8 instead of guessing GBK.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[Any], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([str(h) for h in header])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
