"""Benchmark: suspensions and the exam backlog at register scale.

Targets (issue 5): with 1,000,000 certificates and 5 suspensions on PostgreSQL, applying a new
suspension to the backlog ≤ 10 s; the planner for 100,000 backlog items ≤ 5 s.

    createdb -h 127.0.0.1 -U postgres trainer_backlog_bench   # once; the bench empties it
    PYTHONPATH=. .venv/bin/python bench/certificates_backlog.py \
        --database postgresql://postgres@127.0.0.1:5432/trainer_backlog_bench [--n 1000000]

What is timed:
1. the pure planner on 100,000 synthetic items and 120 sessions (booking, verdict, burn-down);
2. on the database: declaring a new nationwide suspension (``suspensions.create``: SQL count
   and the stored timelines of every certificate it can touch, recomputed by the pure rules and
   written back), lifting it (``suspensions.lift``: the deadlines appear), and planning its
   backlog from the database (load, plan, write the bookings).
Certificates are generated with COPY (not timed): due dates spread over 2019–2027, regions of
eight provinces, the catalogue's types.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from typing import Any

D = dt.date
REGIONS = ["340104", "340202", "341102", "320100", "320582", "640104", "440304", "440106",
           "510107", "420102", "110101", "130102"]
TYPES = ["1.1", "1.2", "2.1", "3.1", "4.1", "9.16", "PM", "SM"]
# The five suspensions of the register before the one timed (the domain's seed rules).
EXISTING = [
    dict(name="Anhui Level I 2020", start="2020-01-24", lift="2020-02-25", regions="34"),
    dict(name="Ningxia 2020", start="2020-01-25", lift="2020-03-02", regions="64",
         holder_deadline="60d", exam_deadline="60d"),
    dict(name="Shenzhen 2020", start="2020-01-25", regions="4403", holder_deadline="none",
         exam_deadline="none"),
    dict(name="Jiangsu 2020", start="2020-02-01", lift="2020-04-30", regions="32",
         effect="extend_by", extend_by="90d"),
    dict(name="Sichuan 2020", start="2020-01-10", lift="2020-12-31", regions="51",
         effect="extend_to", extend_to="2020-12-31"),
]


def timed(label: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = work()
    print(f"{label:<72} {time.perf_counter() - started:8.3f} s", flush=True)
    return result


def bench_planner(n: int) -> None:
    from trainer.certificates import planner
    from trainer.certificates.calendar import WorkCalendar

    rng = random.Random(5)
    calendar = WorkCalendar()
    calendar.is_working_day(D(2022, 1, 1))
    today = D(2022, 5, 6)
    lifts = [D(2022, 4, 28), D(2022, 5, 5), D(2022, 5, 31)]
    items = []
    for i in range(n):
        lift = lifts[i % 3]
        region = rng.choice(REGIONS)
        items.append(planner.BacklogItem(
            i, rng.choice(TYPES), region, calendar.add_working_days(lift, 30, region),
            calendar.add_working_days(lift, 60, region),
            rng.choice([planner.ItemState.WAITING] * 6 + [planner.ItemState.APPLIED] * 3
                       + [planner.ItemState.PASSED])))
    sessions = []
    day = today
    while len(sessions) < 120:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            sessions.append(planner.ExamSession(len(sessions) + 1, day, 600, "考点", (), ""))
            sessions.append(planner.ExamSession(len(sessions) + 1, day, 300, "",
                                                (rng.choice(["1", "2", "SM"]),), "34"))
    result = timed(f"planner: {n:,} items, {len(sessions)} sessions (pure)",
                   lambda: planner.plan(items, sessions, calendar, today))
    print(f"    booked {len(result.bookings):,}, unplaced {len(result.unplaced):,}, late "
          f"{len(result.late):,}, feasible {result.feasible}, seats/working day needed "
          f"{result.seats_per_working_day}, offered {result.capacity_per_working_day:.0f}, "
          f"burn-down points {len(result.burn_down)}")


def generate(n: int) -> None:
    """n certificates by COPY, with the plain timeline (nothing covered yet)."""
    import sqlalchemy as sa

    from trainer.db import db

    rng = random.Random(20200225)
    first = D(2019, 1, 1).toordinal()
    span = 9 * 365
    raw = db.session.connection().connection.driver_connection
    columns = ("number, holder_name, id_number, type_code, region_code, issued_on, expires_on, "
               "review_extended, superseded, source, created_at, due_on, renewal_opens_on, "
               "covered, valid_until, provisional")
    now = dt.datetime.now(dt.UTC)
    with raw.cursor() as cursor, cursor.copy(f"COPY certificates ({columns}) FROM STDIN") as copy:
        for i in range(n):
            due = D.fromordinal(first + rng.randrange(span))
            copy.write_row((f"B{i:08d}", "张三", "34010419900101123X", rng.choice(TYPES),
                            rng.choice(REGIONS), due - dt.timedelta(days=6 * 365), due, False,
                            False, "import", now, due, due - dt.timedelta(days=60), False, due,
                            False))
    db.session.commit()
    db.session.execute(sa.text("ANALYZE certificates"))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True, help="PostgreSQL URL (emptied!)")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--planner-items", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the register of a previous run (skip generation and setup)")
    args = parser.parse_args()
    print("command:", " ".join(sys.argv))

    bench_planner(args.planner_items)

    import sqlalchemy as sa

    from trainer import create_app
    from trainer.certificates import backlog, services, suspensions
    from trainer.certificates.backlog_models import BacklogBooking, ExamSession
    from trainer.certificates.models import Certificate
    from trainer.db import db

    app = create_app({"DATABASE_URL": args.database, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        def declare(values: dict[str, str]) -> Any:
            data = suspensions.SuspensionInput(**values)
            valid, problems = suspensions.validate(data)
            assert valid is not None, problems.lines()
            created = suspensions.create(valid, None)
            db.session.commit()
            return created

        if args.reuse:
            for name in ("Hubei and Anhui Level I 2022", "Hubei ongoing 2026"):
                old = suspensions.find(name)
                if old is not None:
                    timed(f"  setup: delete {name} of the previous run",
                          lambda o=old: (suspensions.delete(o, None), db.session.commit()))
            db.session.execute(sa.delete(BacklogBooking))
            db.session.execute(sa.delete(ExamSession))
            db.session.commit()
        else:
            timed("reset schema", lambda: (db.drop_all(), db.create_all()))
            services.ensure_catalogue(db.session)
            db.session.commit()
            timed(f"generate {args.n:,} certificates (COPY, not a target)", lambda: generate(args.n))
            for values in EXISTING:
                timed(f"  setup: declare {values['name']}", lambda v=values: declare(v))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
        print(f"register: {total:,} certificates, "
              f"{len(suspensions.all_suspensions())} suspensions")

        new = dict(name="Hubei and Anhui Level I 2022", start="2022-03-01", lift="2022-05-31",
                   regions="42,34")
        suspension, (examined, changed) = timed(
            "TARGET ≤ 10 s: apply a new suspension (2 provinces, 3 months, lifted)",
            lambda: declare(new))
        print(f"    covers {suspensions.affected_count(suspension):,} certificates; timelines "
              f"examined {examined:,}, changed {changed:,}")

        def lift(target: Any, day: D) -> tuple[int, int]:
            counts = suspensions.lift(target, day, None)
            db.session.commit()
            return counts

        examined, changed = timed("TARGET ≤ 10 s: move its lift date to 2022-06-10",
                                  lambda: lift(suspension, D(2022, 6, 10)))
        print(f"    examined {examined:,}, changed {changed:,}")
        affected = timed("lift page: SQL count of the certificates a lift covers",
                         lambda: suspensions.affected_count(suspension, D(2022, 6, 30)))
        print(f"    {affected:,}")

        ongoing, (examined, changed) = timed(
            "worst case: declare an ongoing suspension (1 province, open window)",
            lambda: declare(dict(name="Hubei ongoing 2026", start="2026-01-01", regions="42")))
        print(f"    examined {examined:,}, changed {changed:,}")
        examined, changed = timed("worst case: lift it on 2026-03-31",
                                  lambda: lift(ongoing, D(2026, 3, 31)))
        print(f"    examined {examined:,}, changed {changed:,}")

        day = D(2022, 6, 1)
        while day < D(2022, 9, 1):
            if day.weekday() < 5:
                db.session.add(ExamSession(day=day, place="考点", capacity=400, type_codes=[],
                                           region_selector=""))
            day += dt.timedelta(days=1)
        db.session.commit()

        def plan() -> Any:
            result = backlog.plan_backlog(suspension, D(2022, 6, 1))
            db.session.commit()
            return result

        result, booked = timed("backlog plan from the database (load, plan, write bookings)", plan)
        print(f"    items {result.total:,}, booked {booked:,}, feasible {result.feasible}, "
              f"seats/working day needed {result.seats_per_working_day}")
        timed("backlog page: plan preview (no writes)",
              lambda: backlog.run_plan(suspension, D(2022, 6, 1)))


if __name__ == "__main__":
    main()
