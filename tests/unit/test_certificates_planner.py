"""The backlog planner: earliest deadline first, the verdict, seats per working day, burn-down."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.certificates.calendar import WorkCalendar
from trainer.certificates.planner import (
    BacklogItem,
    ExamSession,
    ItemState,
    plan,
    seats_per_working_day,
    working_days_between,
)

CAL = WorkCalendar()
TODAY = date(2020, 2, 26)  # the day after Anhui's lift
T = date(2020, 4, 8)
E = date(2020, 5, 21)
PROPERTY = settings(max_examples=60, deadline=None)


def item(cid: int, e: date | None = E, t: date | None = T, **kw: object) -> BacklogItem:
    return BacklogItem(cid, kw.pop("type_code", "1.2"), kw.pop("region_code", "340104"),  # type: ignore[arg-type]
                       t, e, **kw)  # type: ignore[arg-type]


def session(sid: int, day: date, capacity: int = 10, **kw: object) -> ExamSession:
    return ExamSession(sid, day, capacity, **kw)  # type: ignore[arg-type]


def test_earliest_deadline_first_into_earliest_session() -> None:
    items = [item(1, date(2020, 5, 21)), item(2, date(2020, 3, 10)), item(3, None),
             item(4, date(2020, 3, 10), t=date(2020, 3, 2))]
    sessions = [session(10, date(2020, 3, 5), 1), session(11, date(2020, 3, 9), 2),
                session(12, date(2020, 3, 20), 5)]
    result = plan(items, sessions, CAL, TODAY)
    assert [(b.certificate_id, b.session_id) for b in result.bookings] == [
        (4, 10), (2, 11), (1, 11), (3, 12)]
    assert result.feasible
    assert not result.unplaced and not result.late and not result.overdue
    assert result.to_examine == 4


def test_not_enough_capacity_gives_seats_per_working_day() -> None:
    # 30 people due by 2020-03-06 (8 working days from 2020-02-26, 4..6 March included).
    items = [item(i, date(2020, 3, 6)) for i in range(30)]
    sessions = [session(1, date(2020, 3, 2), 10), session(2, date(2020, 3, 9), 50)]
    result = plan(items, sessions, CAL, TODAY, notice_days=0)
    assert not result.feasible
    assert len(result.late) == 20
    assert all(b.late for b in result.bookings if b.session_id == 2)
    assert result.working_days == working_days_between(CAL, TODAY, date(2020, 3, 6)) == 8
    assert result.seats_per_working_day == 4  # ceil(30 / 8)
    assert result.capacity_per_working_day == pytest.approx(10 / 8)
    assert result.extra_seats_per_working_day == 3


def test_unplaced_when_no_session() -> None:
    result = plan([item(1), item(2, None)], [], CAL, TODAY)
    assert result.unplaced == (1, 2)
    assert result.late == (1,)  # item 2 has no deadline: unplaced but not late
    assert not result.feasible


def test_existing_bookings_keep_their_seat_and_use_capacity() -> None:
    sessions = [session(1, date(2020, 3, 2), 2), session(2, date(2020, 3, 3), 2)]
    items = [item(1, state=ItemState.BOOKED, session_id=1),
             item(2, state=ItemState.BOOKED, session_id=1),
             item(3), item(4, state=ItemState.PASSED, done_on=date(2020, 2, 20)),
             item(5, state=ItemState.FAILED),
             item(6, state=ItemState.BOOKED, session_id=99)]  # its session was deleted
    result = plan(items, sessions, CAL, TODAY)
    assert result.kept == 2 and result.passed == 1
    assert [(b.certificate_id, b.session_id) for b in result.bookings] == [(3, 2), (5, 2)]
    booked = Counter(b.session_id for b in result.bookings)
    assert booked[1] == 0 and booked[2] == 2
    assert result.unplaced == (6,)


def test_sessions_before_notice_are_not_booked() -> None:
    sessions = [session(1, TODAY, 10), session(2, TODAY + timedelta(days=1), 10)]
    assert plan([item(1)], sessions, CAL, TODAY).bookings[0].session_id == 2
    assert plan([item(1)], sessions, CAL, TODAY, notice_days=0).bookings[0].session_id == 1
    with pytest.raises(ValueError):
        plan([item(1)], sessions, CAL, TODAY, notice_days=-1)


def test_sessions_serve_only_their_types_and_region() -> None:
    sessions = [
        session(1, date(2020, 3, 2), 5, type_selectors=("2",), place="合肥"),
        session(2, date(2020, 3, 3), 5, region_selector="320000"),
        session(3, date(2020, 3, 4), 5, type_selectors=("1",), region_selector="34"),
    ]
    items = [item(1, type_code="1.2"), item(2, type_code="2.1"),
             item(3, type_code="10.1", region_code="320100"), item(4, type_code="10.1")]
    result = plan(items, sessions, CAL, TODAY)
    assert {b.certificate_id: b.session_id for b in result.bookings} == {1: 3, 2: 1, 3: 2}
    assert result.unplaced == (4,)
    assert sessions[0].online is False and ExamSession(9, TODAY, 1).online


def test_overdue_items_are_booked_first_and_reported() -> None:
    items = [item(1, date(2020, 5, 1)), item(2, date(2020, 2, 1))]
    result = plan(items, [session(1, date(2020, 3, 2), 1), session(2, date(2020, 3, 3), 1)],
                  CAL, TODAY)
    assert result.bookings[0].certificate_id == 2
    assert result.overdue == (2,)
    assert result.late == (2,)
    # Capacity cannot fix an overdue item, but it is still counted in later demand.
    assert result.seats_per_working_day == 1


def test_seats_per_working_day_counts_working_days_only() -> None:
    # 2020-04-03 (Fri) .. 2020-04-07 (Tue): the 4th-6th are Qingming rest days.
    first = date(2020, 4, 3)
    assert seats_per_working_day([date(2020, 4, 7)] * 4, first, CAL) == 2
    assert seats_per_working_day([], first, CAL) == 0
    # A deadline before the first day has no working day: counted into the next one.
    assert seats_per_working_day([date(2020, 4, 1), date(2020, 4, 3)], first, CAL) == 2
    assert seats_per_working_day([date(2020, 4, 1)], first, CAL) == 0


def test_burn_down_actual_then_planned_with_ideal_line() -> None:
    items = [item(1, state=ItemState.PASSED, done_on=date(2020, 2, 27)),
             item(2, date(2020, 3, 6)), item(3, date(2020, 3, 6)), item(4, date(2020, 3, 6))]
    today = date(2020, 3, 2)
    sessions = [session(1, date(2020, 3, 3), 2), session(2, date(2020, 3, 5), 5)]
    result = plan(items, sessions, CAL, today, since=date(2020, 2, 26))
    series = {p.day: p for p in result.burn_down}
    assert series[date(2020, 2, 26)].remaining == 4 and not series[date(2020, 2, 26)].planned
    assert series[date(2020, 2, 27)].remaining == 3
    assert series[date(2020, 3, 3)].remaining == 1 and series[date(2020, 3, 3)].planned
    assert series[date(2020, 3, 5)].remaining == 0
    assert result.burn_down[-1].day == date(2020, 3, 6)
    # The ideal line: 3 left at the start of 2020-03-02, 0 on 03-06, equal working-day steps.
    assert [round(series[date(2020, 3, d)].ideal or 0, 2) for d in (2, 3, 4, 5, 6)] == [
        2.4, 1.8, 1.2, 0.6, 0.0]
    assert series[date(2020, 2, 27)].ideal is None


def test_empty_backlog() -> None:
    result = plan([], [session(1, date(2020, 3, 2))], CAL, TODAY)
    assert result.feasible and result.total == 0 and result.seats_per_working_day == 0
    assert result.last_deadline is None and result.capacity_per_working_day == 0
    assert [p.remaining for p in result.burn_down] == [0]


def test_bad_session() -> None:
    with pytest.raises(ValueError):
        ExamSession(1, TODAY, -1)
    with pytest.raises(ValueError):
        ExamSession(1, TODAY, 1, region_selector="3")


# Properties -----------------------------------------------------------------------------

DAYS = st.integers(0, 60)
ITEMS = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(-5, 70)), st.sampled_from(["1.2", "2.1", "SM"]),
              st.sampled_from(["340104", "320100"]),
              st.sampled_from([ItemState.WAITING, ItemState.APPLIED, ItemState.FAILED,
                               ItemState.PASSED, ItemState.BOOKED])),
    max_size=60,
)
SESSIONS = st.lists(
    st.tuples(DAYS, st.integers(0, 8), st.sampled_from([(), ("1",), ("2", "SM")]),
              st.sampled_from(["", "34", "32"])),
    max_size=12,
)


def build(raw_items: list, raw_sessions: list, universal: bool = False) -> tuple[list, list]:
    sessions = [
        ExamSession(i + 1, TODAY + timedelta(days=d), cap,
                    type_selectors=() if universal else types,
                    region_selector="" if universal else region)
        for i, (d, cap, types, region) in enumerate(raw_sessions)
    ]
    items = []
    for i, (e, type_code, region, state) in enumerate(raw_items):
        session_id = None
        if state is ItemState.BOOKED:
            session_id = (i % (len(sessions) + 1)) or None
        items.append(BacklogItem(i, type_code, region, None,
                                 None if e is None else TODAY + timedelta(days=e), state,
                                 session_id, TODAY if state is ItemState.PASSED else None))
    return items, sessions


@PROPERTY
@given(ITEMS, SESSIONS)
def test_property_capacity_and_compatibility_respected(raw_items: list, raw_sessions: list) -> None:
    items, sessions = build(raw_items, raw_sessions)
    result = plan(items, sessions, CAL, TODAY)
    by_id = {s.id: s for s in sessions}
    used = Counter(b.session_id for b in result.bookings)
    used.update(i.session_id for i in items if i.state is ItemState.BOOKED and i.session_id in by_id)
    for sid, count in used.items():
        assert count <= max(by_id[sid].capacity, 0) or all(
            b.session_id != sid for b in result.bookings)
    booked_ids = [b.certificate_id for b in result.bookings]
    assert len(booked_ids) == len(set(booked_ids))
    items_by_id = {i.certificate_id: i for i in items}
    for b in result.bookings:
        s = by_id[b.session_id]
        i = items_by_id[b.certificate_id]
        assert s.day >= result.first_day and s.serves(i.type_code, i.region_code)
        assert b.late == (i.exam_deadline is not None and s.day > i.exam_deadline)
    accounted = len(booked_ids) + len(result.unplaced) + result.kept + result.passed
    assert accounted == len(items)
    assert result.feasible == (not result.unplaced and not result.late)


def hall_feasible(items: list[BacklogItem], sessions: list[ExamSession], first_day: date) -> bool:
    """Everyone needing a seat can sit by E, sessions serving everyone (Hall's condition)."""
    need = [i for i in items if i.state is not ItemState.PASSED
            and not (i.state is ItemState.BOOKED and i.session_id in {s.id for s in sessions})]
    kept = Counter(i.session_id for i in items if i.state is ItemState.BOOKED)
    free = {s.id: max(0, s.capacity - kept[s.id]) for s in sessions}
    # Kept bookings already sit where they sit; only new seats are in question.
    if not need:
        return all(
            i.exam_deadline is None
            or next(s for s in sessions if s.id == i.session_id).day <= i.exam_deadline
            or next(s for s in sessions if s.id == i.session_id).day < first_day
            for i in items if i.state is ItemState.BOOKED and i.session_id in free)
    usable = [s for s in sessions if s.day >= first_day]
    if len(need) > sum(free[s.id] for s in usable):
        return False
    for i in need:
        if i.exam_deadline is None:
            continue
        due = sum(1 for j in need if j.exam_deadline is not None
                  and j.exam_deadline <= i.exam_deadline)
        seats = sum(free[s.id] for s in usable if s.day <= i.exam_deadline)
        if due > seats:
            return False
    return True


@PROPERTY
@given(ITEMS, SESSIONS)
def test_property_edf_is_optimal_when_sessions_serve_everyone(raw_items: list,
                                                              raw_sessions: list) -> None:
    items, sessions = build(raw_items, raw_sessions, universal=True)
    # Kept bookings late or early are outside the question; keep them on time.
    items = [i for i in items if i.state is not ItemState.BOOKED]
    result = plan(items, sessions, CAL, TODAY)
    assert result.feasible == hall_feasible(items, sessions, result.first_day)


@PROPERTY
@given(ITEMS, SESSIONS, st.integers(1, 10))
def test_property_more_capacity_never_hurts(raw_items: list, raw_sessions: list, extra: int) -> None:
    items, sessions = build(raw_items, raw_sessions, universal=True)
    before = plan(items, sessions, CAL, TODAY)
    bigger = [ExamSession(s.id, s.day, s.capacity + extra) for s in sessions]
    after = plan(items, bigger, CAL, TODAY)
    assert len(after.late) <= len(before.late)
    assert len(after.unplaced) <= len(before.unplaced)
    assert before.feasible <= after.feasible


@PROPERTY
@given(st.lists(st.integers(1, 70), min_size=1, max_size=80))
def test_property_seats_per_working_day_is_enough_and_minimal(offsets: list[int]) -> None:
    items = [item(i, TODAY + timedelta(days=o)) for i, o in enumerate(offsets)]
    first = TODAY + timedelta(days=1)
    needed = plan(items, [], CAL, TODAY).seats_per_working_day
    last = max(i.exam_deadline for i in items if i.exam_deadline)

    def daily(capacity: int) -> list[ExamSession]:
        out, day = [], first
        while day <= last:
            if CAL.is_working_day(day):
                out.append(ExamSession(len(out) + 1, day, capacity))
            day += timedelta(days=1)
        return out

    if working_days_between(CAL, first, min(i.exam_deadline for i in items)) == 0:  # type: ignore[type-var]
        return  # some deadline has no working day before it: no capacity helps
    assert needed >= 1
    assert plan(items, daily(needed), CAL, TODAY).feasible
    assert not plan(items, daily(needed - 1), CAL, TODAY).feasible


@PROPERTY
@given(ITEMS, SESSIONS)
def test_property_burn_down_future_never_rises(raw_items: list, raw_sessions: list) -> None:
    items, sessions = build(raw_items, raw_sessions)
    result = plan(items, sessions, CAL, TODAY, since=TODAY - timedelta(days=5))
    remaining = [p.remaining for p in result.burn_down]
    assert all(a >= b for a, b in zip(remaining, remaining[1:], strict=False))
    assert remaining[-1] == len(result.unplaced)
    ideals = [p.ideal for p in result.burn_down if p.ideal is not None]
    assert all(a >= b for a, b in zip(ideals, ideals[1:], strict=False))
    if ideals:
        assert ideals[-1] == 0
