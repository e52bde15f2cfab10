"""Properties of the calendar and status rules, checked over generated inputs."""

import sqlite3
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.certificates.calendar import CalendarOverride, DayKind, WorkCalendar
from trainer.certificates.rules import (
    CertificateFacts,
    DeadlineSpec,
    DeadlineUnit,
    Status,
    Suspension,
    SuspensionEffect,
    Timeline,
    deadline_after,
    status_on,
    timeline,
)

# A calendar with overrides of every kind, so regional scopes are exercised too.
CAL = WorkCalendar(
    [
        CalendarOverride(date(2020, 2, 3), date(2020, 3, 10), DayKind.REST, "42"),
        CalendarOverride(date(2020, 2, 26), date(2020, 3, 3), DayKind.REST, "3401"),
        CalendarOverride(date(2020, 3, 7), date(2020, 3, 8), DayKind.WORKING, "34"),
        CalendarOverride(date(2021, 6, 1), date(2021, 6, 1), DayKind.REST),
        CalendarOverride(date(2022, 1, 8), date(2022, 1, 9), DayKind.WORKING, "340104"),
    ]
)
WINDOW = 60
RANK = {Status.VALID: 0, Status.DUE_SOON: 1, Status.DEEMED_VALID: 2, Status.EXPIRED: 3}
# 50 examples keeps the unit suite at a few seconds; deadline off because the first example
# pays for loading a year of the holiday calendar.
PROPERTY = settings(max_examples=50, deadline=None)

regions = st.sampled_from(["340104", "340202", "320100", "420102", "110101"])
type_codes = st.sampled_from(["1", "1.2", "10.1", "SM", "PM"])


def dates(
    first: date = date(2018, 1, 1), last: date = date(2024, 12, 31)
) -> st.SearchStrategy[date]:
    return st.dates(min_value=first, max_value=last)


def deadline_specs(
    working: int = 400, calendar: int = 800, months: int = 36
) -> st.SearchStrategy[DeadlineSpec]:
    return st.one_of(
        st.builds(DeadlineSpec, st.integers(1, working), st.just(DeadlineUnit.WORKING_DAYS)),
        st.builds(DeadlineSpec, st.integers(1, calendar), st.just(DeadlineUnit.CALENDAR_DAYS)),
        st.builds(DeadlineSpec, st.integers(1, months), st.just(DeadlineUnit.MONTHS)),
    )


# Strategies are built once: hypothesis spends most of its time validating new ones.
SMALL_SPECS = st.none() | deadline_specs(120, 200, 12)
SUSPENSION_STARTS = dates(date(2019, 6, 1), date(2022, 6, 30))
LIFT_OFFSETS = st.none() | st.integers(0, 240)
REGION_SELECTORS = st.sampled_from([(), ("34",), ("3401",), ("32",), ("32", "34")])
TYPE_SELECTORS = st.sampled_from([(), ("1",), ("SM",), ("1", "SM")])
EFFECTS = st.sampled_from(list(SuspensionEffect))
NAMES = st.integers(0, 10**6)
EXTEND_BY_DAYS = st.integers(1, 400)
EXTEND_TO_OFFSETS = st.integers(0, 600)


@st.composite
def suspensions(draw: st.DrawFn, effect: SuspensionEffect | None = None) -> Suspension:
    start = draw(SUSPENSION_STARTS)
    offset = draw(LIFT_OFFSETS)
    lift = None if offset is None else start + timedelta(days=offset)
    chosen = effect or draw(EFFECTS)
    deemed = chosen is SuspensionEffect.DEEMED_VALID
    return Suspension(
        name=f"s{draw(NAMES)}",
        region_selectors=draw(REGION_SELECTORS),
        type_selectors=draw(TYPE_SELECTORS),
        start=start,
        lift=lift,
        effect=chosen,
        holder_deadline=draw(SMALL_SPECS) if deemed else None,
        exam_deadline=draw(SMALL_SPECS) if deemed else None,
        extend_by_days=draw(EXTEND_BY_DAYS) if chosen is SuspensionEffect.EXTEND_BY else None,
        extend_to=(
            (lift or start) + timedelta(days=draw(EXTEND_TO_OFFSETS))
            if chosen is SuspensionEffect.EXTEND_TO
            else None
        ),
    )


facts = st.builds(
    CertificateFacts,
    type_code=type_codes,
    region_code=regions,
    expires_on=dates(date(2019, 1, 1), date(2023, 12, 31)),
    review_due_on=st.none() | dates(date(2019, 1, 1), date(2023, 12, 31)),
    revoked=st.just(False),
    applied_on=st.none() | dates(date(2019, 1, 1), date(2024, 6, 30)),
)


# --- Calendar --------------------------------------------------------------------------------


@PROPERTY
@given(lift=dates(), spec=deadline_specs(), region=st.none() | regions)
def test_every_deadline_lands_on_a_working_day(
    lift: date, spec: DeadlineSpec, region: str | None
) -> None:
    deadline = deadline_after(lift, spec, CAL, region)
    assert deadline > lift
    assert CAL.is_working_day(deadline, region)


@PROPERTY
@given(after=dates(), n=st.integers(1, 300), more=st.integers(1, 60), region=regions)
def test_add_working_days_is_monotonic_and_composes(
    after: date, n: int, more: int, region: str
) -> None:
    nth = CAL.add_working_days(after, n, region)
    later = CAL.add_working_days(after, n + more, region)
    assert after < nth < later
    assert CAL.add_working_days(nth, more, region) == later


