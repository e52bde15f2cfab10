"""The exam backlog planner (docs/domain.md, "The exam backlog after a lift"). Pure: no Flask,
no database, no clock; ``today`` and the working-day calendar are arguments.

What it answers
---------------
Given the backlog (covered certificates with their holder deadline T, exam deadline E and
progress), the exam sessions (date, place or online, capacity, which types and region they
serve) and today, it

1. books every certificate that still needs an exam into a seat, **earliest deadline first**
   (E, then T, then certificate id; no E sorts last), each into the earliest session with a
   free seat that serves its type and region and lies at least ``notice_days`` after today;
2. says whether everyone can be examined on or before their E with the sessions as they are
   (``Plan.feasible``), and if not, how many seats per working day would be needed
   (``Plan.seats_per_working_day``): the smallest uniform capacity c such that c seats on
   every working day from the first bookable day would examine everyone by their E, i.e.
   ``max over deadlines d of ceil(items with E ≤ d / working days in [first day, d])``;
3. gives a burn-down series: items still to be examined per day, actual before today (from
   the days exams were passed) and as planned from today on, with an ideal straight line to
   zero at the last exam deadline.

Which items need a seat
-----------------------
``waiting`` (not applied yet) and ``applied`` items, ``failed`` items (the make-up exam), and
``booked`` items whose session is not among the sessions given (deleted). ``booked`` items
whose session is known keep their seat (it counts against that session's capacity), even if
the session is past and the result not yet recorded. ``passed`` items are done.

Everyone still to be examined is booked, including holders who have not applied yet: the
authority plans capacity for the whole backlog, and a seat is released when the session is
rebooked. Items whose E is already before the first bookable day are ``overdue``: they are
booked first (earliest deadline) and reported, but capacity cannot fix them, so they are left
out of the seats-per-day figure.

Optimality
----------
When every session serves every item, earliest-deadline-first into the earliest free seat is
optimal: if any assignment examines everyone by E, this one does (the exchange argument for
unit jobs with deadlines). With type/region restrictions it is a greedy heuristic; the
verdict is then "this plan" rather than "no plan could".

Speed
-----
Sorting dominates: O(n log n) for n items. Each (type, region) pair of the backlog gets the
list of sessions that serve it and a "next session with a free seat" pointer kept as a
union-find with path compression, so booking one item is amortised near O(1) however many
sessions are full.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from trainer.certificates.calendar import WorkCalendar, normalize_region_selector, region_matches
from trainer.certificates.rules import type_matches

_ONE_DAY = timedelta(days=1)


class ItemState(StrEnum):
    WAITING = "waiting"  # covered, the holder has not applied for the exam yet
    APPLIED = "applied"  # training done and exam requested
    BOOKED = "booked"  # holds a seat in a session
    PASSED = "passed"
    FAILED = "failed"  # sat and failed: needs the make-up exam


NEEDS_SEAT = frozenset({ItemState.WAITING, ItemState.APPLIED, ItemState.FAILED})


@dataclass(frozen=True, slots=True)
class BacklogItem:
    certificate_id: int
    type_code: str
    region_code: str
    holder_deadline: date | None
    exam_deadline: date | None
    state: ItemState = ItemState.WAITING
    session_id: int | None = None  # the booked session, for state ``booked``
    done_on: date | None = None  # the day the exam was passed, for state ``passed``

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ItemState(self.state))


@dataclass(frozen=True, slots=True)
class ExamSession:
    """A sitting: ``place`` empty means online. Empty selectors serve every type/region."""

    id: int
    day: date
    capacity: int
    place: str = ""
    type_selectors: tuple[str, ...] = ()
    region_selector: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.capacity, bool) or self.capacity < 0:
            raise ValueError(f"session {self.id}: capacity must be 0 or more, got {self.capacity!r}")
        object.__setattr__(self, "type_selectors", tuple(self.type_selectors))
        if self.region_selector:
            object.__setattr__(
                self, "region_selector", normalize_region_selector(self.region_selector)
            )

    @property
    def online(self) -> bool:
        return not self.place

    def serves(self, type_code: str, region_code: str) -> bool:
        if self.region_selector and not region_matches(self.region_selector, region_code):
            return False
        return not self.type_selectors or any(type_matches(t, type_code) for t in self.type_selectors)


@dataclass(frozen=True, slots=True)
class Booking:
    certificate_id: int
    session_id: int
    day: date
    late: bool  # after the item's exam deadline


@dataclass(frozen=True, slots=True)
class BurnDownPoint:
    day: date
    remaining: int  # still to be examined at the end of this day (actual, then planned)
    ideal: float | None  # straight line from today's remaining to 0 at the last E
    planned: bool  # False for days before today (actual figures)


@dataclass(frozen=True, slots=True)
class Plan:
    today: date
    first_day: date  # the first day a session may be booked
    total: int  # backlog items
    passed: int
    kept: int  # items keeping an existing booking
    bookings: tuple[Booking, ...]  # new bookings, in booking order (earliest deadline first)
    unplaced: tuple[int, ...]  # certificate ids for which no seat was found
    late: tuple[int, ...]  # certificate ids booked after E, or unplaced while having an E
    overdue: tuple[int, ...]  # E before the first bookable day and not yet examined
    last_deadline: date | None
    working_days: int  # working days from first_day to last_deadline, inclusive
    seats_available: int  # free seats (before this plan) in sessions up to last_deadline
    seats_per_working_day: int  # uniform seats per working day needed to meet every E
    capacity_per_working_day: float  # seats offered per working day up to last_deadline
    burn_down: tuple[BurnDownPoint, ...] = field(repr=False)

    @property
    def to_examine(self) -> int:
        return self.total - self.passed

    @property
    def feasible(self) -> bool:
        """Everyone not yet examined has a seat on or before their E (if they have one)."""
        return not self.unplaced and not self.late

    @property
    def extra_seats_per_working_day(self) -> int:
        return max(0, math.ceil(self.seats_per_working_day - self.capacity_per_working_day))


def _deadline_key(item: BacklogItem) -> tuple[int, date, int, date, int]:
    e, t = item.exam_deadline, item.holder_deadline
    return (
        e is None,
        e or date.max,
        t is None,
        t or date.max,
        item.certificate_id,
    )  # type: ignore[return-value]


class _NextFree:
    """For one (type, region): the first serving session at or after an index with a seat."""

    __slots__ = ("indexes", "parent")

    def __init__(self, indexes: list[int]) -> None:
        self.indexes = indexes
        self.parent = list(range(len(indexes) + 1))

    def find(self, free: list[int]) -> int | None:
        parent, indexes, end = self.parent, self.indexes, len(self.indexes)
        root = 0
        while root < end and (parent[root] != root or free[indexes[root]] <= 0):
            if parent[root] == root:
                parent[root] = root + 1  # full: skip it from now on
            root = parent[root]
        node = 0
        while node != root:  # path compression
            parent[node], node = root, parent[node]
        return None if root == end else indexes[root]


def working_days_between(calendar: WorkCalendar, first: date, last: date,
                         region_code: str | None = None) -> int:
    """Working days in [first, last], both included (0 when last < first)."""
    count = 0
    day = first
    while day <= last:
        count += calendar.is_working_day(day, region_code)
        day += _ONE_DAY
    return count


def seats_per_working_day(
    deadlines: Iterable[date],
    first_day: date,
    calendar: WorkCalendar,
    region_code: str | None = None,
) -> int:
    """The smallest c such that c seats every working day from ``first_day`` examine, by its
    deadline, every item whose deadline is listed (one entry per item).

    Deadlines before ``first_day`` (or with no working day up to them) cannot be met by any
    capacity; they are counted in the demand of the next deadline that can.
    """
    demand = Counter(deadlines)
    if not demand:
        return 0
    cumulative = 0
    worked = 0
    best = 0
    day = first_day
    for deadline in sorted(demand):
        while day <= deadline:
            worked += calendar.is_working_day(day, region_code)
            day += _ONE_DAY
        cumulative += demand[deadline]
        if worked:
            best = max(best, -(-cumulative // worked))
    return best


def plan(
    items: Sequence[BacklogItem],
    sessions: Sequence[ExamSession],
    calendar: WorkCalendar,
    today: date,
    *,
    notice_days: int = 1,
    since: date | None = None,
    region_code: str | None = None,
) -> Plan:
    """Book the backlog into sessions, earliest deadline first (module docstring).

    ``notice_days``: sessions on or after ``today + notice_days`` are bookable (0 allows
    today's sessions). ``since``: first day of the burn-down series (e.g. the lift date);
    defaults to the earliest pass date or today. ``region_code``: whose working days count
    for the seats-per-day figure (None: the national calendar).
    """
    if notice_days < 0:
        raise ValueError("notice_days must be 0 or more")
    first_day = today + timedelta(days=notice_days)
    by_id = {s.id: s for s in sessions}
    taken: Counter[int] = Counter()
    need: list[BacklogItem] = []
    kept_days: list[tuple[BacklogItem, date]] = []
    passed_days: list[date | None] = []
    for item in items:
        if item.state is ItemState.PASSED:
            passed_days.append(item.done_on)
        elif item.state is ItemState.BOOKED and item.session_id in by_id:
            taken[item.session_id] += 1
            kept_days.append((item, by_id[item.session_id].day))
        else:
            need.append(item)

    usable = sorted((s for s in sessions if s.day >= first_day), key=lambda s: (s.day, s.id))
    free = [max(0, s.capacity - taken[s.id]) for s in usable]
    free_before = list(free)
    pointers: dict[tuple[str, str], _NextFree] = {}

    need.sort(key=_deadline_key)
    bookings: list[Booking] = []
    unplaced: list[int] = []
    late: list[int] = []
    for item in need:
        key = (item.type_code, item.region_code)
        pointer = pointers.get(key)
        if pointer is None:
            pointer = _NextFree([i for i, s in enumerate(usable) if s.serves(*key)])
            pointers[key] = pointer
        index = pointer.find(free)
        if index is None:
            unplaced.append(item.certificate_id)
            if item.exam_deadline is not None:
                late.append(item.certificate_id)
            continue
        free[index] -= 1
        session = usable[index]
        is_late = item.exam_deadline is not None and session.day > item.exam_deadline
        if is_late:
            late.append(item.certificate_id)
        bookings.append(Booking(item.certificate_id, session.id, session.day, is_late))
    for item, day in kept_days:
        if item.exam_deadline is not None and day > item.exam_deadline and day >= first_day:
            late.append(item.certificate_id)

    open_items = need + [item for item, day in kept_days if day >= first_day]
    overdue = sorted(
        i.certificate_id for i in open_items if i.exam_deadline and i.exam_deadline < first_day
    )
    deadlines = [i.exam_deadline for i in open_items if i.exam_deadline is not None]
    last_deadline = max(deadlines) if deadlines else None
    working = (
        working_days_between(calendar, first_day, last_deadline, region_code)
        if last_deadline
        else 0
    )
    seats_available = (
        sum(f for f, s in zip(free_before, usable, strict=True) if s.day <= last_deadline)
        + sum(1 for _, day in kept_days if first_day <= day <= last_deadline)
        if last_deadline
        else 0
    )
    needed = seats_per_working_day(deadlines, first_day, calendar, region_code)

    burn = _burn_down(
        today, since, passed_days, [d for _, d in kept_days], [b.day for b in bookings],
        len(unplaced), last_deadline, calendar, region_code,
    )
    return Plan(
        today=today,
        first_day=first_day,
        total=len(items),
        passed=len(passed_days),
        kept=len(kept_days),
        bookings=tuple(bookings),
        unplaced=tuple(unplaced),
        late=tuple(sorted(late)),
        overdue=tuple(overdue),
        last_deadline=last_deadline,
        working_days=working,
        seats_available=seats_available,
        seats_per_working_day=needed,
        capacity_per_working_day=(seats_available / working) if working else 0.0,
        burn_down=burn,
    )


def _burn_down(
    today: date,
    since: date | None,
    passed_days: list[date | None],
    kept_days: list[date],
    booked_days: list[date],
    unplaced: int,
    last_deadline: date | None,
    calendar: WorkCalendar,
    region_code: str | None,
) -> tuple[BurnDownPoint, ...]:
    known_passes = [d for d in passed_days if d is not None]
    start = since or min(known_passes, default=today)
    start = min(start, today)
    future_days = [d for d in kept_days + booked_days if d >= today]
    end = max([today, *future_days, *([last_deadline] if last_deadline else [])])
    # Items done on or before a day: passes before today (actual), then exams as planned. A
    # pass without a date counts as done before the series starts; a booking in the past whose
    # result is not recorded counts as done on the session day.
    done_by_day: Counter[date] = Counter()
    before_start = 0
    for day in [*passed_days, *(d for d in kept_days if d < today)]:
        if day is None or day < start:
            before_start += 1
        else:
            done_by_day[day] += 1
    for day in future_days:
        done_by_day[day] += 1
    total = len(passed_days) + len(kept_days) + len(booked_days) + unplaced
    remaining = total - before_start
    points: list[BurnDownPoint] = []
    day = start
    while day <= end:
        remaining -= done_by_day[day]
        points.append(BurnDownPoint(day, remaining, None, day >= today))
        day += _ONE_DAY
    # The ideal line: from what is left at the start of today down to 0 at the last deadline,
    # in equal steps per working day.
    if last_deadline is not None and last_deadline >= today:
        at_today = next(p for p in points if p.day == today)
        start_remaining = at_today.remaining + done_by_day[today]
        steps = working_days_between(calendar, today, last_deadline, region_code)
        done_steps = 0
        for i, point in enumerate(points):
            if point.day < today:
                continue
            if point.day <= last_deadline:
                done_steps += calendar.is_working_day(point.day, region_code)
                ideal = start_remaining * (1 - done_steps / steps) if steps else 0.0
            else:
                ideal = 0.0
            points[i] = BurnDownPoint(point.day, point.remaining, max(0.0, ideal), True)
    return tuple(points)
