"""Working-day calendar: national holidays, adjusted working days (调休), overrides."""

from datetime import date, timedelta

import holidays
import pytest

from trainer.certificates.calendar import (
    CalendarOverride,
    DayKind,
    WorkCalendar,
    check_region_code,
    last_published_year,
    normalize_region_selector,
    region_matches,
)

CAL = WorkCalendar()


# --- The national calendar -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2020, 1, 19), True),  # Sunday worked before Spring Festival
        (date(2020, 1, 23), True),
        (date(2020, 1, 24), False),  # New Year's Eve, moved from Jan 19
        (date(2020, 1, 31), False),  # the 2020 extension of the holiday
        (date(2020, 2, 1), False),  # was to be a worked Saturday; the extension cancelled it
        (date(2020, 2, 2), False),
        (date(2020, 2, 3), True),
        (date(2020, 2, 8), False),  # an ordinary Saturday
        (date(2020, 4, 3), True),
        (date(2020, 4, 6), False),  # Qingming on Saturday, observed on Monday
        (date(2020, 4, 26), True),  # Sunday worked for May Day
        (date(2020, 5, 1), False),
        (date(2020, 5, 5), False),
        (date(2020, 5, 6), True),
        (date(2020, 5, 9), True),  # Saturday worked for May Day
        (date(2020, 9, 27), True),  # Sunday worked for National Day
        (date(2020, 10, 1), False),
        (date(2020, 10, 8), False),
        (date(2020, 10, 9), True),
        (date(2020, 10, 10), True),  # Saturday worked for National Day
        (date(2001, 12, 29), True),  # Saturday worked for New Year 2002 (cross-year entry)
        (date(2021, 2, 7), True),
        (date(2021, 2, 20), True),
    ],
)
def test_national_working_days(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working
    # A region without overrides sees the national calendar.
    assert CAL.is_working_day(day, "340104") is working


def test_agrees_with_the_library_day_by_day() -> None:
    library = holidays.China(years=range(2019, 2024))
    day = date(2019, 1, 1)
    while day.year < 2024:
        assert CAL.is_working_day(day) is library.is_working_day(day), day
        day += timedelta(days=1)


# --- Counting working days -------------------------------------------------------------------


def test_worked_example_deadlines() -> None:
    lift = date(2020, 2, 25)
    # Qingming 2020-04-04…06 skipped.
    assert CAL.add_working_days(lift, 30) == date(2020, 4, 8)
    # May Day 2020-05-01…05 skipped; Sunday 04-26 and Saturday 05-09 count.
    assert CAL.add_working_days(lift, 60) == date(2020, 5, 21)


def test_the_day_counted_from_is_never_counted() -> None:
    assert CAL.add_working_days(date(2020, 3, 2), 1) == date(2020, 3, 3)  # Monday → Tuesday
    assert CAL.add_working_days(date(2020, 3, 6), 1) == date(2020, 3, 9)  # Friday → Monday
    assert CAL.add_working_days(date(2020, 3, 7), 1) == date(2020, 3, 9)  # Saturday → Monday


@pytest.mark.parametrize(
    ("after", "n", "expected"),
    [
        # Lift just before Spring Festival 2021 (off Feb 11–17, Saturday Feb 20 worked).
        (date(2021, 2, 9), 1, date(2021, 2, 10)),
        (date(2021, 2, 9), 2, date(2021, 2, 18)),
        (date(2021, 2, 9), 4, date(2021, 2, 20)),
        # Lifted the day Wuhan locked down: next working day after the extended holiday.
        (date(2020, 1, 23), 1, date(2020, 2, 3)),
        # Lift just before National Day 2020 (off Oct 1–8, Saturday Oct 10 worked).
        (date(2020, 9, 30), 1, date(2020, 10, 9)),
        (date(2020, 9, 30), 2, date(2020, 10, 10)),
        (date(2020, 9, 30), 3, date(2020, 10, 12)),
        (date(2020, 9, 26), 1, date(2020, 9, 27)),  # the worked Sunday is the next one
        # Across New Year.
        (date(2020, 12, 31), 1, date(2021, 1, 4)),
    ],
)
def test_add_working_days_at_holiday_boundaries(after: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(after, n) == expected


def test_add_working_days_over_several_years_matches_a_day_by_day_count() -> None:
    after, n = date(2019, 11, 15), 700
    day, counted = after, 0
    while counted < n:
        day += timedelta(days=1)
        counted += CAL.is_working_day(day)
    assert CAL.add_working_days(after, n) == day
    assert day.year == 2022


@pytest.mark.parametrize("n", [0, -1])
def test_add_working_days_needs_at_least_one(n: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CAL.add_working_days(date(2020, 1, 1), n)


def test_roll_forward() -> None:
    assert CAL.roll_forward(date(2020, 3, 3)) == date(2020, 3, 3)
    assert CAL.roll_forward(date(2020, 10, 1)) == date(2020, 10, 9)
    assert CAL.roll_forward(date(2020, 10, 10)) == date(2020, 10, 10)
    assert CAL.roll_forward(date(2020, 12, 31)) == date(2020, 12, 31)
    assert CAL.roll_forward(date(2021, 1, 1)) == date(2021, 1, 4)


# --- Admin overrides -------------------------------------------------------------------------

# Illustrative: a province keeps businesses closed after the national holiday ends.
HUBEI_DELAY = CalendarOverride(
    date(2020, 2, 3), date(2020, 3, 10), DayKind.REST, "420000", "Hubei delayed resumption"
)


def test_regional_rest_days_apply_only_inside_the_region() -> None:
    calendar = WorkCalendar([HUBEI_DELAY])
    assert HUBEI_DELAY.region_selector == "42"
    assert not calendar.is_working_day(date(2020, 2, 3), "420102")
    assert calendar.is_working_day(date(2020, 2, 3), "340104")
    assert calendar.is_working_day(date(2020, 2, 3))  # nationwide view
    assert calendar.add_working_days(date(2020, 2, 2), 1, "420102") == date(2020, 3, 11)
    assert calendar.add_working_days(date(2020, 2, 2), 1, "340104") == date(2020, 2, 3)
    assert calendar.roll_forward(date(2020, 3, 1), "420102") == date(2020, 3, 11)


def test_nationwide_override_applies_everywhere() -> None:
    worked_saturday = CalendarOverride(date(2020, 3, 7), date(2020, 3, 7), DayKind.WORKING)
    calendar = WorkCalendar([worked_saturday])
    assert calendar.is_working_day(date(2020, 3, 7))
    assert calendar.is_working_day(date(2020, 3, 7), "650102")
    assert calendar.add_working_days(date(2020, 3, 6), 1) == date(2020, 3, 7)
    assert not CAL.is_working_day(date(2020, 3, 7))  # other calendars are untouched


def test_more_specific_override_wins_whatever_the_order() -> None:
    city_works = CalendarOverride(date(2020, 2, 20), date(2020, 2, 21), DayKind.WORKING, "4201")
    for overrides in ([HUBEI_DELAY, city_works], [city_works, HUBEI_DELAY]):
        calendar = WorkCalendar(overrides)
        assert calendar.is_working_day(date(2020, 2, 20), "420102")  # Wuhan
        assert not calendar.is_working_day(date(2020, 2, 20), "420502")  # Yichang
        assert not calendar.is_working_day(date(2020, 2, 19), "420102")


def test_equally_specific_overrides_later_entry_wins() -> None:
    rest = CalendarOverride(date(2020, 3, 2), date(2020, 3, 2), DayKind.REST, "34")
    work = CalendarOverride(date(2020, 3, 2), date(2020, 3, 2), DayKind.WORKING, "340000")
    assert WorkCalendar([rest, work]).is_working_day(date(2020, 3, 2), "340104")
    assert not WorkCalendar([work, rest]).is_working_day(date(2020, 3, 2), "340104")


def test_override_spanning_new_year() -> None:
    calendar = WorkCalendar(
        [CalendarOverride(date(2020, 12, 28), date(2021, 1, 8), DayKind.REST, "34")]
    )
    assert calendar.add_working_days(date(2020, 12, 25), 1, "340104") == date(2021, 1, 11)
    assert calendar.add_working_days(date(2020, 12, 25), 1, "320100") == date(2020, 12, 28)


def test_override_range_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="before first_day"):
        CalendarOverride(date(2020, 3, 2), date(2020, 3, 1), DayKind.REST, reason="typo")


def test_override_selector_is_validated() -> None:
    with pytest.raises(ValueError, match="invalid region selector"):
        CalendarOverride(date(2020, 3, 2), date(2020, 3, 2), DayKind.REST, "Anhui")


def test_region_code_is_validated() -> None:
    with pytest.raises(ValueError, match="invalid region code"):
        CAL.is_working_day(date(2020, 3, 2), "34")


# --- Region selectors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "normalized"),
    [
        ("34", "34"),
        ("340000", "34"),
        ("3400", "34"),
        ("3401", "3401"),
        ("340100", "3401"),
        ("340104", "340104"),
        (" 34 ", "34"),
        ("110000", "11"),
        ("100000", "10"),
    ],
)
def test_normalize_region_selector(selector: str, normalized: str) -> None:
    assert normalize_region_selector(selector) == normalized


@pytest.mark.parametrize("selector", ["", "3", "341", "3401000", "00", "000000", "34a1", "Anhui"])
def test_bad_region_selectors(selector: str) -> None:
    with pytest.raises(ValueError, match="region selector"):
        normalize_region_selector(selector)


def test_region_matching_is_by_prefix() -> None:
    assert region_matches("34", "340102")
    assert region_matches("3401", "340102")
    assert region_matches("340102", "340102")
    assert not region_matches("3402", "340102")
    assert not region_matches("32", "340102")
    assert not region_matches("3401", "340000")  # a province-level record is not in Hefei


@pytest.mark.parametrize("code", ["34", "3401040", "34010a", ""])
def test_check_region_code(code: str) -> None:
    with pytest.raises(ValueError, match="6 digits"):
        check_region_code(code)


# --- Provisional dates -----------------------------------------------------------------------


def test_published_range_comes_from_the_library() -> None:
    assert CAL.published_through == last_published_year()
    assert CAL.published_through >= 2026  # holidays 0.109 has the 2026 notice


def test_days_after_the_published_range_are_provisional() -> None:
    last = CAL.published_through
    assert not CAL.is_provisional(date(last, 12, 31))
    assert CAL.is_provisional(date(last + 1, 1, 1))
    assert not CAL.is_provisional(date(2020, 4, 8))


def test_published_range_can_be_pinned() -> None:
    calendar = WorkCalendar(published_through=2021)
    assert calendar.is_provisional(date(2022, 1, 1))
    assert not calendar.is_provisional(date(2021, 12, 31))
