"""Working-day calendar for counting legal deadlines in China.

Pure: no clock, no database. The national calendar comes from the ``holidays`` library
(statutory holidays, the days off they are moved to, and the adjusted weekend working days
调休 published each year by the State Council's General Office). Admins add overrides on top,
e.g. a province's delayed resumption of work in February 2020.

Published range and provisional dates
-------------------------------------
The library records each year's State Council notice as data
(``ChinaStaticHolidays.special_public_holidays``, one entry per year; 2026 in holidays 0.109).
For years after the last such entry it still returns holidays, but they are a guess: the lunar
dates are right, yet the moved days off are a generic "weekend holiday moves to the next
workday" rule and there are no adjusted weekend working days at all, whereas every real
notice since 2001 has had some. It does not label those years as estimated, so we decide
ourselves: a day is provisional when its year is after the last year that has a notice in the
library. Callers may pin the year with ``published_through`` (e.g. when an admin has entered
next year's notice as overrides before the library caught up).

Speed
-----
Each (region scope, year) pair is materialised once as a byte per day plus prefix sums of
working days, so ``is_working_day`` is a dict hit and an index, and ``add_working_days`` is a
bisect per year crossed. Results are also memoised because a batch run asks the same few
questions (a handful of lift dates × deadlines) for every certificate. The caches only grow;
concurrent threads may at worst compute the same table twice.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import accumulate

import holidays

_REGION_CODE = re.compile(r"\d{6}")
_SELECTOR = re.compile(r"(?:\d{2}){1,3}")
_ONE_DAY = timedelta(days=1)


def normalize_region_selector(selector: str) -> str:
    """Return the region selector as the code prefix it stands for.

    GB/T 2260 pads higher levels with zeros, so ``340000`` (Anhui) ≡ ``34`` and ``340100``
    (Hefei) ≡ ``3401``. Trailing ``00`` pairs are stripped; what remains must be 2, 4 or 6
    digits.
    """
    text = selector.strip()
    if not _SELECTOR.fullmatch(text):
        raise ValueError(
            f"invalid region selector {selector!r}: expected 2, 4 or 6 digits of a GB/T 2260 "
            "code, e.g. '34', '3401' or '340104'"
        )
    while len(text) > 2 and text.endswith("00"):
        text = text[:-2]
    if text == "00":
        raise ValueError(f"invalid region selector {selector!r}: '00' is not a province")
    return text


def check_region_code(region_code: str) -> str:
    """Validate a certificate's region: a full 6-digit GB/T 2260 code such as ``340104``."""
    if not _REGION_CODE.fullmatch(region_code):
        raise ValueError(
            f"invalid region code {region_code!r}: expected 6 digits (GB/T 2260), e.g. '340104'"
        )
    return region_code


def region_matches(normalized_selector: str, region_code: str) -> bool:
    """True when the (already normalized) selector covers the 6-digit region code."""
    return region_code.startswith(normalized_selector)


class DayKind(StrEnum):
    REST = "rest"
    WORKING = "working"


@dataclass(frozen=True, slots=True)
class CalendarOverride:
    """An admin decision that turns days into rest days or working days.

    ``region_selector`` empty means nationwide. When several overrides hit the same day in a
    region, the most specific selector wins (county over city over province over nationwide),
    and among equally specific ones the later in the sequence wins: a local decision refines a
    broader one, and a later entry corrects an earlier one.
    """

    first_day: date
    last_day: date
    kind: DayKind
    region_selector: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(
                f"calendar override {self.reason or self.first_day.isoformat()!r}: "
                f"last_day {self.last_day} is before first_day {self.first_day}"
            )
        if self.region_selector:
            object.__setattr__(
                self, "region_selector", normalize_region_selector(self.region_selector)
            )
        object.__setattr__(self, "kind", DayKind(self.kind))


def last_published_year() -> int:
    """The last year whose State Council holiday notice the installed library contains."""
    from holidays.countries.china import ChinaStaticHolidays

    return max(ChinaStaticHolidays.special_public_holidays)


@dataclass(frozen=True, slots=True)
class _YearTable:
    first_ordinal: int
    # One byte per day of the year: 1 = working day.
    flags: bytes
    # prefix[i] = number of working days among the first i days of the year.
    prefix: list[int]


