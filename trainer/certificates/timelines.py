"""Keep each certificate's stored timeline columns equal to ``rules.timeline()``.

Why stored columns rather than SQL CASE over suspensions
--------------------------------------------------------
The contract needs working-day counting with the China holiday calendar and admin overrides
by region, chained suspensions and "the one giving the latest V": none of that fits a SQL
expression without re-implementing rules.py in two dialects. What depends on the day asked
about (X) is only a few comparisons (``rules.status_on``), so we store the X-independent
part (D, V, T, E, the applying suspension) per certificate, computed by the pure function
itself, and the status as of any X is a CASE on indexed columns (``queries.status_case``).
The pure function stays the single truth; SQL only compares dates.

When the columns change
-----------------------
- a certificate is written through the services: ``apply(cert, context)``;
- a suspension or calendar override is added, edited, lifted or deleted, or a type's renewal
  window changes: ``refresh(session)`` (what ``trainer certificates refresh`` runs; the
  suspension admin calls it after every change).

``refresh`` is set-based where it can be: the plain case (no suspension window contains D) is
one UPDATE per column group in SQL, and only certificates whose due date lies inside some
suspension window (or that were covered before) go through Python, in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

from trainer.certificates import rules
from trainer.certificates.calendar import WorkCalendar, normalize_region_selector
from trainer.certificates.models import (
    CalendarOverride,
    Certificate,
    CertificateType,
    Suspension,
)

# Flask-SQLAlchemy hands out a scoped session; both work here.
DbSession = Session | scoped_session[Any]

BATCH = 5000

TIMELINE_COLUMNS = (
    "due_on",
    "renewal_opens_on",
    "covered",
    "suspension_id",
    "valid_until",
    "holder_deadline",
    "exam_deadline",
    "awaiting_exam_since",
    "provisional",
)


@dataclass
class RuleContext:
    """What computing timelines needs, loaded once per request or command."""

    calendar: WorkCalendar
    suspensions: list[rules.Suspension]
    suspension_ids: dict[str, int]
    windows: dict[str, int]
    # Suspensions whose stored fields do not make a valid rule (reported, not applied).
    problems: list[str] = field(default_factory=list)


def load_calendar(session: DbSession) -> WorkCalendar:
    overrides = session.scalars(sa.select(CalendarOverride).order_by(CalendarOverride.id))
    return WorkCalendar([o.to_rule() for o in overrides])


def load_context(session: DbSession) -> RuleContext:
    suspensions: list[rules.Suspension] = []
    ids: dict[str, int] = {}
    problems: list[str] = []
    for row in session.scalars(sa.select(Suspension).order_by(Suspension.id)):
        try:
            rule = row.to_rule()
        except ValueError as error:
            problems.append(str(error))
            continue
        suspensions.append(rule)
        ids[row.name] = row.id
    windows = {
        code: days
        for code, days in session.execute(
            sa.select(CertificateType.code, CertificateType.renewal_window_days)
        )
    }
    return RuleContext(load_calendar(session), suspensions, ids, windows, problems)


def facts_of(row: Any) -> rules.CertificateFacts:
    return rules.CertificateFacts(
        type_code=row.type_code,
        region_code=row.region_code,
        expires_on=row.expires_on,
        review_due_on=row.review_due_on,
        revoked=row.revoked_on is not None,
        applied_on=row.renewal_applied_on,
    )


def compute(row: Any, context: RuleContext) -> dict[str, Any]:
    """The stored timeline columns for one certificate (ORM object or row with its facts)."""
    line = rules.timeline(facts_of(row), context.suspensions, context.calendar)
    window = context.windows.get(row.type_code, 60)
    return {
        "due_on": line.due_on,
        "renewal_opens_on": line.due_on - dt.timedelta(days=window),
        "covered": line.covered,
        "suspension_id": context.suspension_ids.get(line.suspension) if line.suspension else None,
        "valid_until": line.valid_until,
        "holder_deadline": line.holder_deadline,
        "exam_deadline": line.exam_deadline,
        "awaiting_exam_since": line.awaiting_exam_since,
        "provisional": line.provisional,
    }


def apply(cert: Certificate, context: RuleContext) -> None:
    for key, value in compute(cert, context).items():
        setattr(cert, key, value)


def _days_before(session: DbSession, column: Any, days: Any) -> Any:
    """``column - days`` for a DATE column and an integer expression, in the dialect's form."""
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.date(column, sa.literal("-") + sa.cast(days, sa.String) + " days")
    return column - days


def _window_expr() -> Any:
    return (
        sa.select(CertificateType.renewal_window_days)
        .where(CertificateType.code == Certificate.type_code)
        .scalar_subquery()
    )


def _in_some_window(suspensions: Sequence[rules.Suspension]) -> Any:
    """SQL: the due date lies inside at least one suspension's window and scope.

    A superset is fine (Python decides), a subset is not: the scope test here is the same
    prefix rule as ``Suspension.applies_to``.
    """
    table = Certificate.__table__
    conditions = []
    for s in suspensions:
        parts = [table.c.due_on >= s.start]
        if s.lift is not None:
            parts.append(table.c.due_on <= s.lift)
        if s.region_selectors:
            parts.append(sa.or_(*[_region_prefix(table, r) for r in s.region_selectors]))
        if s.type_selectors:
            parts.append(sa.or_(*[
                sa.or_(table.c.type_code == t, table.c.type_code.like(t + ".%"))
                for t in s.type_selectors]))
        conditions.append(sa.and_(*parts))
    return sa.or_(*conditions) if conditions else sa.false()