@PROPERTY
@given(after=dates(), n=st.integers(1, 40), region=st.none() | regions)
def test_add_working_days_counts_exactly_n_working_days(
    after: date, n: int, region: str | None
) -> None:
    result = CAL.add_working_days(after, n, region)
    days = [after + timedelta(days=k) for k in range(1, (result - after).days + 1)]
    assert sum(CAL.is_working_day(day, region) for day in days) == n
    assert CAL.is_working_day(result, region)


@PROPERTY
@given(day=dates(), region=st.none() | regions)
def test_roll_forward_is_the_first_working_day_on_or_after(day: date, region: str | None) -> None:
    rolled = CAL.roll_forward(day, region)
    assert rolled >= day and CAL.is_working_day(rolled, region)
    assert not any(
        CAL.is_working_day(day + timedelta(days=k), region) for k in range((rolled - day).days)
    )


# --- Rules -----------------------------------------------------------------------------------


@PROPERTY
@given(cert=facts, rules=st.lists(suspensions(), max_size=4))
def test_validity_never_ends_before_the_due_date(
    cert: CertificateFacts, rules: list[Suspension]
) -> None:
    line = timeline(cert, rules, CAL)
    assert line.valid_until is None or line.valid_until >= line.due_on
    if not line.covered:
        assert line.valid_until == line.due_on and line.suspension is None


@PROPERTY
@given(
    cert=facts,
    rule=st.one_of(
        suspensions(SuspensionEffect.EXTEND_BY), suspensions(SuspensionEffect.EXTEND_TO)
    ),
)
def test_extending_never_shortens(cert: CertificateFacts, rule: Suspension) -> None:
    line = timeline(cert, [rule], CAL)
    if line.covered:
        assert line.valid_until is not None and line.valid_until >= line.due_on
        if rule.effect is SuspensionEffect.EXTEND_BY:
            assert line.valid_until > line.due_on


@PROPERTY
@given(
    cert=facts,
    rules=st.lists(suspensions(), max_size=4),
    xs=st.lists(dates(date(2018, 6, 1), date(2026, 12, 31)), min_size=2, max_size=12),
)
def test_status_never_goes_back_as_time_passes(
    cert: CertificateFacts, rules: list[Suspension], xs: list[date]
) -> None:
    line = timeline(cert, rules, CAL)
    ranks = [
        RANK[status_on(line, x, revoked=False, renewal_window_days=WINDOW)] for x in sorted(xs)
    ]
    assert ranks == sorted(ranks)


@PROPERTY
@given(cert=facts, rules=st.lists(suspensions(), max_size=4), data=st.data())
def test_the_order_suspensions_are_listed_in_does_not_change_dates(
    cert: CertificateFacts, rules: list[Suspension], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(rules))
    first, second = timeline(cert, rules, CAL), timeline(cert, shuffled, CAL)
    assert (first.covered, first.valid_until, first.holder_deadline, first.exam_deadline) == (
        second.covered,
        second.valid_until,
        second.holder_deadline,
        second.exam_deadline,
    )


def contract_status(cert: CertificateFacts, rule: Suspension, x: date) -> Status:
    """domain.md read literally, with V as known on X, for one deemed_valid suspension."""
    due = min(cert.expires_on, cert.review_due_on or cert.expires_on)
    if x <= due:
        return Status.DUE_SOON if (due - x).days <= WINDOW else Status.VALID
    covers = rule.applies_to(cert.type_code, cert.region_code) and rule.spans(due)
    if not covers:
        return Status.EXPIRED
    if rule.lift is None or rule.holder_deadline is None:
        return Status.DEEMED_VALID
    holder_deadline = deadline_after(rule.lift, rule.holder_deadline, CAL, cert.region_code)
    applied = cert.applied_on
    if applied is not None and applied <= x and applied <= holder_deadline:
        return Status.DEEMED_VALID
    return Status.DEEMED_VALID if x <= holder_deadline else Status.EXPIRED


@PROPERTY
@given(
    cert=facts,
    rule=suspensions(SuspensionEffect.DEEMED_VALID),
    x=dates(date(2018, 6, 1), date(2026, 12, 31)),
)
def test_x_independent_timeline_agrees_with_the_contract_read_on_day_x(
    cert: CertificateFacts, rule: Suspension, x: date
) -> None:
    line = timeline(cert, [rule], CAL)
    assert status_on(line, x, revoked=False, renewal_window_days=WINDOW) is contract_status(
        cert, rule, x
    )


# The CASE documented in status_on's docstring, in SQLite's date arithmetic.
STATUS_CASE = """
SELECT CASE
  WHEN :revoked THEN 'revoked'
  WHEN :x <= :due_on AND julianday(:due_on) - julianday(:x) <= :window THEN 'due_soon'
  WHEN :x <= :due_on THEN 'valid'
  WHEN :covered AND (:valid_until IS NULL OR :x <= :valid_until) THEN 'deemed_valid'
  ELSE 'expired'
END
"""


@PROPERTY
@given(
    cert=facts,
    rules=st.lists(suspensions(), max_size=3),
    x=dates(date(2018, 6, 1), date(2026, 12, 31)),
    revoked=st.booleans(),
    window=st.integers(0, 90),
)
def test_status_is_the_documented_sql_case(
    cert: CertificateFacts, rules: list[Suspension], x: date, revoked: bool, window: int
) -> None:
    line: Timeline = timeline(cert, rules, CAL)
    with sqlite3.connect(":memory:") as connection:
        (from_sql,) = connection.execute(
            STATUS_CASE,
            {
                "revoked": revoked,
                "x": x.isoformat(),
                "due_on": line.due_on.isoformat(),
                "window": window,
                "covered": line.covered,
                "valid_until": line.valid_until.isoformat() if line.valid_until else None,
            },
        ).fetchone()
    connection.close()
    assert from_sql == status_on(line, x, revoked=revoked, renewal_window_days=window)
