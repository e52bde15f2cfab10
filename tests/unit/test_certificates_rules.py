"""Certificate status and suspension rules: docs/domain.md, "Suspension periods"."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from trainer.certificates.calendar import CalendarOverride, DayKind, WorkCalendar
from trainer.certificates.rules import (
    CertificateFacts,
    DeadlineSpec,
    DeadlineUnit,
    Status,
    Suspension,
    SuspensionEffect,
    Timeline,
    add_months,
    deadline_after,
    due_date,
    overdue_backlog,
    parse_deadline,
    status_on,
    timeline,
    type_matches,
)

CAL = WorkCalendar()
WINDOW = 60  # the renewal window, passed as data like the catalogue would
DEEMED = SuspensionEffect.DEEMED_VALID

# Anhui, February 2020: the seed rule and the worked example of domain.md.
ANHUI = Suspension(
    name="Anhui Level I response 2020",
    region_selectors=("34",),
    type_selectors=(),
    start=date(2020, 1, 24),
    lift=date(2020, 2, 25),
    effect=DEEMED,
    holder_deadline=parse_deadline("30wd"),
    exam_deadline=parse_deadline("60wd"),
)
ANHUI_ONGOING = replace(ANHUI, lift=None)

# The other real rules of 2020. Start and lift dates the table does not give are illustrative.
NINGXIA = Suspension(
    name="Ningxia 2020",
    region_selectors=("640000",),
    type_selectors=(),
    start=date(2020, 1, 25),
    lift=date(2020, 3, 2),
    effect=DEEMED,
    holder_deadline=parse_deadline("60d"),
    exam_deadline=parse_deadline("60d"),
)
SHENZHEN = Suspension(
    name="Shenzhen 2020",
    region_selectors=("440300",),
    type_selectors=(),
    start=date(2020, 1, 24),
    lift=None,
    effect=DEEMED,
)
JIANGSU = Suspension(
    name="Jiangsu 2020",
    region_selectors=("32",),
    type_selectors=(),
    start=date(2020, 2, 1),
    lift=date(2020, 4, 30),
    effect=SuspensionEffect.EXTEND_BY,
    extend_by_days=90,
)
SICHUAN = Suspension(
    name="Sichuan 2020",
    region_selectors=("51",),
    type_selectors=(),
    start=date(2020, 1, 10),
    lift=date(2020, 12, 31),
    effect=SuspensionEffect.EXTEND_TO,
    extend_to=date(2020, 12, 31),
)
ALL_2020 = (ANHUI, NINGXIA, SHENZHEN, JIANGSU, SICHUAN)


def cert(
    due: date,
    region: str = "340104",
    type_code: str = "1.2",
    *,
    applied_on: date | None = None,
    review_due_on: date | None = None,
) -> CertificateFacts:
    return CertificateFacts(
        type_code=type_code,
        region_code=region,
        expires_on=due,
        review_due_on=review_due_on,
        applied_on=applied_on,
    )


def status(line: Timeline, x: date, *, revoked: bool = False) -> Status:
    return status_on(line, x, revoked=revoked, renewal_window_days=WINDOW)


def day_after(day: date) -> date:
    return day + timedelta(days=1)


# --- The worked example ----------------------------------------------------------------------


def test_worked_example_while_ongoing() -> None:
    line = timeline(cert(date(2020, 2, 10)), [ANHUI_ONGOING], CAL)
    assert line.covered and line.suspension == ANHUI.name
    assert line.valid_until is None
    assert line.holder_deadline is None and line.exam_deadline is None
    assert status(line, date(2020, 2, 20)) is Status.DEEMED_VALID
    assert status(line, date(2021, 2, 20)) is Status.DEEMED_VALID


def test_worked_example_after_the_lift() -> None:
    line = timeline(cert(date(2020, 2, 10)), [ANHUI], CAL)
    assert line == Timeline(
        due_on=date(2020, 2, 10),
        covered=True,
        suspension="Anhui Level I response 2020",
        valid_until=date(2020, 4, 8),
        holder_deadline=date(2020, 4, 8),
        exam_deadline=date(2020, 5, 21),
        awaiting_exam_since=None,
        provisional=False,
    )
    assert status(line, date(2020, 2, 10)) is Status.DUE_SOON
    assert status(line, date(2020, 2, 20)) is Status.DEEMED_VALID
    assert status(line, date(2020, 4, 8)) is Status.DEEMED_VALID
    assert status(line, date(2020, 4, 9)) is Status.EXPIRED
    assert not overdue_backlog(line, date(2020, 6, 1))


def test_worked_example_in_jiangsu_is_simply_expired() -> None:
    line = timeline(cert(date(2020, 2, 10), region="320100"), [ANHUI], CAL)
    assert not line.covered and line.suspension is None
    assert line.valid_until == date(2020, 2, 10)
    assert status(line, date(2020, 2, 10)) is Status.DUE_SOON
    assert status(line, date(2020, 2, 11)) is Status.EXPIRED


# --- The other real rules --------------------------------------------------------------------


def test_ningxia_sixty_calendar_days_rolled_past_may_day() -> None:
    line = timeline(cert(date(2020, 2, 14), region="640104"), ALL_2020, CAL)
    assert line.suspension == NINGXIA.name
    # 2020-03-02 + 60 days = 2020-05-01, May Day; the next working day is 2020-05-06.
    assert line.holder_deadline == line.exam_deadline == line.valid_until == date(2020, 5, 6)
    assert status(line, date(2020, 5, 6)) is Status.DEEMED_VALID
    assert status(line, date(2020, 5, 7)) is Status.EXPIRED


def test_shenzhen_open_ended_until_an_admin_sets_a_deadline() -> None:
    facts = cert(date(2020, 2, 14), region="440304")
    ongoing = timeline(facts, ALL_2020, CAL)
    assert ongoing.suspension == SHENZHEN.name and ongoing.valid_until is None
    assert status(ongoing, date(2022, 1, 1)) is Status.DEEMED_VALID

    lifted_no_deadline = replace(SHENZHEN, lift=date(2020, 3, 31))
    line = timeline(facts, [lifted_no_deadline], CAL)
    assert line.valid_until is None and line.holder_deadline is None
    assert status(line, date(2022, 1, 1)) is Status.DEEMED_VALID

    deadline_set = replace(lifted_no_deadline, holder_deadline=parse_deadline("30wd"))
    line = timeline(facts, [deadline_set], CAL)
    assert line.valid_until == line.holder_deadline == date(2020, 5, 14)
    assert status(line, date(2020, 5, 15)) is Status.EXPIRED


def test_shenzhen_with_only_an_exam_deadline_flags_the_backlog() -> None:
    rule = replace(SHENZHEN, lift=date(2020, 3, 31), exam_deadline=parse_deadline("60wd"))
    line = timeline(
        cert(date(2020, 2, 14), region="440304", applied_on=date(2020, 7, 1)), [rule], CAL
    )
    assert line.valid_until is None
    assert line.exam_deadline == date(2020, 6, 28)  # a worked Sunday (Dragon Boat 调休)
    assert line.awaiting_exam_since == date(2020, 7, 1)
    # Past E but not yet applied: nothing for the authority to be late on.
    assert not overdue_backlog(line, date(2020, 6, 30))
    assert overdue_backlog(line, date(2020, 7, 1))


@pytest.mark.parametrize(
    ("due", "valid_until"),
    [
        (date(2020, 1, 31), None),  # before the window: not covered
        (date(2020, 2, 1), date(2020, 5, 1)),  # lands on May Day: not rolled
        (date(2020, 2, 10), date(2020, 5, 10)),  # a Sunday: not rolled
        (date(2020, 4, 30), date(2020, 7, 29)),
        (date(2020, 5, 1), None),  # after the window
    ],
)
def test_jiangsu_extends_by_ninety_days(due: date, valid_until: date | None) -> None:
    line = timeline(cert(due, region="320100"), ALL_2020, CAL)
    if valid_until is None:
        assert not line.covered and line.valid_until == due
        assert status(line, day_after(due)) is Status.EXPIRED
        return
    assert line.suspension == JIANGSU.name
    assert line.valid_until == valid_until
    assert line.holder_deadline is None and line.exam_deadline is None
    assert status(line, valid_until) is Status.DEEMED_VALID
    assert status(line, day_after(valid_until)) is Status.EXPIRED


@pytest.mark.parametrize(
    ("due", "covered"),
    [
        (date(2020, 1, 9), False),
        (date(2020, 1, 10), True),
        (date(2020, 6, 30), True),
        (date(2020, 12, 31), True),
        (date(2021, 1, 1), False),
    ],
)
def test_sichuan_extends_to_year_end(due: date, covered: bool) -> None:
    line = timeline(cert(due, region="510107"), ALL_2020, CAL)
    assert line.covered is covered
    if covered:
        assert line.suspension == SICHUAN.name
        assert line.valid_until == date(2020, 12, 31)
        assert status(line, date(2021, 1, 1)) is Status.EXPIRED
    else:
        assert line.valid_until == due


def test_extend_to_is_not_rolled_to_a_working_day() -> None:
    rule = replace(SICHUAN, lift=date(2020, 9, 30), extend_to=date(2020, 10, 3))
    line = timeline(cert(date(2020, 9, 1), region="510107"), [rule], CAL)
    assert line.valid_until == date(2020, 10, 3)  # a Saturday inside National Day


def test_worked_example_against_every_rule() -> None:
    # With Jiangsu's rule recorded too, the same certificate in Nanjing is extended.
    anhui = timeline(cert(date(2020, 2, 10)), ALL_2020, CAL)
    assert anhui.suspension == ANHUI.name and anhui.valid_until == date(2020, 4, 8)
    nanjing = timeline(cert(date(2020, 2, 10), region="320100"), ALL_2020, CAL)
    assert nanjing.suspension == JIANGSU.name and nanjing.valid_until == date(2020, 5, 10)
    beijing = timeline(cert(date(2020, 2, 10), region="110101"), ALL_2020, CAL)
    assert not beijing.covered


# --- Coverage: window and scope --------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "covered"),
    [
        (date(2020, 1, 23), False),
        (date(2020, 1, 24), True),  # start day
        (date(2020, 2, 25), True),  # lift day: the last day of the suspension
        (date(2020, 2, 26), False),
    ],
)
def test_deemed_valid_window_edges(due: date, covered: bool) -> None:
    line = timeline(cert(due), [ANHUI], CAL)
    assert line.covered is covered
    assert status(line, day_after(due)) is (Status.DEEMED_VALID if covered else Status.EXPIRED)


def test_ongoing_suspension_covers_every_later_due_date() -> None:
    assert timeline(cert(date(2023, 5, 1)), [ANHUI_ONGOING], CAL).covered
    assert not timeline(cert(date(2020, 1, 23)), [ANHUI_ONGOING], CAL).covered


@pytest.mark.parametrize(
    ("selector", "type_code", "matches"),
    [
        ("1", "1", True),
        ("1", "1.2", True),
        ("1", "1.2.3", True),
        ("1", "10.1", False),
        ("1", "11", False),
        ("1.2", "1.2", True),
        ("1.2", "1.20", False),
        ("1.2", "1", False),
        ("SM", "SM", True),
        ("SM", "SMX", False),
        ("SM", "PM", False),
        ("9.16", "9.16", True),
        ("9.1", "9.16", False),
    ],
)
def test_type_selector_matching(selector: str, type_code: str, matches: bool) -> None:
    assert type_matches(selector, type_code) is matches
    rule = replace(ANHUI, type_selectors=(selector,))
    assert timeline(cert(date(2020, 2, 10), type_code=type_code), [rule], CAL).covered is matches


def test_several_type_selectors() -> None:
    rule = replace(ANHUI, type_selectors=("1", "2", "SM", "PM"))
    for type_code, covered in [("1.2", True), ("2.1", True), ("PM", True), ("10.1", False)]:
        line = timeline(cert(date(2020, 2, 10), type_code=type_code), [rule], CAL)
        assert line.covered is covered, type_code


@pytest.mark.parametrize(
    ("selectors", "region", "covered"),
    [
        (("34",), "340102", True),
        (("340000",), "340102", True),
        (("3401",), "340102", True),
        (("340100",), "340102", True),
        (("340102",), "340102", True),
        (("3402",), "340102", False),
        (("34",), "320100", False),
        (("32", "34"), "320100", True),
        ((), "650102", True),  # empty means all
    ],
)
def test_region_selector_matching(selectors: tuple[str, ...], region: str, covered: bool) -> None:
    rule = replace(ANHUI, region_selectors=selectors)
    assert timeline(cert(date(2020, 2, 10), region=region), [rule], CAL).covered is covered


def test_deadlines_use_the_certificates_regional_calendar() -> None:
    # Hefei stays closed a week longer: its holders' deadline moves by five working days.
    hefei_closed = CalendarOverride(
        date(2020, 2, 26), date(2020, 3, 3), DayKind.REST, "3401", "Hefei delayed resumption"
    )
    calendar = WorkCalendar([hefei_closed])
    hefei = timeline(cert(date(2020, 2, 10), region="340104"), [ANHUI], calendar)
    wuhu = timeline(cert(date(2020, 2, 10), region="340202"), [ANHUI], calendar)
    assert wuhu.holder_deadline == date(2020, 4, 8)
    assert hefei.holder_deadline == date(2020, 4, 15)


# --- Applications, backlog -------------------------------------------------------------------


@pytest.mark.parametrize(
    "applied_on",
    [date(2020, 1, 5), date(2020, 3, 15), date(2020, 4, 8)],  # before D, in between, on T
)
def test_applied_on_or_before_the_holder_deadline_is_open_ended(applied_on: date) -> None:
    line = timeline(cert(date(2020, 2, 10), applied_on=applied_on), [ANHUI], CAL)
    assert line.valid_until is None
    assert line.holder_deadline == date(2020, 4, 8)
    assert line.awaiting_exam_since == applied_on
    assert status(line, date(2020, 4, 9)) is Status.DEEMED_VALID
    assert status(line, date(2021, 4, 9)) is Status.DEEMED_VALID
    # The authority, not the holder, is late once E has passed.
    assert not overdue_backlog(line, date(2020, 5, 21))
    assert overdue_backlog(line, date(2020, 5, 22))


def test_status_before_the_application_is_the_same_either_way() -> None:
    # The contract reads V = T until the application is made; before it, X < A ≤ T anyway.
    late_reader = timeline(cert(date(2020, 2, 10)), [ANHUI], CAL)
    line = timeline(cert(date(2020, 2, 10), applied_on=date(2020, 4, 1)), [ANHUI], CAL)
    for x in (date(2020, 2, 20), date(2020, 3, 31)):
        assert status(line, x) is status(late_reader, x) is Status.DEEMED_VALID


def test_applied_after_the_holder_deadline_does_not_save_the_certificate() -> None:
    line = timeline(cert(date(2020, 2, 10), applied_on=date(2020, 4, 9)), [ANHUI], CAL)
    assert line.valid_until == date(2020, 4, 8)
    assert line.awaiting_exam_since is None
    assert status(line, date(2020, 4, 9)) is Status.EXPIRED
    assert not overdue_backlog(line, date(2020, 6, 1))


def test_application_while_ongoing_is_waiting_without_an_exam_deadline() -> None:
    line = timeline(cert(date(2020, 2, 10), applied_on=date(2020, 2, 1)), [ANHUI_ONGOING], CAL)
    assert line.awaiting_exam_since == date(2020, 2, 1)
    assert not overdue_backlog(line, date(2025, 1, 1))


def test_extensions_do_not_track_applications() -> None:
    line = timeline(cert(date(2020, 2, 10), "320100", applied_on=date(2020, 3, 1)), [JIANGSU], CAL)
    assert line.awaiting_exam_since is None
    assert not overdue_backlog(line, date(2021, 1, 1))


def test_uncovered_certificate_is_never_backlog() -> None:
    line = timeline(cert(date(2020, 2, 10), "320100", applied_on=date(2020, 1, 1)), [ANHUI], CAL)
    assert not overdue_backlog(line, date(2021, 1, 1))


# --- Several suspensions covering the same due date ------------------------------------------


def test_overlapping_suspensions_latest_valid_day_wins() -> None:
    # A nationwide 90-day extension gives a later V (2020-05-10) than Anhui's T (2020-04-08).
    national = replace(JIANGSU, name="National extension", region_selectors=())
    line = timeline(cert(date(2020, 2, 10)), [ANHUI, national], CAL)
    assert line.suspension == "National extension" and line.valid_until == date(2020, 5, 10)
    assert line.holder_deadline is None
    # Order of input does not matter.
    assert timeline(cert(date(2020, 2, 10)), [national, ANHUI], CAL) == line


def test_overlapping_suspensions_open_ended_is_latest() -> None:
    national = replace(JIANGSU, name="National extension", region_selectors=())
    line = timeline(cert(date(2020, 2, 10)), [national, ANHUI_ONGOING], CAL)
    assert line.suspension == ANHUI.name and line.valid_until is None
    applied = cert(date(2020, 2, 10), applied_on=date(2020, 3, 1))
    line = timeline(applied, [national, ANHUI], CAL)
    assert line.suspension == ANHUI.name and line.valid_until is None


def test_overlapping_suspensions_one_not_covering_the_due_date_is_ignored() -> None:
    late = replace(JIANGSU, name="Late extension", region_selectors=(), start=date(2020, 2, 11))
    line = timeline(cert(date(2020, 2, 10)), [ANHUI, late], CAL)
    assert line.suspension == ANHUI.name


def test_overlapping_suspensions_full_tie_keeps_input_order() -> None:
    twin = replace(ANHUI, name="Hefei twin", region_selectors=("3401",))
    assert timeline(cert(date(2020, 2, 10)), [ANHUI, twin], CAL).suspension == ANHUI.name
    assert timeline(cert(date(2020, 2, 10)), [twin, ANHUI], CAL).suspension == "Hefei twin"


# --- Chained suspensions ---------------------------------------------------------------------

# A second Anhui response whose window contains the first holder deadline (2020-04-08).
ANHUI_SECOND = replace(
    ANHUI, name="Anhui second response", start=date(2020, 4, 1), lift=date(2020, 4, 20)
)
ANHUI_THIRD = replace(
    ANHUI, name="Anhui third response", start=date(2020, 6, 1), lift=date(2020, 6, 10)
)


def test_holder_deadline_inside_a_later_suspension_is_pushed_past_it() -> None:
    line = timeline(cert(date(2020, 2, 10)), [ANHUI, ANHUI_SECOND], CAL)
    assert line.suspension == ANHUI_SECOND.name
    # 30 and 60 working days after 2020-04-20, May Day skipped and 04-26, 05-09 counted.
    assert line.holder_deadline == line.valid_until == date(2020, 6, 2)
    assert line.exam_deadline == date(2020, 7, 15)
    assert status(line, date(2020, 6, 2)) is Status.DEEMED_VALID
    assert status(line, date(2020, 6, 3)) is Status.EXPIRED


def test_chaining_repeats() -> None:
    line = timeline(cert(date(2020, 2, 10)), [ANHUI_THIRD, ANHUI, ANHUI_SECOND], CAL)
    assert line.suspension == ANHUI_THIRD.name
    # Dragon Boat 2020-06-25/26 skipped, Sunday 06-28 counted.
    assert line.holder_deadline == line.valid_until == date(2020, 7, 23)
    assert line.exam_deadline == date(2020, 9, 3)


def test_chaining_into_an_ongoing_suspension_is_open_ended() -> None:
    second = replace(ANHUI_SECOND, lift=None)
    line = timeline(cert(date(2020, 2, 10)), [ANHUI, second], CAL)
    assert line.suspension == second.name
    assert line.valid_until is line.holder_deadline is line.exam_deadline is None


@pytest.mark.parametrize(
    ("start", "lift", "pushed"),
    [
        (date(2020, 4, 8), date(2020, 4, 20), True),  # starts on T
        (date(2020, 3, 1), date(2020, 4, 8), True),  # lifted on T
        (date(2020, 4, 9), date(2020, 4, 20), False),  # starts the day after T
        (date(2020, 3, 1), date(2020, 4, 7), False),  # lifted the day before T
    ],
)
def test_chaining_window_edges(start: date, lift: date, pushed: bool) -> None:
    second = replace(ANHUI_SECOND, start=start, lift=lift)
    line = timeline(cert(date(2020, 2, 10)), [ANHUI, second], CAL)
    assert (line.suspension == second.name) is pushed
    if not pushed:
        assert line.valid_until == date(2020, 4, 8)


def test_chaining_needs_the_later_suspension_to_cover_the_certificate() -> None:
    jiangsu_only = replace(ANHUI_SECOND, region_selectors=("32",))
    welders_only = replace(ANHUI_SECOND, type_selectors=("2",))
    for second in (jiangsu_only, welders_only):
        line = timeline(cert(date(2020, 2, 10)), [ANHUI, second], CAL)
        assert line.suspension == ANHUI.name and line.valid_until == date(2020, 4, 8)


def test_chaining_only_follows_deemed_valid_suspensions() -> None:
    extension = replace(
        JIANGSU, name="Anhui extension", region_selectors=("34",), start=date(2020, 4, 1)
    )
    line = timeline(cert(date(2020, 2, 10)), [ANHUI, extension], CAL)
    assert line.suspension == ANHUI.name and line.valid_until == date(2020, 4, 8)


def test_chained_application_is_checked_against_the_new_deadline() -> None:
    facts = cert(date(2020, 2, 10), applied_on=date(2020, 5, 1))  # after T, before T'
    line = timeline(facts, [ANHUI, ANHUI_SECOND], CAL)
    assert line.valid_until is None
    assert line.awaiting_exam_since == date(2020, 5, 1)
    assert overdue_backlog(line, date(2020, 7, 16))


def test_chaining_chooses_the_latest_among_later_suspensions() -> None:
    short = replace(ANHUI_SECOND, name="short", holder_deadline=parse_deadline("5wd"))
    longer = replace(ANHUI_SECOND, name="longer", holder_deadline=parse_deadline("40wd"))
    line = timeline(cert(date(2020, 2, 10)), [ANHUI, short, longer], CAL)
    assert line.suspension == "longer"


# --- Provisional deadlines -------------------------------------------------------------------


def test_deadlines_inside_the_published_calendar_are_not_provisional() -> None:
    assert not timeline(cert(date(2020, 2, 10)), [ANHUI], CAL).provisional


def test_deadline_past_the_published_calendar_is_provisional() -> None:
    calendar = WorkCalendar(published_through=2020)
    late = replace(ANHUI, start=date(2020, 11, 1), lift=date(2020, 11, 2))
    line = timeline(cert(date(2020, 11, 1)), [late], calendar)
    # T = 2020-12-14 is published, E = 2021-01-26 is not.
    assert line.holder_deadline == date(2020, 12, 14)
    assert line.exam_deadline == date(2021, 1, 26)
    assert line.provisional


def test_provisional_follows_the_chain() -> None:
    calendar = WorkCalendar(published_through=2020)
    first = replace(ANHUI, start=date(2020, 10, 1), lift=date(2020, 10, 9), exam_deadline=None)
    second = replace(ANHUI, name="second", start=date(2020, 11, 1), lift=date(2020, 12, 20))
    line = timeline(cert(date(2020, 10, 5)), [first, second], calendar)
    assert line.suspension == "second" and line.provisional


def test_extensions_are_never_provisional() -> None:
    calendar = WorkCalendar(published_through=2019)
    assert not timeline(cert(date(2020, 2, 10), "320100"), [JIANGSU], calendar).provisional


def test_uncovered_is_never_provisional() -> None:
    calendar = WorkCalendar(published_through=2019)
    assert not timeline(cert(date(2030, 2, 10), "320100"), [ANHUI], calendar).provisional


# --- Status without suspensions --------------------------------------------------------------


def test_revoked_beats_everything() -> None:
    for line in (
        timeline(cert(date(2020, 2, 10)), [ANHUI], CAL),
        timeline(cert(date(2030, 2, 10)), [], CAL),
    ):
        for x in (date(2019, 1, 1), date(2020, 2, 20), date(2031, 1, 1)):
            assert status(line, x, revoked=True) is Status.REVOKED


def test_revoked_fact_is_carried_for_callers() -> None:
    facts = replace(cert(date(2030, 2, 10)), revoked=True)
    line = timeline(facts, [], CAL)
    assert status(line, date(2025, 1, 1), revoked=facts.revoked) is Status.REVOKED


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (date(2022, 10, 31), Status.VALID),  # 61 days before D
        (date(2022, 11, 1), Status.DUE_SOON),  # exactly 60 days before D
        (date(2022, 12, 31), Status.DUE_SOON),  # D itself is the last valid day
        (date(2023, 1, 1), Status.EXPIRED),
    ],
)
def test_renewal_window_boundary(x: date, expected: Status) -> None:
    line = timeline(cert(date(2022, 12, 31)), [ANHUI], CAL)
    assert status(line, x) is expected


def test_renewal_window_is_data() -> None:
    line = timeline(cert(date(2022, 12, 31)), [], CAL)
    x = date(2022, 12, 1)  # 30 days before D
    assert status_on(line, x, revoked=False, renewal_window_days=30) is Status.DUE_SOON
    assert status_on(line, x, revoked=False, renewal_window_days=29) is Status.VALID
    last = date(2022, 12, 31)
    assert status_on(line, last, revoked=False, renewal_window_days=0) is Status.DUE_SOON


@pytest.mark.parametrize(
    ("review", "expires", "due"),
    [
        (date(2021, 6, 1), date(2024, 6, 1), date(2021, 6, 1)),  # review pending first
        (None, date(2024, 6, 1), date(2024, 6, 1)),  # no review pending
        (date(2024, 6, 1), date(2024, 6, 1), date(2024, 6, 1)),
        (date(2025, 6, 1), date(2024, 6, 1), date(2024, 6, 1)),  # review after expiry
    ],
)
def test_due_date_review_versus_expiry(review: date | None, expires: date, due: date) -> None:
    facts = cert(expires, review_due_on=review)
    assert due_date(facts) == due
    assert timeline(facts, [], CAL).due_on == due


def test_missed_review_expires_the_certificate() -> None:
    line = timeline(cert(date(2024, 6, 1), review_due_on=date(2021, 6, 1)), [], CAL)
    assert status(line, date(2021, 6, 2)) is Status.EXPIRED


def test_review_date_is_what_a_suspension_covers() -> None:
    line = timeline(cert(date(2023, 2, 10), review_due_on=date(2020, 2, 10)), [ANHUI], CAL)
    assert line.covered and line.due_on == date(2020, 2, 10)
    assert line.valid_until == date(2020, 4, 8)


# --- Deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("30wd", DeadlineSpec(30, DeadlineUnit.WORKING_DAYS)),
        ("60d", DeadlineSpec(60, DeadlineUnit.CALENDAR_DAYS)),
        ("3m", DeadlineSpec(3, DeadlineUnit.MONTHS)),
        (" 30WD ", DeadlineSpec(30, DeadlineUnit.WORKING_DAYS)),
        ("007d", DeadlineSpec(7, DeadlineUnit.CALENDAR_DAYS)),
    ],
)
def test_parse_deadline(text: str, spec: DeadlineSpec) -> None:
    assert parse_deadline(text) == spec


@pytest.mark.parametrize("spec", ["30wd", "60d", "3m"])
def test_deadline_round_trips_as_text(spec: str) -> None:
    assert str(parse_deadline(spec)) == spec


@pytest.mark.parametrize("text", ["", "30", "wd", "0wd", "-5d", "30w", "3.5m", "30 wd", "30days"])
def test_parse_deadline_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid deadline .*'wd' \(working days\)"):
        parse_deadline(text)


def test_deadline_spec_validates() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DeadlineSpec(0, DeadlineUnit.WORKING_DAYS)
    with pytest.raises(ValueError):
        DeadlineSpec(3, "weeks")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lift", "spec", "expected"),
    [
        (date(2020, 2, 25), "30wd", date(2020, 4, 8)),
        (date(2020, 2, 25), "60wd", date(2020, 5, 21)),
        (date(2020, 3, 2), "60d", date(2020, 5, 6)),  # lands on May Day, rolled
        (date(2020, 3, 3), "2d", date(2020, 3, 5)),  # lands on a working day, kept
        (date(2020, 9, 25), "2d", date(2020, 9, 27)),  # lands on a worked Sunday, kept
        (date(2020, 3, 31), "1m", date(2020, 4, 30)),  # clamped to month end
        (date(2020, 1, 31), "1m", date(2020, 3, 2)),  # 02-29 is a Saturday, rolled
        (date(2019, 11, 30), "3m", date(2020, 3, 2)),  # across the year, clamped, rolled
        (date(2020, 7, 1), "3m", date(2020, 10, 9)),  # National Day, rolled
        (date(2020, 2, 25), "12m", date(2021, 2, 25)),
    ],
)
def test_deadline_after(lift: date, spec: str, expected: date) -> None:
    assert deadline_after(lift, parse_deadline(spec), CAL, "340104") == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2020, 1, 31), 1, date(2020, 2, 29)),
        (date(2021, 1, 31), 1, date(2021, 2, 28)),
        (date(2020, 12, 15), 1, date(2021, 1, 15)),
        (date(2020, 5, 31), 4, date(2020, 9, 30)),
        (date(2020, 2, 29), 24, date(2022, 2, 28)),
        (date(2020, 2, 29), 48, date(2024, 2, 29)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --- Input validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lift": date(2020, 1, 1)}, "before start"),
        ({"region_selectors": ("Anhui",)}, "invalid region selector"),
        ({"type_selectors": ("1.",)}, "type selector"),
        ({"type_selectors": ("",)}, "type selector"),
        ({"extend_by_days": 90}, "extend_by_days"),
        ({"extend_to": date(2020, 12, 31)}, "extend_to"),
    ],
)
def test_bad_deemed_valid_suspensions(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(ANHUI, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "changes", "message"),
    [
        (JIANGSU, {"extend_by_days": None}, "extend_by_days is required"),
        (JIANGSU, {"extend_by_days": 0}, "at least 1"),
        (JIANGSU, {"holder_deadline": parse_deadline("30wd")}, "only apply to deemed_valid"),
        (JIANGSU, {"extend_to": date(2020, 12, 31)}, "extend_to is required for extend_to"),
        (SICHUAN, {"extend_to": None}, "extend_to is required"),
        (SICHUAN, {"extend_to": date(2020, 6, 30)}, "would shorten"),
    ],
)
def test_bad_extensions(rule: Suspension, changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(rule, **changes)  # type: ignore[arg-type]


def test_suspension_error_names_the_suspension() -> None:
    with pytest.raises(ValueError, match="suspension 'Anhui Level I response 2020'"):
        replace(ANHUI, lift=date(2020, 1, 1))


def test_suspension_accepts_effect_as_text() -> None:
    rule = replace(ANHUI, effect="deemed_valid")  # type: ignore[arg-type]
    assert rule.effect is SuspensionEffect.DEEMED_VALID
    with pytest.raises(ValueError):
        replace(ANHUI, effect="forgiven")  # type: ignore[arg-type]


def test_certificate_region_must_be_a_full_code() -> None:
    with pytest.raises(ValueError, match="6 digits"):
        cert(date(2020, 2, 10), region="34")


def test_extend_to_never_shortens_under_an_ongoing_window() -> None:
    rule = replace(SICHUAN, lift=None)
    line = timeline(cert(date(2021, 3, 1), region="510107"), [rule], CAL)
    assert line.covered and line.valid_until == date(2021, 3, 1)


def test_a_replaced_exam_deadline_does_not_make_the_result_provisional() -> None:
    calendar = WorkCalendar(published_through=2020)
    first = replace(
        ANHUI, start=date(2020, 1, 24), lift=date(2020, 2, 25), exam_deadline=parse_deadline("12m")
    )
    line = timeline(cert(date(2020, 2, 10)), [first, ANHUI_SECOND], calendar)
    assert line.suspension == ANHUI_SECOND.name
    assert line.exam_deadline == date(2020, 7, 15)
    assert not line.provisional
    # Without the chain, that 12-month exam deadline (2021-02-25) is provisional.
    assert timeline(cert(date(2020, 2, 10)), [first], calendar).provisional
