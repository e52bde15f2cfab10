"""Benchmark: the certificate register at 1,000,000 rows on PostgreSQL.

Generates the certificates with COPY, declares the five suspensions of docs/domain.md, brings
the stored timelines up to date (``timelines.refresh``), then measures what the expiry
dashboard and the export do:

- counts by status as of a day (target ≤ 1 s),
- a filtered page of the list (target ≤ 200 ms),
- the full CSV export through ``trainer certificates export`` in a child process, streamed
  (target ≤ 30 s), with the child's peak RSS.

    PYTHONPATH=. .venv/bin/python bench/certificates_scale.py \\
        [--url postgresql://postgres@127.0.0.1:5432/trainer_certs_bench] [--n 1000000] [--reuse]

The database named in --url is created if missing, and its tables are dropped and recreated
(use a database of its own). ``--reuse`` keeps the rows of a previous run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

D = dt.date
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/trainer_certs_bench"
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
             "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
             "63", "64", "65"]
SUSPENSIONS = [
    dict(name="Anhui 2020", start_on=D(2020, 1, 24), lift_on=D(2020, 2, 25), regions=["34"],
         types=[], effect="deemed_valid", holder_deadline="30wd", exam_deadline="60wd"),
    dict(name="Ningxia 2020", start_on=D(2020, 1, 25), lift_on=D(2020, 3, 2), regions=["64"],
         types=[], effect="deemed_valid", holder_deadline="60d", exam_deadline="60d"),
    dict(name="Shenzhen 2020", start_on=D(2020, 1, 25), lift_on=None, regions=["4403"],
         types=[], effect="deemed_valid"),
    dict(name="Jiangsu 2020", start_on=D(2020, 2, 1), lift_on=D(2020, 4, 30), regions=["32"],
         types=[], effect="extend_by", extend_by="90d"),
    dict(name="Sichuan 2020", start_on=D(2020, 1, 10), lift_on=D(2020, 12, 31),
         regions=["51"], types=[], effect="extend_to", extend_to=D(2020, 12, 31)),
]


def ensure_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1)
                             + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("select 1 from pg_database where datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def regions(rng: random.Random) -> list[str]:
    codes = ["440304", "440305", "440306"]
    for province in PROVINCES:
        for city in range(1, 6):
            for county in range(1, 4):
                codes.append(f"{province}{city:02d}{county:02d}")
    return codes


def rows(n: int, types: list[str], region_codes: list[str], employers: list[tuple[int, str]],
         rng: random.Random) -> Iterator[tuple[Any, ...]]:
    now = dt.datetime.now(dt.UTC)
    start = D(2014, 1, 1).toordinal()
    span = D(2026, 12, 31).toordinal() - start
    by_province: dict[str, list[int]] = {}
    for employer_id, region in employers:
        by_province.setdefault(region[:2], []).append(employer_id)
    for i in range(n):
        type_code = rng.choice(types)
        region = rng.choice(region_codes)
        issued = D.fromordinal(start + rng.randrange(span))
        special = "." in type_code
        years = 6 if special else 3
        expires = issued.replace(year=issued.year + years, day=min(issued.day, 28))
        review = issued.replace(year=issued.year + 3, day=min(issued.day, 28)) \
            if special and rng.random() < 0.5 else None
        candidates = by_province.get(region[:2])
        employer = rng.choice(candidates) if candidates and rng.random() < 0.8 else None
        applied = expires - dt.timedelta(days=rng.randrange(0, 90)) \
            if rng.random() < 0.1 else None
        revoked = issued + dt.timedelta(days=400) if rng.random() < 0.005 else None
        id_number = f"{region}{1960 + i % 40}0101{i % 1000:03d}X"
        # The plain timeline, as the importer writes it; refresh() then settles the rows
        # that a suspension covers.
        due = review if review is not None and review < expires else expires
        yield (f"B{i:09d}", f"持证人{i % 9973}", id_number, type_code, region, employer,
               issued, expires, review, False, applied, revoked, False, "import", now,
               due, due - dt.timedelta(days=60), False, None, due, None, None, None, False)


COPY_COLUMNS = ("number, holder_name, id_number, type_code, region_code, employer_id, "
                "issued_on, expires_on, review_due_on, review_extended, renewal_applied_on, "
                "revoked_on, superseded, source, created_at, due_on, renewal_opens_on, "
                "covered, suspension_id, valid_until, holder_deadline, exam_deadline, "
                "awaiting_exam_since, provisional")


def timed(label: str, fn: Callable[[], Any], repeat: int = 5) -> Any:
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    print(f"{label}: median {statistics.median(times) * 1000:.0f} ms, "
          f"best {min(times) * 1000:.0f} ms (n={repeat})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("TRAINER_BENCH_DATABASE_URL",
                                                        DEFAULT_URL))
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    print("command:", " ".join(["PYTHONPATH=.", sys.executable, *sys.argv]))
    print("load average at start:", " ".join(f"{v:.1f}" for v in os.getloadavg()),
          f"({os.cpu_count()} CPUs)")

    from trainer import create_app
    from trainer.accounts.models import Employer, Region
    from trainer.certificates import dashboard, queries, services, timelines
    from trainer.certificates.models import Certificate, Suspension
    from trainer.db import db

    ensure_database(args.url)
    app = create_app({"DATABASE_URL": args.url, "SECRET_KEY": "bench" * 8, "REDIS_URL": None,
                      "TESTING": True})
    rng = random.Random(1_000_000)
    with app.app_context():
        count = db.session.scalar(sa.text(
            "select count(*) from information_schema.tables where table_name='certificates'"))
        existing = 0
        if count:
            existing = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
        db.session.commit()  # release the count's locks before DROP on another connection
        if not (args.reuse and existing == args.n):
            db.drop_all()
            db.create_all()
            services.ensure_catalogue(db.session)
            codes = regions(rng)
            for code in sorted({c[:2] + "0000" for c in codes} | set(codes)):
                db.session.add(Region(code=code, name=code))
            db.session.flush()
            employers = []
            for i in range(2000):
                region = rng.choice(codes)
                employer = Employer(name=f"Employer {i:04d}", region_code=region)
                db.session.add(employer)
                employers.append(employer)
            db.session.flush()
            employer_rows = [(e.id, e.region_code) for e in employers]
            for values in SUSPENSIONS:
                db.session.add(Suspension(**values))
            db.session.commit()
            types = list(db.session.scalars(sa.text("select code from certificate_types")))
            t0 = time.perf_counter()
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                with cursor.copy(f"COPY certificates ({COPY_COLUMNS}) FROM STDIN") as copy:
                    for row in rows(args.n, types, codes, employer_rows, rng):
                        copy.write_row(row)
                raw.commit()
            finally:
                raw.close()
            print(f"COPY {args.n} certificates: {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            result = timelines.refresh(db.session)
            db.session.commit()
            print(f"refresh (first, all timelines): {time.perf_counter() - t0:.1f} s; "
                  + " ".join(result.lines()))
            db.session.execute(sa.text("ANALYZE certificates"))
            db.session.commit()
        t0 = time.perf_counter()
        result = timelines.refresh(db.session)
        db.session.commit()
        print(f"refresh (nothing changed): {time.perf_counter() - t0:.1f} s; "
              f"examined {result.examined}, changed {result.updated}")
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
        print(f"certificates: {total}, suspensions: "
              f"{db.session.scalar(sa.select(sa.func.count()).select_from(Suspension))}")

        for as_of in (D(2020, 4, 9), D(2026, 11, 23)):
            filters = queries.CertificateFilter(as_of=as_of)
            counts = timed(f"counts by status as of {as_of}",
                           lambda f=filters: queries.counts_by_status(db.session, f))
            print("   ", counts)
        x = D(2020, 4, 9)
        some_employer = db.session.scalar(sa.text(
            "select employer_id from certificates where employer_id is not null limit 1"))
        pages = {
            "no filter": queries.CertificateFilter(as_of=x),
            "status=deemed_valid": queries.CertificateFilter(as_of=x, status="deemed_valid"),
            "status=valid": queries.CertificateFilter(as_of=x, status="valid"),
            "status=due_soon region=34": queries.CertificateFilter(
                as_of=x, status="due_soon", region="34"),
            "status=expired type=1": queries.CertificateFilter(
                as_of=x, status="expired", type_code="1"),
            "employer + status=valid": queries.CertificateFilter(
                as_of=x, status="valid", employer_id=some_employer),
            "due within 30 days": queries.CertificateFilter(as_of=x, due_within_days=30),
        }
        for label, filters in pages.items():
            timed(f"page 1 ({label})",
                  lambda f=filters: queries.page(db.session, f, 1, 50))
        timed("page 20 (status=valid)",
              lambda: queries.page(db.session, pages["status=valid"], 20, 50))
        timed("due-per-month chart (24 months)",
              lambda: dashboard.due_per_month(db.session, queries.CertificateFilter(as_of=x)),
              repeat=3)
        timed("key posts without a valid holder",
              lambda: dashboard.key_posts_without_valid_holder(
                  db.session, queries.CertificateFilter(as_of=x), "en"), repeat=3)

    env = dict(os.environ, TRAINER_DATABASE_URL=args.url, TRAINER_SECRET_KEY="bench" * 8,
               PYTHONPATH=".")
    out_path = "/tmp/certificates_export_bench.csv"
    command = [sys.executable, "-m", "trainer", "certificates", "export", "--as-of",
               "2020-04-09", "--output", out_path]
    t0 = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"full CSV export ({' '.join(command[1:])}): {elapsed:.1f} s, child peak RSS "
          f"{peak:.0f} MB, {os.path.getsize(out_path) / 1e6:.0f} MB written; "
          f"{completed.stderr.strip()}")
    if completed.returncode:
        print(completed.stdout, completed.stderr)
    print("load average at end:", " ".join(f"{v:.1f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