class WorkCalendar:
    """Working days: Mon–Fri minus statutory holidays plus adjusted weekend working days (调休),
    then admin overrides for the region.

    ``region_code`` None means "nationwide overrides only".
    """

    def __init__(
        self,
        overrides: Sequence[CalendarOverride] = (),
        *,
        published_through: int | None = None,
    ) -> None:
        # Apply order: least specific first, then input order, so later writes win.
        indexed = sorted(
            enumerate(overrides), key=lambda pair: (len(pair[1].region_selector), pair[0])
        )
        self._overrides: tuple[CalendarOverride, ...] = tuple(o for _, o in indexed)
        self._published_through = (
            last_published_year() if published_through is None else published_through
        )
        self._national: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        self._scope_by_region: dict[str | None, tuple[int, ...]] = {}
        self._tables: dict[tuple[tuple[int, ...], int], _YearTable] = {}
        self._added: dict[tuple[date, int, tuple[int, ...]], date] = {}

    @property
    def published_through(self) -> int:
        return self._published_through

    def is_provisional(self, day: date) -> bool:
        """True when ``day`` is after the years covered by a published official calendar."""
        return day.year > self._published_through

    def is_working_day(self, day: date, region_code: str | None = None) -> bool:
        table = self._table(self._scope(region_code), day.year)
        return table.flags[day.toordinal() - table.first_ordinal] == 1

    def add_working_days(self, after: date, n: int, region_code: str | None = None) -> date:
        """The n-th working day strictly after ``after`` (``after`` itself is never counted)."""
        if n < 1:
            raise ValueError(f"working days to add must be at least 1, got {n}")
        scope = self._scope(region_code)
        key = (after, n, scope)
        found = self._added.get(key)
        if found is None:
            found = self._count_forward(after + _ONE_DAY, n, scope)
            self._added[key] = found
        return found

    def roll_forward(self, day: date, region_code: str | None = None) -> date:
        """``day`` itself when it is a working day, else the next working day."""
        if self.is_working_day(day, region_code):
            return day
        return self.add_working_days(day, 1, region_code)

    def _count_forward(self, start: date, n: int, scope: tuple[int, ...]) -> date:
        remaining = n
        year = start.year
        table = self._table(scope, year)
        index = start.toordinal() - table.first_ordinal
        while True:
            base = table.prefix[index]
            available = table.prefix[-1] - base
            if available >= remaining:
                # Smallest k with prefix[k] == base + remaining; day k-1 is the answer.
                k = bisect_left(table.prefix, base + remaining, lo=index)
                return date.fromordinal(table.first_ordinal + k - 1)
            remaining -= available
            year += 1
            table = self._table(scope, year)
            index = 0

    def _scope(self, region_code: str | None) -> tuple[int, ...]:
        """Indexes (in apply order) of the overrides that reach this region."""
        scope = self._scope_by_region.get(region_code)
        if scope is None:
            if region_code is None:
                scope = tuple(i for i, o in enumerate(self._overrides) if not o.region_selector)
            else:
                check_region_code(region_code)
                scope = tuple(
                    i
                    for i, o in enumerate(self._overrides)
                    if region_matches(o.region_selector, region_code)
                )
            self._scope_by_region[region_code] = scope
        return scope

    def _national_year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        cached = self._national.get(year)
        if cached is None:
            calendar = holidays.China(years=year)
            rest = frozenset(d for d in calendar if d.year == year)
            # weekend_workdays also carries cross-year entries (e.g. a December Saturday
            # worked for the next New Year); keep this year's only, the others come with
            # their own year.
            worked = frozenset(d for d in calendar.weekend_workdays if d.year == year)
            cached = (rest, worked)
            self._national[year] = cached
        return cached

    def _table(self, scope: tuple[int, ...], year: int) -> _YearTable:
        table = self._tables.get((scope, year))
        if table is None:
            table = self._build_table(scope, year)
            self._tables[(scope, year)] = table
        return table

    def _build_table(self, scope: tuple[int, ...], year: int) -> _YearTable:
        rest, worked = self._national_year(year)
        first = date(year, 1, 1)
        first_ordinal = first.toordinal()
        days = date(year + 1, 1, 1).toordinal() - first_ordinal
        flags = bytearray(days)
        for i in range(days):
            day = date.fromordinal(first_ordinal + i)
            if day.weekday() >= 5:
                flags[i] = day in worked
            else:
                flags[i] = day not in rest
        year_end = date(year, 12, 31)
        for index in scope:
            override = self._overrides[index]
            lo = max(override.first_day, first)
            hi = min(override.last_day, year_end)
            value = 1 if override.kind is DayKind.WORKING else 0
            for ordinal in range(lo.toordinal(), hi.toordinal() + 1):
                flags[ordinal - first_ordinal] = value
        prefix = [0, *accumulate(flags)]
        return _YearTable(first_ordinal=first_ordinal, flags=bytes(flags), prefix=prefix)
