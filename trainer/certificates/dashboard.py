"""Figures for the expiry dashboard: due-per-month chart and key posts without a valid holder.

All aggregation happens in SQL; Python only shapes a few dozen numbers for the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from trainer.accounts.models import Employer
from trainer.certificates.models import Certificate, CertificateType, Suspension
from trainer.certificates.queries import C, CertificateFilter, status_case
from trainer.certificates.rules import Status, add_months
from trainer.certificates.timelines import DbSession

MONTHS = 24


def _month_key(session: DbSession, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.strftime("%Y-%m", column)
    return sa.func.to_char(column, "YYYY-MM")


@dataclass
class MonthBar:
    month: str  # YYYY-MM
    count: int


@dataclass
class Window:
    name: str
    start_index: float  # months from the chart's first month (fractional)
    end_index: float
    ongoing: bool


@dataclass
class DueChart:
    bars: list[MonthBar]
    windows: list[Window]
    peak: int


def due_per_month(session: DbSession, filters: CertificateFilter, months: int = MONTHS
                  ) -> DueChart:
    """Certificates whose due date falls in each of the next ``months`` months (from the
    as-of day's month), and the suspension windows overlapping that span."""
    first = filters.as_of.replace(day=1)
    end = add_months(first, months)
    key = _month_key(session, C.due_on).label("month")
    query = (
        sa.select(key, sa.func.count())
        .select_from(Certificate.__table__)
        .where(*filters.conditions(with_status=False), C.due_on >= first, C.due_on < end)
        .group_by(key)
    )
    counts = {str(month): int(count) for month, count in session.execute(query)}
    bars = []
    for index in range(months):
        month = add_months(first, index)
        label = f"{month.year:04d}-{month.month:02d}"
        bars.append(MonthBar(label, counts.get(label, 0)))
    windows = []
    for row in session.scalars(
        sa.select(Suspension).where(
            Suspension.start_on < end,
            sa.or_(Suspension.lift_on.is_(None), Suspension.lift_on >= first),
        ).order_by(Suspension.start_on)
    ):
        start = max(row.start_on, first)
        stop = min(row.lift_on or end, end)
        windows.append(Window(row.name, _month_position(first, start),
                              _month_position(first, stop + dt.timedelta(days=1)),
                              row.lift_on is None))
    return DueChart(bars, windows, max([b.count for b in bars] + [1]))


def _month_position(first: dt.date, day: dt.date) -> float:
    months = (day.year - first.year) * 12 + day.month - first.month
    start = first.replace(year=day.year, month=day.month)
    length = (add_months(start, 1) - start).days
    return months + (day.day - 1) / length


@dataclass
class KeyPostGap:
    employer_id: int
    employer_name: str
    type_code: str
    type_name: str
    holders: int  # certificates of this type at this employer (none currently valid)


VALID_STATUSES = (Status.VALID.value, Status.DUE_SOON.value, Status.DEEMED_VALID.value)


def key_posts_without_valid_holder(
    session: DbSession, filters: CertificateFilter, locale: str | None
) -> list[KeyPostGap]:
    """Per employer and certificate type: posts where no certificate is valid as of the day
    (valid, due soon or deemed valid) although the employer has holders of that type."""
    status = status_case(filters.as_of)
    valid = sa.func.sum(sa.case((status.in_(VALID_STATUSES), 1), else_=0))
    query = (
        sa.select(C.employer_id, C.type_code, sa.func.count().label("holders"))
        .where(*filters.conditions(with_status=False), C.employer_id.is_not(None))
        .group_by(C.employer_id, C.type_code)
        .having(valid == 0)
        .order_by(C.employer_id, C.type_code)
        .limit(500)
    )
    rows = session.execute(query).all()
    if not rows:
        return []
    names = {
        employer_id: name
        for employer_id, name in session.execute(
            sa.select(Employer.id, Employer.name).where(
                Employer.id.in_({r.employer_id for r in rows})))
    }
    types = {t.code: t.name(locale) for t in session.scalars(sa.select(CertificateType))}
    return [KeyPostGap(r.employer_id, names.get(r.employer_id, ""), r.type_code,
                       types.get(r.type_code, r.type_code), int(r.holders)) for r in rows]
