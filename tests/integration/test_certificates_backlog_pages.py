"""Suspension, backlog, exam-session and reminder pages: roles, CSRF, bad input, audit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from trainer.audit.models import AuditEntry
from trainer.certificates import reminders, services
from trainer.certificates.backlog_models import BacklogBooking, ExamSession
from trainer.certificates.models import Certificate, Suspension
from trainer.db import db

D = dt.date

ANHUI = {"name": "Anhui Level I", "start": "2020-01-24", "lift": "", "regions": "34",
         "types": "", "effect": "deemed_valid", "holder_deadline": "30wd",
         "exam_deadline": "60wd", "extend_by": "", "extend_to": "", "source_url": "",
         "notes": ""}


@pytest.fixture
def setup(app, people):
    with app.app_context():
        services.ensure_catalogue(db.session)
        for i in range(3):
            services.add_certificate(
                db.session, number=f"AH-{i}", holder_name="张三", id_number="340104199001011234",
                type_code="1.2", region_code="340104", issued_on=D(2016, 2, 10),
                expires_on=D(2020, 2, 10) + dt.timedelta(days=i),
                holder_user_id=people["worker"], employer_id=people["acme_id"])
        services.add_certificate(
            db.session, number="JS-1", holder_name="李四", id_number="320102199001011234",
            type_code="2.1", region_code="320102", issued_on=D(2016, 2, 10),
            expires_on=D(2020, 2, 10))
        db.session.commit()
    return people


def login(client, login_name, locale="en"):
    client.login(login_name)
    client.post_form("/language", {"locale": locale})
    return client


def admin(client, people):
    return login(client, people["admin_login"])


def suspension(app, name="Anhui Level I"):
    with app.app_context():
        row = db.session.scalar(sa.select(Suspension).where(Suspension.name == name))
        if row is not None:
            db.session.expunge(row)
        return row


def test_declare_lift_and_see_the_backlog(app, client, setup):
    admin(client, setup)
    response = client.post_form("/admin/suspensions/new", ANHUI)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/admin/suspensions").get_data(as_text=True)
    assert "Covers 3 certificate(s)." in page
    s = suspension(app)

    # The lift page shows the count at once, and the JSON behind its live update.
    lift_page = client.get(f"/admin/suspensions/{s.id}/lift?on=2020-02-10").get_data(as_text=True)
    assert "A lift on 2020-02-10 covers 1 certificate(s)." in lift_page
    assert client.get(f"/admin/suspensions/{s.id}/affected?on=2020-02-11").json["count"] == 2
    assert client.get(f"/admin/suspensions/{s.id}/affected?on=junk").json["count"] is None

    response = client.post_form(f"/admin/suspensions/{s.id}/lift", {"on": "2020-02-25"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/backlog/{s.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "lifted on 2020-02-25: it covers 3 certificate(s)" in page
    assert "2020-04-08" in page and "2020-05-21" in page
    assert 'data-testid="backlog-total">3<' in page
    assert "Not feasible" in page  # no sessions yet
    assert 'data-testid="burn-down"' in page

    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["suspension.create", "suspension.lift"]
        assert db.session.scalar(sa.select(Certificate.holder_deadline)
                                 .where(Certificate.number == "AH-0")) == D(2020, 4, 8)


def test_sessions_plan_and_progress(app, client, setup):
    admin(client, setup)
    client.post_form("/admin/suspensions/new", {**ANHUI, "lift": "2020-02-25"})
    s = suspension(app)
    bad = client.post_form("/admin/exam-sessions", {"day": "2099-13-01", "capacity": "2"})
    assert bad.status_code == 400 and "is not a date" in bad.get_data(as_text=True)
    bad = client.post_form("/admin/exam-sessions", {"day": "2099-01-01", "capacity": "-1"})
    assert bad.status_code == 400
    bad = client.post_form("/admin/exam-sessions", {"day": "2099-01-01", "capacity": "2",
                                                     "region": "3"})
    assert bad.status_code == 400 and "is not a region code" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExamSession)) == 0
    ok = client.post_form("/admin/exam-sessions", {"day": "2099-01-05", "place": "合肥考点",
                                                    "capacity": "2", "types": "1"})
    assert ok.status_code == 302
    client.post_form("/admin/exam-sessions", {"day": "2099-01-06", "capacity": "5"})

    response = client.post_form(f"/admin/backlog/{s.id}/plan")
    assert response.status_code == 302
    page = client.get(f"/admin/backlog/{s.id}").get_data(as_text=True)
    assert "Planned: 3 new booking(s)." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BacklogBooking)) == 3
        cert_id = db.session.scalar(sa.select(Certificate.id).where(Certificate.number == "AH-0"))
        js_id = db.session.scalar(sa.select(Certificate.id).where(Certificate.number == "JS-1"))

    # Progress: passed, then bad input, then a certificate outside the backlog.
    response = client.post_form(f"/admin/backlog/{s.id}/certificates/{cert_id}/progress",
                                {"state": "passed", "on": "2099-01-05"})
    assert response.status_code == 302
    assert "progress saved" in client.get(f"/admin/backlog/{s.id}").get_data(as_text=True)
    response = client.post_form(f"/admin/backlog/{s.id}/certificates/{cert_id}/progress",
                                {"state": "passed", "on": "tomorrow"}, follow_redirects=True)
    assert "is not a date" in response.get_data(as_text=True)
    assert client.post_form(f"/admin/backlog/{s.id}/certificates/{js_id}/progress",
                            {"state": "passed", "on": "2099-01-05"}).status_code == 404
    page = client.get(f"/admin/backlog/{s.id}?progress=passed").get_data(as_text=True)
    assert "AH-0" in page and "AH-1" not in page

    # Applied sets the certificate's application date: the rules then keep it deemed valid.
    with app.app_context():
        other = db.session.scalar(sa.select(Certificate.id).where(Certificate.number == "AH-1"))
    client.post_form(f"/admin/backlog/{s.id}/certificates/{other}/progress",
                     {"state": "applied", "on": "2020-03-20"})
    with app.app_context():
        row = db.session.get(Certificate, other)
        assert row.renewal_applied_on == D(2020, 3, 20) and row.valid_until is None

    # Deleting a session releases its bookings.
    with app.app_context():
        first = db.session.scalar(sa.select(ExamSession.id).where(ExamSession.day == D(2099, 1, 5)))
    response = client.post_form(f"/admin/exam-sessions/{first}/delete")
    assert response.status_code == 302
    assert "booking(s) released" in client.get("/admin/exam-sessions").get_data(as_text=True)


def test_form_errors_are_shown_and_nothing_changes(app, client, setup):
    admin(client, setup)
    response = client.post_form("/admin/suspensions/new", {**ANHUI, "start": "2020-02-30",
                                                            "holder_deadline": "30 days",
                                                            "types": "77"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "is not a date" in text and "is not a deadline" in text
    assert "is not a certificate type" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Suspension)) == 0
    client.post_form("/admin/suspensions/new", ANHUI)
    s = suspension(app)
    response = client.post_form(f"/admin/suspensions/{s.id}/lift", {"on": "2019-01-01"})
    assert response.status_code == 400 and "before the start" in response.get_data(as_text=True)
    assert suspension(app).lift_on is None
    # Without the CSRF token nothing is accepted.
    response = client.post("/admin/suspensions/new", data=ANHUI)
    assert response.status_code == 400
    assert client.post(f"/admin/suspensions/{s.id}/delete").status_code == 400


def test_edit_and_delete_are_audited(app, client, setup):
    admin(client, setup)
    client.post_form("/admin/suspensions/new", ANHUI)
    s = suspension(app)
    form = client.get(f"/admin/suspensions/{s.id}/edit").get_data(as_text=True)
    assert 'value="Anhui Level I"' in form
    response = client.post_form(f"/admin/suspensions/{s.id}/edit",
                                {**ANHUI, "lift": "2020-02-25", "holder_deadline": "60d"})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "suspension.update"
        assert entry.before == {"lift_on": None, "holder_deadline": "30wd"}
        assert entry.after == {"lift_on": "2020-02-25", "holder_deadline": "60d"}
        assert db.session.scalar(sa.select(Certificate.holder_deadline)
                                 .where(Certificate.number == "AH-0")) == D(2020, 4, 26)  # worked Sunday
    client.post_form("/admin/suspensions/new", {**ANHUI, "name": "Other"})
    clash = client.post_form(f"/admin/suspensions/{s.id}/edit", {**ANHUI, "name": "Other"})
    assert clash.status_code == 400 and "exists already" in clash.get_data(as_text=True)
    response = client.post_form(f"/admin/suspensions/{s.id}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())
                                 .limit(1)) == "suspension.delete"
        # "Other" still covers the certificates, now as an ongoing suspension.
        row = db.session.scalar(sa.select(Certificate).where(Certificate.number == "AH-0"))
        assert row.covered and row.suspension.name == "Other" and row.holder_deadline is None


@pytest.mark.parametrize("persona", ["worker", "safety", "instructor"])
def test_only_admins_manage_suspensions(app, client, setup, persona):
    client.login(setup[persona + "_login"])
    for url in ("/admin/suspensions", "/admin/suspensions/new", "/admin/backlog",
                "/admin/exam-sessions"):
        assert client.get(url).status_code == 403, url
    assert client.post_form("/admin/suspensions/new", ANHUI).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Suspension)) == 0


def test_worker_sees_own_reminders(app, client, runner, setup):
    with app.app_context():
        services.add_certificate(
            db.session, number="R-1", holder_name="Wang", id_number="340104199001011234",
            type_code="1.2", region_code="340104", issued_on=D(2020, 7, 1),
            expires_on=D(2026, 6, 30), holder_user_id=setup["worker"],
            employer_id=setup["acme_id"])
        db.session.commit()
    runner.invoke(args=["certificates", "remind", "--today", "2026-06-01"])
    login(client, setup["worker_login"])
    page = client.get("/my/reminders").get_data(as_text=True)
    assert "R-1" in page and "2026-06-30" in page and "30 days before" in page
    mine = client.get("/certificates").get_data(as_text=True)
    assert 'data-testid="reminders"' in mine and "30 days before" in mine
    client.logout()
    client.login(setup["other_safety_login"])
    assert "R-1" not in client.get("/my/reminders").get_data(as_text=True)


def test_pages_in_chinese(app, client, setup):
    login(client, setup["admin_login"], "zh_CN")
    client.post_form("/admin/suspensions/new", ANHUI)
    page = client.get("/admin/suspensions").get_data(as_text=True)
    assert "停考" in page
    s = suspension(app)
    page = client.get(f"/admin/backlog/{s.id}").get_data(as_text=True)
    assert "积压" in page
    assert not re.search(r"Exam backlog|Plan: book", page)


def test_message_text_languages(app, setup):
    with app.app_context():
        assert reminders.kinds_label("due") == "Due date"


def test_backlog_shows_review_hours_from_courses(app, client, setup, monkeypatch):
    """Hours come from trainer.courses.hours.credited_hours (the courses area's helper)."""
    import sys
    import types
    from decimal import Decimal

    calls = []

    def credited_hours(user_id, type_code, purpose=None, since=None):
        calls.append((user_id, type_code, purpose, since))
        return Decimal("6.5")

    fake = types.ModuleType("trainer.courses.hours")
    fake.credited_hours = credited_hours
    monkeypatch.setitem(sys.modules, "trainer.courses.hours", fake)
    with app.app_context():
        from trainer.certificates.models import CertificateType

        db.session.get(CertificateType, "1.2").review_hours = Decimal("8")
        db.session.commit()
    admin(client, setup)
    client.post_form("/admin/suspensions/new", {**ANHUI, "lift": "2020-02-25"})
    page = client.get(f"/admin/backlog/{suspension(app).id}").get_data(as_text=True)
    assert "Review hours: 6.5 / 8.0" in page
    assert (setup["worker"], "1.2", "review", D(2019, 2, 10)) in calls
