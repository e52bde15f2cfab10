"""The exam backlog of a suspension: its certificates and their progress, exam sessions, and
the planner (``planner.plan``) run on them and written back as bookings.

The backlog of a suspension is every certificate whose stored timeline names it
(``certificates.suspension_id``, i.e. after chaining), not revoked. A renewed certificate
(``superseded``) or a booking marked passed counts as examined. Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from flask_babel import gettext as _

from trainer.certificates import planner
from trainer.certificates.backlog_models import BacklogBooking, BookingState, ExamSession
from trainer.certificates.models import Certificate, CertificateType, Suspension
from trainer.clock import utcnow
from trainer.db import db

PAGE_SIZE = 50
PROGRESS = ("waiting", *BookingState.ALL)
_FETCH = 20000


def backlog_condition(suspension_id: int) -> Any:
    return sa.and_(Certificate.suspension_id == suspension_id, Certificate.revoked_on.is_(None))


def item_state(superseded: bool, state: str | None, applied_on: dt.date | None) -> planner.ItemState:
    if superseded or state == BookingState.PASSED:
        return planner.ItemState.PASSED
    if state == BookingState.BOOKED:
        return planner.ItemState.BOOKED
    if state == BookingState.FAILED:
        return planner.ItemState.FAILED
    if state == BookingState.APPLIED or applied_on is not None:
        return planner.ItemState.APPLIED
    return planner.ItemState.WAITING


def load_items(suspension_id: int) -> list[planner.BacklogItem]:
    """The whole backlog as planner items, in one streamed query."""
    query = (
        sa.select(Certificate.id, Certificate.type_code, Certificate.region_code,
                  Certificate.holder_deadline, Certificate.exam_deadline, Certificate.superseded,
                  Certificate.renewal_applied_on, BacklogBooking.state, BacklogBooking.session_id,
                  BacklogBooking.result_on)
        .outerjoin(BacklogBooking, BacklogBooking.certificate_id == Certificate.id)
        .where(backlog_condition(suspension_id))
        .execution_options(yield_per=_FETCH)
    )
    items = []
    for row in db.session.execute(query):
        state = item_state(row.superseded, row.state, row.renewal_applied_on)
        items.append(planner.BacklogItem(
            row.id, row.type_code, row.region_code, row.holder_deadline, row.exam_deadline,
            state, row.session_id if state is planner.ItemState.BOOKED else None,
            row.result_on if state is planner.ItemState.PASSED else None))
    return items


def load_sessions(items: Sequence[planner.BacklogItem]) -> list[planner.ExamSession]:
    """Every exam session, with the seats booked by other backlogs taken off its capacity."""
    booked = Counter(dict(db.session.execute(
        sa.select(BacklogBooking.session_id, sa.func.count())
        .where(BacklogBooking.state == BookingState.BOOKED)
        .group_by(BacklogBooking.session_id)).all()))
    mine = Counter(i.session_id for i in items if i.state is planner.ItemState.BOOKED)
    sessions = []
    for row in db.session.scalars(sa.select(ExamSession).order_by(ExamSession.day, ExamSession.id)):
        others = booked[row.id] - mine[row.id]
        sessions.append(planner.ExamSession(
            row.id, row.day, max(0, row.capacity - others), row.place or "",
            tuple(row.type_codes or ()), row.region_selector or ""))
    return sessions


def calendar_region(suspension: Suspension) -> str | None:
    """Whose working days count for the seats-per-day figure: the suspension's one region
    (as a 6-digit code), else the national calendar."""
    regions = list(suspension.regions or [])
    if len(regions) == 1:
        return regions[0].ljust(6, "0")
    return None


def run_plan(suspension: Suspension, today: dt.date) -> planner.Plan:
    """The plan as it would be made today, without booking anything."""
    from trainer.certificates import timelines

    items = load_items(suspension.id)
    sessions = load_sessions(items)
    return planner.plan(items, sessions, timelines.load_calendar(db.session()), today,
                        since=suspension.lift_on, region_code=calendar_region(suspension))


def plan_backlog(suspension: Suspension, today: dt.date, *, book: bool = True) -> tuple[planner.Plan, int]:
    """Run the planner and write its new bookings. Returns the plan and the number booked."""
    result = run_plan(suspension, today)
    if not book or not result.bookings:
        return result, 0
    return result, write_bookings(result.bookings)


def write_bookings(bookings: Sequence[planner.Booking]) -> int:
    now = utcnow()
    ids = [b.certificate_id for b in bookings]
    existing: dict[int, int] = {}
    for start in range(0, len(ids), _FETCH):
        chunk = ids[start:start + _FETCH]
        existing.update(db.session.execute(
            sa.select(BacklogBooking.certificate_id, BacklogBooking.id)
            .where(BacklogBooking.certificate_id.in_(chunk))).all())
    table = cast(sa.Table, BacklogBooking.__table__)
    updates = [{"b_id": existing[b.certificate_id], "v_session": b.session_id}
               for b in bookings if b.certificate_id in existing]
    inserts = [{"certificate_id": b.certificate_id, "session_id": b.session_id,
                "state": BookingState.BOOKED, "created_at": now}
               for b in bookings if b.certificate_id not in existing]
    connection = db.session.connection()
    if updates:
        connection.execute(
            sa.update(table).where(table.c.id == sa.bindparam("b_id"))
            .values(session_id=sa.bindparam("v_session"), state=BookingState.BOOKED,
                    updated_at=now), updates)
    if inserts:
        connection.execute(sa.insert(table), inserts)
    db.session.expire_all()
    return len(bookings)


def summary_lines(suspension: Suspension, result: planner.Plan, booked: int) -> list[str]:
    """The plan summary as printed by ``trainer backlog plan`` (English, for scripts)."""
    lines = [
        f"Backlog of {suspension.name!r} as of {result.today}: {result.total} certificate(s), "
        f"{result.passed} examined, {result.to_examine} to examine.",
        f"Exam deadline (latest): {result.last_deadline or 'none'}; working days from "
        f"{result.first_day}: {result.working_days}.",
        f"Bookings kept: {result.kept}; new bookings: {len(result.bookings)}"
        f"{' (written)' if booked else ' (not written)'}; without a seat: {len(result.unplaced)}.",
    ]
    if result.overdue:
        lines.append(f"Already past their exam deadline: {len(result.overdue)}.")
    if result.feasible:
        lines.append("Verdict: feasible: everyone can be examined by their exam deadline with the "
                     "sessions planned.")
    else:
        lines.append(
            f"Verdict: NOT feasible: {len(result.late)} certificate(s) would be examined after "
            f"their exam deadline or not at all. Needed: {result.seats_per_working_day} seat(s) "
            f"per working day (sessions offer {result.capacity_per_working_day:.1f}; "
            f"{result.extra_seats_per_working_day} more per working day).")
    return lines


def verdict_text(result: planner.Plan) -> str:
    if result.feasible:
        return _("Feasible: everyone can be examined by their exam deadline with the sessions "
                 "planned.")
    text = _("Not feasible: %(late)s certificate(s) would be examined after their exam deadline "
             "or not at all. Needed: %(needed)s seat(s) per working day (the sessions offer "
             "%(offered)s; %(extra)s more per working day).",
             late=len(result.late), needed=result.seats_per_working_day,
             offered=f"{result.capacity_per_working_day:.1f}",
             extra=result.extra_seats_per_working_day)
    if result.overdue:
        text += " " + _("%(count)s of them are already past their exam deadline: book them first.",
                        count=len(result.overdue))
    return text


# --- listing -------------------------------------------------------------------------------


@dataclass
class Row:
    certificate: Certificate
    booking: BacklogBooking | None
    progress: str
    hours: Decimal | None
    hours_required: Decimal | None


def progress_of(cert: Certificate, booking: BacklogBooking | None) -> str:
    state = item_state(cert.superseded, booking.state if booking else None, cert.renewal_applied_on)
    return "waiting" if state is planner.ItemState.WAITING else state.value


def hours_done(cert: Certificate) -> Decimal | None:
    """Review training hours credited since a year before the due date (courses helper)."""
    if cert.holder_user_id is None:
        return None
    try:
        from trainer.courses.hours import credited_hours
    except ImportError:  # courses not installed in this build
        return None
    return credited_hours(cert.holder_user_id, cert.type_code, purpose="review",
                          since=cert.due_on - dt.timedelta(days=365))


def page(suspension_id: int, progress: str, page_number: int) -> tuple[list[Row], int]:
    query = (
        sa.select(Certificate, BacklogBooking)
        .outerjoin(BacklogBooking, BacklogBooking.certificate_id == Certificate.id)
        .where(backlog_condition(suspension_id))
    )
    if progress == "waiting":
        query = query.where(BacklogBooking.id.is_(None), Certificate.renewal_applied_on.is_(None),
                            sa.not_(Certificate.superseded))
    elif progress == BookingState.PASSED:
        query = query.where(sa.or_(BacklogBooking.state == progress, Certificate.superseded))
    elif progress == BookingState.APPLIED:
        query = query.where(sa.not_(Certificate.superseded), sa.or_(
            BacklogBooking.state == progress,
            sa.and_(BacklogBooking.id.is_(None), Certificate.renewal_applied_on.is_not(None))))
    elif progress in BookingState.ALL:
        query = query.where(BacklogBooking.state == progress, sa.not_(Certificate.superseded))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(Certificate.exam_deadline, Certificate.holder_deadline, Certificate.id)
        .limit(PAGE_SIZE).offset((page_number - 1) * PAGE_SIZE)).all()
    required = dict(db.session.execute(sa.select(CertificateType.code, CertificateType.review_hours))
                    .all())
    out = [Row(cert, booking, progress_of(cert, booking), hours_done(cert), required.get(cert.type_code))
           for cert, booking in rows]
    return out, total


def progress_counts(suspension_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Certificate.superseded, BacklogBooking.state,
                  Certificate.renewal_applied_on.is_not(None), sa.func.count())
        .outerjoin(BacklogBooking, BacklogBooking.certificate_id == Certificate.id)
        .where(backlog_condition(suspension_id))
        .group_by(Certificate.superseded, BacklogBooking.state,
                  Certificate.renewal_applied_on.is_not(None))).all()
    counts = dict.fromkeys(PROGRESS, 0)
    for superseded, state, applied, count in rows:
        item = item_state(superseded, state, dt.date.min if applied else None)
        counts["waiting" if item is planner.ItemState.WAITING else item.value] += count
    return counts


# --- progress and sessions ------------------------------------------------------------------


def backlog_certificate(suspension_id: int, certificate_id: int) -> Certificate | None:
    return db.session.scalar(sa.select(Certificate).where(
        Certificate.id == certificate_id, backlog_condition(suspension_id)))


def record_progress(cert: Certificate, state: str, on: dt.date, actor: Any | None) -> None:
    """Record the holder's progress: applied (also sets the certificate's application date,
    so the status rules see it), passed or failed (the result of the booked exam), or back to
    waiting (clears the booking). Audited."""
    from trainer.audit import services as audit
    from trainer.certificates import services as certificate_services

    booking = db.session.scalar(sa.select(BacklogBooking).where(
        BacklogBooking.certificate_id == cert.id))
    before = {"state": booking.state if booking else "waiting",
              "renewal_applied_on": cert.renewal_applied_on}
    if state == "waiting":
        if booking is not None:
            db.session.delete(booking)
    else:
        if booking is None:
            booking = BacklogBooking(certificate_id=cert.id, state=state)
            db.session.add(booking)
        booking.state = state
        booking.updated_at = utcnow()
        if state == BookingState.APPLIED:
            booking.applied_on = on
            booking.session_id = None
            if cert.renewal_applied_on is None:
                cert.renewal_applied_on = on
                certificate_services.update_timeline(db.session(), cert)
        elif state in (BookingState.PASSED, BookingState.FAILED):
            booking.result_on = on
    db.session.flush()
    audit.record(actor, "backlog.progress", "certificate", cert.id, before=before,
                 after={"state": state, "on": on, "renewal_applied_on": cert.renewal_applied_on},
                 employer_id=cert.employer_id)


def sessions_with_use(from_day: dt.date | None = None) -> list[tuple[ExamSession, int]]:
    booked = (sa.select(sa.func.count()).where(BacklogBooking.session_id == ExamSession.id,
                                                BacklogBooking.state == BookingState.BOOKED)
              .correlate(ExamSession).scalar_subquery())
    query = sa.select(ExamSession, booked)
    if from_day is not None:
        query = query.where(ExamSession.day >= from_day)
    return [(s, n) for s, n in db.session.execute(query.order_by(ExamSession.day, ExamSession.id))]


def add_session(day: dt.date, place: str, capacity: int, type_codes: list[str],
                region_selector: str, actor: Any | None) -> ExamSession:
    from trainer.audit import services as audit

    session = ExamSession(day=day, place=place or None, capacity=capacity, type_codes=type_codes,
                          region_selector=region_selector, notes="")
    db.session.add(session)
    db.session.flush()
    audit.record(actor, "exam_session.create", "exam_session", session.id,
                 after={"day": day, "place": place, "capacity": capacity,
                        "type_codes": type_codes, "region": region_selector})
    return session


def delete_session(session: ExamSession, actor: Any | None) -> int:
    """Delete a session; its bookings go back to waiting for a seat. Returns how many."""
    from trainer.audit import services as audit

    released = len(db.session.execute(
        sa.delete(BacklogBooking).where(BacklogBooking.session_id == session.id,
                                        BacklogBooking.state == BookingState.BOOKED)
        .returning(BacklogBooking.id)).all())
    audit.record(actor, "exam_session.delete", "exam_session", session.id,
                 before={"day": session.day, "place": session.place, "capacity": session.capacity,
                         "released": released})
    db.session.delete(session)
    db.session.flush()
    return int(released)


def on_exam_passed(sender: Any, **kwargs: Any) -> None:
    """``signals.exam_passed`` receiver: the holder's backlog bookings of that type are passed."""
    user_id, type_code = kwargs.get("user_id"), kwargs.get("certificate_type")
    passed_on = kwargs.get("passed_on")
    if not user_id or not type_code:
        return
    ids = sa.select(Certificate.id).where(Certificate.holder_user_id == user_id,
                                          Certificate.type_code == type_code,
                                          Certificate.covered)
    db.session.execute(
        sa.update(BacklogBooking)
        .where(BacklogBooking.certificate_id.in_(ids),
               BacklogBooking.state.in_([BookingState.APPLIED, BookingState.BOOKED,
                                         BookingState.FAILED]))
        .values(state=BookingState.PASSED, result_on=passed_on, updated_at=utcnow()))
