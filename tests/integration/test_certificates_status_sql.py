"""Status in SQL agrees with the pure rules (rules.timeline + rules.status_on).

The stored timeline columns are computed by the pure function, so what is tested here is that
(1) ``timelines.refresh`` keeps them equal to ``rules.timeline`` after suspensions change, and
(2) the SQL CASE and the per-status range conditions give ``rules.status_on``'s answer, on
generated certificates and on the worked example and the four real rule variants of domain.md.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from trainer.certificates import queries, rules, services, timelines
from trainer.certificates.models import Certificate, Suspension
from trainer.db import db

D = dt.date

ANHUI = dict(name="Anhui Level I 2020", start_on=D(2020, 1, 24), lift_on=D(2020, 2, 25),
             regions=["34"], types=[], effect="deemed_valid", holder_deadline="30wd",
             exam_deadline="60wd")
NINGXIA = dict(name="Ningxia 2020", start_on=D(2020, 1, 25), lift_on=D(2020, 3, 2),
               regions=["64"], types=[], effect="deemed_valid", holder_deadline="60d",
               exam_deadline="60d")
SHENZHEN = dict(name="Shenzhen 2020", start_on=D(2020, 1, 25), lift_on=None,
                regions=["4403"], types=[], effect="deemed_valid")
JIANGSU = dict(name="Jiangsu 2020", start_on=D(2020, 2, 1), lift_on=D(2020, 4, 30),
               regions=["32"], types=[], effect="extend_by", extend_by="90d")
SICHUAN = dict(name="Sichuan 2020", start_on=D(2020, 1, 10), lift_on=D(2020, 12, 31),
               regions=["51"], types=[], effect="extend_to", extend_to=D(2020, 12, 31))
# A later Anhui suspension for electricians only, spanning the first one's holder deadline:
# chained certificates move to it.
ANHUI_LATER = dict(name="Anhui electricians April 2020", start_on=D(2020, 4, 1),
                   lift_on=D(2020, 4, 20), regions=["3401"], types=["1"],
                   effect="deemed_valid", holder_deadline="30wd", exam_deadline="60wd")

REGIONS = ["340104", "340202", "320100", "320582", "640100", "440300", "440100", "510100",
           "110101"]
TYPES = ["1.1", "1.2", "2.1", "10.1", "9.16", "PM", "SM"]


def add_suspension(**values):
    row = Suspension(**values)
    db.session.add(row)
    db.session.flush()
    return row


def make_certificate(number, type_code="1.2", region="340104", due=None, **extra):
    due = due or D(2020, 2, 10)
    values = dict(number=number, holder_name="张三", id_number="340104199001011234",
                  type_code=type_code, region_code=region, issued_on=due - dt.timedelta(days=2000),
                  expires_on=due)
    values.update(extra)
    return services.add_certificate(db.session, **values)


def python_status(cert, suspensions, calendar, x):
    line = rules.timeline(timelines.facts_of(cert), suspensions, calendar)
    window = cert.type.renewal_window_days
    status = rules.status_on(line, x, revoked=cert.revoked_on is not None and cert.revoked_on <= x,
                             renewal_window_days=window)
    return status.value, line


def sql_statuses(x):
    rows = db.session.execute(sa.select(Certificate.number, queries.status_case(x)))
    return dict(rows.all())


def export(x, **filters):
    rows = list(queries.export_rows(db.session, queries.CertificateFilter(as_of=x, **filters)))
    assert rows[0] == queries.EXPORT_COLUMNS
    return {row[0]: row[1:] for row in rows[1:]}


@pytest.fixture
def catalogue(ctx):
    services.ensure_catalogue(db.session)
    db.session.commit()


def test_worked_example_anhui(catalogue):
    suspension = add_suspension(**{**ANHUI, "lift_on": None})
    make_certificate("AH-1")
    make_certificate("JS-1", region="320100")
    db.session.commit()

    assert sql_statuses(D(2020, 2, 20)) == {"AH-1": "deemed_valid", "JS-1": "expired"}
    assert export(D(2020, 2, 20))["AH-1"] == ["deemed_valid", "", "", "", ANHUI["name"]]
    assert export(D(2020, 2, 11))["JS-1"] == ["expired", "2020-02-10", "", "", ""]
    assert export(D(2020, 2, 10))["JS-1"] == ["due_soon", "2020-02-10", "", "", ""]

    suspension.lift_on = D(2020, 2, 25)
    timelines.refresh(db.session)
    db.session.commit()
    assert export(D(2020, 4, 8))["AH-1"] == [
        "deemed_valid", "2020-04-08", "2020-04-08", "2020-05-21", ANHUI["name"]]
    assert export(D(2020, 4, 9))["AH-1"] == [
        "expired", "2020-04-08", "2020-04-08", "2020-05-21", ANHUI["name"]]

    # The holder applied in time: valid until the exam is done (open-ended).
    cert = db.session.scalar(sa.select(Certificate).where(Certificate.number == "AH-1"))
    cert.renewal_applied_on = D(2020, 4, 1)
    services.update_timeline(db.session, cert)
    db.session.commit()
    assert export(D(2020, 6, 1))["AH-1"] == [
        "deemed_valid", "", "2020-04-08", "2020-05-21", ANHUI["name"]]


def test_four_real_rule_variants(catalogue):
    for values in (NINGXIA, SHENZHEN, JIANGSU, SICHUAN):
        add_suspension(**values)
    make_certificate("NX", region="640100", due=D(2020, 2, 10))
    make_certificate("SZ", region="440300", due=D(2020, 2, 10))
    make_certificate("GZ", region="440100", due=D(2020, 2, 10))
    make_certificate("JS", region="320582", due=D(2020, 2, 10))
    make_certificate("JS-early", region="320582", due=D(2020, 1, 31))
    make_certificate("SC", region="510100", due=D(2020, 1, 10))
    make_certificate("SC-late", region="510100", due=D(2021, 1, 1))
    db.session.commit()

    x = D(2020, 5, 1)
    rows = export(x)
    # Ningxia: 60 calendar days after the lift 2020-03-02 = 2020-05-01 (Labour Day holiday),
    # rolled forward to the next working day: 2020-05-06.
    assert rows["NX"] == ["deemed_valid", "2020-05-06", "2020-05-06", "2020-05-06",
                          NINGXIA["name"]]
    assert rows["SZ"] == ["deemed_valid", "", "", "", SHENZHEN["name"]]
    assert rows["GZ"] == ["expired", "2020-02-10", "", "", ""]
    # Jiangsu: extended by 90 days, not rolled to a working day.
    assert rows["JS"] == ["deemed_valid", "2020-05-10", "", "", JIANGSU["name"]]
    assert rows["JS-early"] == ["expired", "2020-01-31", "", "", ""]
    assert rows["SC"] == ["deemed_valid", "2020-12-31", "", "", SICHUAN["name"]]
    assert rows["SC-late"] == ["valid", "2021-01-01", "", "", ""]
    assert export(D(2020, 5, 11))["JS"][0] == "expired"
    assert export(D(2021, 1, 1))["SC"][0] == "expired"


def test_chained_suspension_moves_the_deadline(catalogue):
    add_suspension(**ANHUI)
    later = add_suspension(**ANHUI_LATER)
    make_certificate("HF-elec", type_code="1.2", region="340104")
    make_certificate("HF-weld", type_code="2.1", region="340104")
    db.session.commit()
    timelines.refresh(db.session)
    db.session.commit()
    rows = export(D(2020, 4, 9))
    assert rows["HF-weld"] == ["expired", "2020-04-08", "2020-04-08", "2020-05-21",
                               ANHUI["name"]]
    assert rows["HF-elec"][0] == "deemed_valid"
    assert rows["HF-elec"][4] == later.name
    # Deleting the later suspension and refreshing puts it back on the first one.
    db.session.delete(later)
    db.session.flush()
    timelines.refresh(db.session)
    db.session.commit()
    assert export(D(2020, 4, 9))["HF-elec"][0] == "expired"


def random_certificates(rng, count):
    for i in range(count):
        due = D(2019, 11, 1) + dt.timedelta(days=rng.randrange(0, 500))
        review = None
        expires = due
        if rng.random() < 0.4:
            review = due
            expires = due + dt.timedelta(days=rng.choice([0, 400, 1095]))
        applied = None
        if rng.random() < 0.3:
            applied = D(2020, 2, 1) + dt.timedelta(days=rng.randrange(0, 150))
        revoked = None
        if rng.random() < 0.05:
            revoked = D(2020, 1, 1) + dt.timedelta(days=rng.randrange(0, 300))
        yield dict(number=f"R{i:05d}", type_code=rng.choice(TYPES), region=rng.choice(REGIONS),
                   due=expires, review_due_on=review, renewal_applied_on=applied,
                   revoked_on=revoked)


def test_sql_agrees_with_the_pure_rules_on_generated_data(catalogue):
    rng = random.Random(20200225)
    suspension_rows = [add_suspension(**values)
                       for values in (ANHUI, NINGXIA, SHENZHEN, JIANGSU, SICHUAN, ANHUI_LATER)]
    context = timelines.load_context(db.session)
    for values in random_certificates(rng, 400):
        make_certificate(values.pop("number"), values.pop("type_code"), values.pop("region"),
                         values.pop("due"), **values)
    db.session.commit()

    def check():
        context = timelines.load_context(db.session)
        certs = db.session.scalars(sa.select(Certificate)).all()
        days = [D(2019, 12, 1) + dt.timedelta(days=rng.randrange(0, 600)) for _ in range(12)]
        days += [D(2020, 2, 25), D(2020, 4, 8), D(2020, 4, 9), D(2020, 12, 31)]
        for x in days:
            expected = {}
            lines = {}
            for cert in certs:
                expected[cert.number], lines[cert.number] = python_status(
                    cert, context.suspensions, context.calendar, x)
            assert sql_statuses(x) == expected, x
            filters = queries.CertificateFilter(as_of=x)
            counts = queries.counts_by_status(db.session, filters)
            for status in queries.STATUSES:
                numbers = set(db.session.scalars(
                    sa.select(Certificate.number).where(queries.status_condition(status, x))))
                assert numbers == {n for n, s in expected.items() if s == status}, (status, x)
                assert counts[status] == len(numbers)
            rows = export(x)
            for number, line in lines.items():
                assert rows[number] == [
                    expected[number],
                    line.valid_until.isoformat() if line.valid_until else "",
                    line.holder_deadline.isoformat() if line.holder_deadline else "",
                    line.exam_deadline.isoformat() if line.exam_deadline else "",
                    line.suspension or "",
                ], (number, x)
            # The Python reading of the stored columns agrees too (pages use it).
            for cert in certs:
                assert services.status_of(cert, x).value == expected[cert.number]

    assert context.problems == []
    check()
    # Change suspensions and refresh: stored timelines follow.
    suspension_rows[2].lift_on = D(2020, 3, 20)
    suspension_rows[2].holder_deadline = "30wd"
    suspension_rows[2].exam_deadline = "3m"
    suspension_rows[0].lift_on = D(2020, 3, 15)
    db.session.delete(suspension_rows[3])
    db.session.flush()
    result = timelines.refresh(db.session)
    assert result.updated > 0
    db.session.commit()
    check()
    again = timelines.refresh(db.session)
    assert again.updated == 0 and again.reset_uncovered == 0 and again.due_dates_changed == 0
    db.session.rollback()


def test_filters(catalogue):
    add_suspension(**ANHUI)
    make_certificate("A", region="340104", type_code="1.2")
    make_certificate("B", region="340202", type_code="10.1", due=D(2020, 3, 1))
    make_certificate("C", region="320100", type_code="SM", due=D(2020, 6, 1))
    db.session.commit()
    x = D(2020, 2, 1)

    def numbers(**kw):
        filters = queries.CertificateFilter(as_of=x, **kw)
        rows, more = queries.page(db.session, filters, 1)
        assert not more
        return [cert.number for cert, _ in rows]

    assert numbers() == ["A", "B", "C"]
    assert numbers(region="34") == ["A", "B"]
    assert numbers(region="340100") == ["A"]
    assert numbers(type_code="1") == ["A"]
    assert numbers(type_code="10") == ["B"]
    assert numbers(status="due_soon") == ["A", "B"]
    assert numbers(due_within_days=10) == ["A"]
    assert numbers(status="valid") == ["C"]
