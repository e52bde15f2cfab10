"""Benchmark: working-day calendar and certificate timelines at batch scale.

Target: a nightly batch over 1,000,000 certificates must not be dominated by calendar work.

    PYTHONPATH=. /work/main/.venv/bin/python bench/certificates_calendar.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import date, timedelta

from trainer.certificates.calendar import CalendarOverride, DayKind, WorkCalendar
from trainer.certificates.rules import (
    CertificateFacts,
    Suspension,
    SuspensionEffect,
    parse_deadline,
    status_on,
    timeline,
)

REGIONS = ["340104", "340202", "320100", "640104", "440304", "510107", "420102", "110101"]
TYPES = ["1.1", "1.2", "2.1", "9.16", "10.1", "SM", "PM"]
SUSPENSIONS = [
    Suspension(
        "Anhui",
        ("34",),
        (),
        date(2020, 1, 24),
        date(2020, 2, 25),
        SuspensionEffect.DEEMED_VALID,
        parse_deadline("30wd"),
        parse_deadline("60wd"),
    ),
    Suspension(
        "Ningxia",
        ("64",),
        (),
        date(2020, 1, 25),
        date(2020, 3, 2),
        SuspensionEffect.DEEMED_VALID,
        parse_deadline("60d"),
        parse_deadline("60d"),
    ),
    Suspension("Shenzhen", ("4403",), (), date(2020, 1, 24), None, SuspensionEffect.DEEMED_VALID),
    Suspension(
        "Jiangsu",
        ("32",),
        (),
        date(2020, 2, 1),
        date(2020, 4, 30),
        SuspensionEffect.EXTEND_BY,
        extend_by_days=90,
    ),
    Suspension(
        "Sichuan",
        ("51",),
        (),
        date(2020, 1, 10),
        date(2020, 12, 31),
        SuspensionEffect.EXTEND_TO,
        extend_to=date(2020, 12, 31),
    ),
    Suspension(
        "Anhui second",
        ("34",),
        (),
        date(2020, 4, 1),
        date(2020, 4, 20),
        SuspensionEffect.DEEMED_VALID,
        parse_deadline("30wd"),
        parse_deadline("60wd"),
    ),
]
OVERRIDES = [CalendarOverride(date(2020, 2, 3), date(2020, 3, 10), DayKind.REST, "42")]


def timed(label: str, n: int, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<58} {elapsed:7.3f} s  {elapsed / n * 1e6:7.2f} µs/op")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    n = parser.parse_args().n
    rng = random.Random(20200225)
    first = date(2019, 1, 1).toordinal()
    days = [date.fromordinal(first + rng.randrange(8 * 365)) for _ in range(n)]
    regions = [rng.choice(REGIONS) for _ in range(n)]

    started = time.perf_counter()
    calendar = WorkCalendar(OVERRIDES)
    for year in range(2019, 2028):
        calendar.is_working_day(date(year, 1, 1))
    print(
        f"{'cold start: 9 years of the national calendar':<58} "
        f"{time.perf_counter() - started:7.3f} s"
    )

    def is_working() -> None:
        for day, region in zip(days, regions, strict=True):
            calendar.is_working_day(day, region)

    timed(f"is_working_day × {n:,} (random day, region)", n, is_working)

    lifts = [date(2020, 2, 25), date(2020, 3, 2), date(2020, 4, 20)]

    def add_batch() -> None:
        for i, region in enumerate(regions):
            calendar.add_working_days(lifts[i % 3], 30 + 30 * (i & 1), region)

    timed(f"add_working_days × {n:,} (batch: 3 lifts × 2 deadlines)", n, add_batch)

    cold = WorkCalendar(OVERRIDES)
    ns = [rng.randrange(1, 120) for _ in range(n)]

    def add_distinct() -> None:
        for day, k, region in zip(days, ns, regions, strict=True):
            cold.add_working_days(day, k, region)

    timed(f"add_working_days × {n:,} (random day, n < 120, mostly uncached)", n, add_distinct)

    certificates = [
        CertificateFacts(
            type_code=rng.choice(TYPES),
            region_code=region,
            expires_on=date(2019, 6, 1) + timedelta(days=rng.randrange(3 * 365)),
            applied_on=None if rng.random() < 0.7 else date(2020, 3, 15),
        )
        for region in regions
    ]
    lines = []

    def timelines() -> None:
        lines.extend(timeline(facts, SUSPENSIONS, calendar) for facts in certificates)

    timed(f"timeline × {n:,} ({len(SUSPENSIONS)} suspensions)", n, timelines)

    today = date(2020, 6, 1)

    def statuses() -> None:
        for line in lines:
            status_on(line, today, revoked=False, renewal_window_days=60)

    timed(f"status_on × {n:,}", n, statuses)


if __name__ == "__main__":
    main()
