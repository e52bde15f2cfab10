"""Demo certificates for ``trainer demo``: a few hundred, dated relative to today, so the
dashboard, the worker pages and the verification page show every status.

- the demo workers 13800000001-3 hold certificates that are deemed valid under a demo
  suspension, due soon, valid and expired;
- a lifted demo suspension in Anhui (``34``) covers certificates due in its window;
- the rest are spread over regions, types and employers, due from a year ago to four years on.

Idempotent: certificates are matched by number, the suspension by name.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from trainer.accounts.models import Employer, User
from trainer.accounts.rules import national_id_check_char
from trainer.certificates import services, timelines
from trainer.certificates.models import Certificate, Suspension
from trainer.clock import today
from trainer.db import db

DEMO_SUSPENSION = "演示：安徽省一级响应期间暂停考试发证 (demo)"
REGIONS = ["340104", "340102", "340100", "320102", "320100", "440300", "510000", "640000",
           "130100", "110000"]
TYPES = ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "4.1", "9.16", "10.4", "PM", "SM"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞"]
COUNT = 300


def _id_number(rng: random.Random, region: str) -> str:
    birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 35))
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + national_id_check_char(first17)


def _ensure_suspension(day: dt.date) -> tuple[Suspension, bool]:
    existing = db.session.scalar(sa.select(Suspension).where(Suspension.name == DEMO_SUSPENSION))
    if existing is not None:
        return existing, False
    suspension = Suspension(
        name=DEMO_SUSPENSION, start_on=day - dt.timedelta(days=50),
        lift_on=day - dt.timedelta(days=8), regions=["34"], types=[],
        effect="deemed_valid", holder_deadline="30wd", exam_deadline="60wd",
        source_url="https://yjt.ah.gov.cn/", notes="Demo data modelled on Anhui, February 2020.")
    db.session.add(suspension)
    db.session.flush()
    return suspension, True


def load() -> list[str]:
    day = today()
    services.ensure_catalogue(db.session)
    suspension, created_suspension = _ensure_suspension(day)
    if created_suspension:
        timelines.refresh(db.session)
    context = timelines.load_context(db.session)
    employers = {e.name: e for e in db.session.scalars(sa.select(Employer))}
    employer_list = list(employers.values())
    existing = set(db.session.scalars(
        sa.select(Certificate.number).where(Certificate.number.like("DEMO-%"))))
    created = 0

    def add(number: str, type_code: str, region: str, due: dt.date, *, name: str,
            id_number: str, holder: User | None = None, employer: Employer | None = None,
            review: bool = True) -> None:
        nonlocal created
        if number in existing:
            return
        validity = 3 if type_code in {"PM", "SM"} else 6
        if review and type_code not in {"PM", "SM"}:
            # Due date is the next review; expiry three years later.
            review_due: dt.date | None = due
            expires = due.replace(year=due.year + 3) if not (due.month == 2 and due.day == 29) \
                else due + dt.timedelta(days=3 * 365)
            issued = expires.replace(year=expires.year - validity) \
                if not (expires.month == 2 and expires.day == 29) \
                else expires - dt.timedelta(days=validity * 365)
        else:
            review_due = None
            expires = due
            issued = due - dt.timedelta(days=validity * 365)
        services.add_certificate(
            db.session, context, number=number, holder_user_id=holder.id if holder else None,
            holder_name=name, id_number=id_number, type_code=type_code, region_code=region,
            employer_id=employer.id if employer else None, issued_on=issued,
            expires_on=expires, review_due_on=review_due, source="demo",
            review_extended=False, superseded=False)
        created += 1

    window_due = (suspension.start_on + dt.timedelta(days=10)) if suspension.start_on else day
    workers = {u.phone: u for u in db.session.scalars(
        sa.select(User).where(User.phone.in_(["13800000001", "13800000002", "13800000003"])))}
    for phone, plans in {
        "13800000001": [("1.2", "340104", window_due), ("2.1", "340104", day + dt.timedelta(days=45))],
        "13800000002": [("1.1", "340104", day + dt.timedelta(days=700)),
                        ("SM", "340100", day + dt.timedelta(days=20))],
        "13800000003": [("2.1", "320102", day + dt.timedelta(days=25)),
                        ("3.1", "320102", day - dt.timedelta(days=30))],
    }.items():
        worker = workers.get(phone)
        if worker is None:
            continue
        for index, (type_code, region, due) in enumerate(plans, start=1):
            add(f"DEMO-{phone[-4:]}-{index}", type_code, region, due, name=worker.name,
                id_number=worker.national_id or _id_number(random.Random(phone), region),
                holder=worker, employer=worker.employer, review=type_code not in {"PM", "SM"})

    rng = random.Random(2020)
    for i in range(COUNT):
        region = rng.choice(REGIONS)
        if i % 6 == 0:
            # Inside the demo suspension's window, in Anhui: deemed valid.
            region = rng.choice(["340104", "340102", "340100"])
            due = suspension.start_on + dt.timedelta(days=rng.randrange(0, 40))
        else:
            due = day + dt.timedelta(days=rng.randrange(-365, 4 * 365))
        region_employers = [e for e in employer_list if e.region_code[:2] == region[:2]]
        employer = rng.choice(region_employers) if region_employers and rng.random() < 0.7 \
            else None
        add(f"DEMO-{i:06d}", rng.choice(TYPES), region, due,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
            id_number=_id_number(rng, region), employer=employer)
    db.session.commit()
    lines = []
    if created_suspension:
        lines.append(f"suspension {DEMO_SUSPENSION} added")
    if created:
        lines.append(f"certificates: {created} demo certificates added")
    return lines
