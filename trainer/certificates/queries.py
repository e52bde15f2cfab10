"""Status as of a day X in SQL, over the stored timeline columns (see timelines.py).

``status_case(x)`` is ``rules.status_on`` written as a CASE; ``status_condition(status, x)``
is the same rule as a range condition per status, so filtering by status uses the indexes on
``renewal_opens_on``, ``due_on`` and ``valid_until`` instead of evaluating the CASE on every
row. Both rely on two invariants the timelines keep: ``renewal_opens_on ≤ due_on`` and, for a
covered certificate, V ≥ D (a deemed or extended date is never before the due date; for an
uncovered one V = D).

Revocation: a certificate is ``revoked`` as of X when ``revoked_on ≤ X`` (before that day it
had its ordinary status).

Only current certificates (not ``superseded`` by a renewal) are listed and counted by default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from trainer.certificates.models import Certificate, Suspension
from trainer.certificates.rules import Status
from trainer.certificates.timelines import DbSession
from trainer.spreadsheets import FORMULA_STARTS

C = Certificate.__table__.c

STATUSES = [s.value for s in Status]


def _revoked(x: dt.date) -> Any:
    return sa.and_(C.revoked_on.is_not(None), C.revoked_on <= x)


def _not_revoked(x: dt.date) -> Any:
    return sa.or_(C.revoked_on.is_(None), C.revoked_on > x)


def _still_deemed(x: dt.date) -> Any:
    return sa.and_(C.covered, sa.or_(C.valid_until.is_(None), C.valid_until >= x))


def status_case(x: dt.date) -> Any:
    """``rules.status_on`` as a SQL CASE over the stored timeline."""
    return sa.case(
        (_revoked(x), Status.REVOKED.value),
        (sa.and_(C.due_on >= x, C.renewal_opens_on <= x), Status.DUE_SOON.value),
        (C.due_on >= x, Status.VALID.value),
        (_still_deemed(x), Status.DEEMED_VALID.value),
        else_=Status.EXPIRED.value,
    )


def status_condition(status: str, x: dt.date) -> Any:
    """The rows whose status as of ``x`` is ``status``, as index-friendly ranges."""
    value = Status(status)
    if value is Status.REVOKED:
        return _revoked(x)
    if value is Status.DUE_SOON:
        return sa.and_(_not_revoked(x), C.due_on >= x, C.renewal_opens_on <= x)
    if value is Status.VALID:
        # renewal_opens_on ≤ due_on, so renewal_opens_on > x implies due_on > x; saying so
        # lets the planner walk the due_on index from x instead of from the oldest row.
        return sa.and_(_not_revoked(x), C.renewal_opens_on > x, C.due_on > x)
    if value is Status.DEEMED_VALID:
        return sa.and_(_not_revoked(x), C.due_on < x, _still_deemed(x))
    return sa.and_(_not_revoked(x), C.due_on < x, sa.not_(_still_deemed(x)))


@dataclass
class CertificateFilter:
    """The dashboard's filters. Empty values mean "any"."""

    as_of: dt.date
    region: str = ""
    employer_id: int | None = None
    type_code: str = ""
    status: str = ""
    due_within_days: int | None = None
    search: str = ""
    include_superseded: bool = False
    # Employer admins see their employer only (set by the view, not by the user).
    scope_employer_id: int | None = None
    extra: list[Any] = field(default_factory=list)

    def conditions(self, *, with_status: bool = True) -> list[Any]:
        out: list[Any] = list(self.extra)
        if not self.include_superseded:
            out.append(sa.not_(C.superseded))
        if self.scope_employer_id is not None:
            out.append(C.employer_id == self.scope_employer_id)
        if self.employer_id is not None:
            out.append(C.employer_id == self.employer_id)
        if self.region:
            out.append(region_condition(self.region))
        if self.type_code:
            out.append(type_condition(self.type_code))
        if self.due_within_days is not None:
            out.append(C.due_on >= self.as_of)
            out.append(C.due_on <= self.as_of + dt.timedelta(days=self.due_within_days))
        if self.search:
            text = self.search.strip()
            out.append(sa.or_(C.number == text, C.holder_name == text))
        if with_status and self.status:
            out.append(status_condition(self.status, self.as_of))
        return out


def region_condition(selector: str) -> Any:
    """Codes starting with the selector's prefix (``34`` covers ``340104``), as a range so a
    B-tree index serves it whatever the database collation."""
    prefix = selector.strip()
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    if len(prefix) >= 6:
        return C.region_code == prefix[:6]
    return sa.and_(C.region_code >= prefix, C.region_code < prefix + "a")