def _region_prefix(table: Any, selector: str) -> Any:
    prefix = normalize_region_selector(selector)
    if len(prefix) == 6:
        return table.c.region_code == prefix
    # A range rather than LIKE, so the B-tree index serves it whatever the collation.
    return sa.and_(table.c.region_code >= prefix, table.c.region_code < prefix + "a")


@dataclass
class RefreshResult:
    due_dates_changed: int = 0
    windows_changed: int = 0
    reset_uncovered: int = 0
    examined: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Due dates recomputed: {self.due_dates_changed} changed.",
            f"Renewal windows recomputed: {self.windows_changed} changed.",
            f"Certificates no longer covered by a suspension: {self.reset_uncovered}.",
            f"Certificates due inside a suspension window examined: {self.examined}, "
            f"timelines changed: {self.updated}.",
        ]
        out += [f"Suspension skipped: {problem}" for problem in self.problems]
        return out


def refresh(session: DbSession, context: RuleContext | None = None) -> RefreshResult:
    """Bring every certificate's timeline columns up to date. Idempotent; flushes, no commit."""
    session.flush()
    context = context or load_context(session)
    result = RefreshResult(problems=list(context.problems))
    table: sa.Table = Certificate.__table__  # type: ignore[assignment]
    due = sa.case(
        (
            sa.and_(
                table.c.review_due_on.is_not(None),
                table.c.review_due_on < table.c.expires_on,
            ),
            table.c.review_due_on,
        ),
        else_=table.c.expires_on,
    )
    result.due_dates_changed = _rowcount(
        session.execute(sa.update(table).where(table.c.due_on != due).values(due_on=due))
    )
    opens = _days_before(session, table.c.due_on, _window_expr())
    result.windows_changed = _rowcount(
        session.execute(
            sa.update(table).where(table.c.renewal_opens_on != opens).values(renewal_opens_on=opens)
        )
    )
    in_window = _in_some_window(context.suspensions)
    # Outside every window nothing can cover D: V = D and no suspension fields.
    result.reset_uncovered = _rowcount(
        session.execute(
            sa.update(table)
            .where(
                sa.not_(in_window),
                sa.or_(
                    table.c.covered,
                    table.c.suspension_id.is_not(None),
                    table.c.valid_until.is_(None),
                    table.c.valid_until != table.c.due_on,
                    table.c.holder_deadline.is_not(None),
                    table.c.exam_deadline.is_not(None),
                    table.c.awaiting_exam_since.is_not(None),
                    table.c.provisional,
                ),
            )
            .values(
                covered=False,
                suspension_id=None,
                valid_until=table.c.due_on,
                holder_deadline=None,
                exam_deadline=None,
                awaiting_exam_since=None,
                provisional=False,
            )
        )
    )
    examined, updated = _recompute(session, context, in_window)
    result.examined, result.updated = examined, updated
    # Core UPDATEs bypass the identity map: loaded certificates must re-read their columns.
    session.expire_all()
    return result


def refresh_certificates(
    session: DbSession, where: Any, context: RuleContext | None = None
) -> tuple[int, int]:
    """Recompute the timelines of the certificates matching ``where`` (a SQL condition)."""
    session.flush()
    counts = _recompute(session, context or load_context(session), where)
    session.expire_all()
    return counts


def _recompute(session: DbSession, context: RuleContext, where: Any) -> tuple[int, int]:
    table: sa.Table = Certificate.__table__  # type: ignore[assignment]
    fact_columns = [
        table.c.id,
        table.c.type_code,
        table.c.region_code,
        table.c.expires_on,
        table.c.review_due_on,
        table.c.revoked_on,
        table.c.renewal_applied_on,
    ]
    stored = [table.c[name] for name in TIMELINE_COLUMNS]
    examined = 0
    changes: list[dict[str, Any]] = []
    last_id = 0
    updated = 0
    while True:
        rows = session.execute(
            sa.select(*fact_columns, *stored)
            .where(where, table.c.id > last_id)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        for row in rows:
            examined += 1
            new = compute(row, context)
            if any(getattr(row, key) != value for key, value in new.items()):
                change = {"v_" + key: value for key, value in new.items()}
                change["b_id"] = row.id
                changes.append(change)
        if len(changes) >= BATCH:
            updated += _write(session, changes)
            changes = []
    updated += _write(session, changes)
    return examined, updated


def _write(session: DbSession, changes: Iterable[dict[str, Any]]) -> int:
    batch = list(changes)
    if not batch:
        return 0
    table: sa.Table = Certificate.__table__  # type: ignore[assignment]
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam("v_" + name) for name in TIMELINE_COLUMNS})
    )
    session.connection().execute(statement, batch)
    return len(batch)


def _rowcount(result: Any) -> int:
    count = getattr(result, "rowcount", 0)
    return int(count) if count and count > 0 else 0