def type_condition(selector: str) -> Any:
    """``1`` covers ``1`` and ``1.x``; an exact code matches itself."""
    code = selector.strip()
    return sa.or_(C.type_code == code, C.type_code.like(code.replace("%", "") + ".%"))


def counts_by_status(session: DbSession, filters: CertificateFilter) -> dict[str, int]:
    """Counts per status as of ``filters.as_of`` (the status filter itself is ignored)."""
    label = status_case(filters.as_of).label("status")
    query = (
        sa.select(label, sa.func.count())
        .select_from(Certificate.__table__)
        .where(*filters.conditions(with_status=False))
        .group_by(label)
    )
    found = {status: 0 for status in STATUSES}
    for status, count in session.execute(query):
        found[status] = int(count)
    return found


def list_query(filters: CertificateFilter) -> Any:
    """Certificates matching the filters, with their status as of the day, by due date
    (soonest first; for expired and revoked, the most recent first)."""
    query = sa.select(Certificate, status_case(filters.as_of).label("status")).where(
        *filters.conditions())
    if filters.status in {Status.EXPIRED.value, Status.REVOKED.value}:
        # The most recently lapsed first (a backward walk of the due_on index).
        return query.order_by(Certificate.due_on.desc(), Certificate.id.desc())
    return query.order_by(Certificate.due_on, Certificate.id)


def page(
    session: DbSession, filters: CertificateFilter, page_number: int, per_page: int = 50
) -> tuple[list[tuple[Certificate, str]], bool]:
    """One page of the list, and whether there is a next page (no COUNT over the table)."""
    offset = max(page_number - 1, 0) * per_page
    rows = session.execute(list_query(filters).offset(offset).limit(per_page + 1)).all()
    return [(row[0], row[1]) for row in rows[:per_page]], len(rows) > per_page


EXPORT_COLUMNS = ["number", "status", "valid_until", "holder_deadline", "exam_deadline",
                  "suspension"]


def export_rows(
    session: DbSession, filters: CertificateFilter, batch: int = 5000
) -> Iterator[list[str]]:
    """The export's rows (header first), streamed in keyset batches: memory stays flat.

    ``valid_until`` is empty while open-ended; dates ISO; empty when not applicable. The
    suspension is reported for covered certificates once their due date has passed.
    """
    yield list(EXPORT_COLUMNS)
    x = filters.as_of
    names = dict(session.execute(sa.select(Suspension.id, Suspension.name)).all())
    status = status_case(x).label("status")
    columns = [C.id, C.number, status, C.due_on, C.covered, C.suspension_id, C.valid_until,
               C.holder_deadline, C.exam_deadline]
    conditions = filters.conditions()
    last_id = 0
    while True:
        rows = session.execute(
            sa.select(*columns).where(*conditions, C.id > last_id).order_by(C.id).limit(batch)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        for row in rows:
            yield export_row(row, names)


def export_select(filters: CertificateFilter) -> Any:
    """The export as one SELECT producing its text columns (PostgreSQL), for COPY … TO STDOUT:
    the database writes the CSV, so a million rows stream without Python touching each one.
    Same rows, order and text as ``export_rows`` (a test compares them)."""
    x = filters.as_of
    names = (
        sa.select(Suspension.name)
        .where(Suspension.id == C.suspension_id)
        .scalar_subquery()
    )

    def day(column: Any) -> Any:
        return sa.func.to_char(column, "YYYY-MM-DD")

    number = sa.case(
        (sa.func.substr(C.number, 1, 1).in_(FORMULA_STARTS), sa.literal("'") + C.number),
        else_=C.number,
    )
    return (
        sa.select(
            number.label("number"),
            status_case(x).label("status"),
            day(C.valid_until).label("valid_until"),
            day(C.holder_deadline).label("holder_deadline"),
            day(C.exam_deadline).label("exam_deadline"),
            sa.case((sa.and_(C.covered, C.suspension_id.is_not(None)), names),
                    else_=None).label("suspension"),
        )
        .where(*filters.conditions())
        .order_by(C.id)
    )


def export_row(row: Any, suspension_names: dict[int, str]) -> list[str]:
    suspension = ""
    if row.covered and row.suspension_id is not None:
        suspension = suspension_names.get(row.suspension_id, "")
    return [
        row.number,
        row.status,
        _iso(row.valid_until),
        _iso(row.holder_deadline),
        _iso(row.exam_deadline),
        suspension,
    ]


def _iso(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # SQLite hands back text for computed dates
        return value
    return str(value.isoformat())
