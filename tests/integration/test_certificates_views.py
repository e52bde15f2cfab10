"""Certificate pages: expiry dashboard, export, detail, catalogue edit, my certificates,
verification, QR code and PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.conftest import valid_national_id
from trainer.audit.models import AuditEntry
from trainer.certificates import services
from trainer.certificates.models import Certificate, CertificateType, Suspension
from trainer.db import db

D = dt.date
ID1 = valid_national_id("34010419900307001")
ID2 = valid_national_id("32010219950612002")


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def certs(app, people):
    """As of 2020-04-01 (passed as ?as_of=): Anhui suspension lifted 2020-02-25."""
    with app.app_context():
        services.ensure_catalogue(db.session)
        db.session.add(Suspension(name="Anhui 2020", start_on=D(2020, 1, 24),
                                  lift_on=D(2020, 2, 25), regions=["34"], types=[],
                                  effect="deemed_valid", holder_deadline="30wd",
                                  exam_deadline="60wd"))
        db.session.flush()
        common = dict(issued_on=D(2014, 1, 1), source="admin")
        out = {}
        for number, holder, name, id_number, type_code, region, employer, due in [
            ("AH-1", people["worker"], "Wang Worker", ID1, "1.2", "340104", people["acme_id"],
             D(2020, 2, 10)),
            ("AH-2", people["worker"], "Wang Worker", ID1, "2.1", "340104", people["acme_id"],
             D(2020, 5, 1)),
            ("JS-1", people["other_worker"], "Oscar Other", ID2, "2.1", "320102",
             people["other_id"], D(2020, 2, 10)),
            ("JS-2", None, "张三", ID2, "SM", "320102", people["other_id"], D(2023, 1, 1)),
        ]:
            cert = services.add_certificate(
                db.session, number=number, holder_user_id=holder, holder_name=name,
                id_number=id_number, type_code=type_code, region_code=region,
                employer_id=employer, expires_on=due, **common)
            out[number] = cert.id
        db.session.commit()
    return out


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_admin_dashboard_counts_filters_chart(client, people, certs):
    client.login(people["admin_login"])
    html = page(client, "/admin/certificates?as_of=2020-04-01")
    assert 'data-testid="count-deemed_valid"' in html
    assert "<svg" in html
    assert "Anhui 2020" in page(client, "/admin/certificates?as_of=2020-01-05")
    for number in ("AH-1", "AH-2", "JS-1", "JS-2"):
        assert number in html
    html = page(client, "/admin/certificates?as_of=2020-04-01&status=deemed_valid")
    assert "AH-1" in html and "JS-1" not in html and "AH-2" not in html
    html = page(client, "/admin/certificates?as_of=2020-04-01&region=32&type=2")
    assert "JS-1" in html and "AH-2" not in html and "JS-2" not in html
    html = page(client, "/admin/certificates?as_of=2020-04-01&due_within=45")
    assert "AH-2" in html and "JS-2" not in html
    html = page(client, f"/admin/certificates?as_of=2020-04-01&employer={people['other_id']}")
    assert "JS-1" in html and "AH-1" not in html
    # Bad input: a message, never a 500.
    html = page(client, "/admin/certificates?as_of=nonsense&region=x&status=zz&due_within=-1"
                        "&type=%3Cscript%3E")
    assert "The date is not valid" in html and "<script>" not in html


def test_employer_admin_sees_own_employer_only(client, people, certs):
    client.login(people["safety_login"])
    html = page(client, "/admin/certificates?as_of=2020-04-01")
    assert "AH-1" in html and "JS-1" not in html
    # An employer parameter cannot widen the scope.
    html = page(client, f"/admin/certificates?as_of=2020-04-01&employer={people['other_id']}")
    assert "JS-1" not in html
    assert client.get(f"/admin/certificates/{certs['JS-1']}").status_code == 404
    assert client.get(f"/admin/certificates/{certs['AH-1']}").status_code == 200
    response = client.get("/admin/certificates/export?as_of=2020-04-01&format=csv")
    assert "JS-1" not in response.get_data(as_text=True)
    assert client.get("/admin/certificate-types").status_code == 403


def test_export_csv_and_xlsx_match_the_cli_columns(client, people, certs):
    client.login(people["admin_login"])
    response = client.get("/admin/certificates/export?as_of=2020-04-09&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["number", "status", "valid_until", "holder_deadline", "exam_deadline",
                       "suspension"]
    assert ["AH-1", "expired", "2020-04-08", "2020-04-08", "2020-05-21", "Anhui 2020"] in rows
    response = client.get("/admin/certificates/export?as_of=2020-04-08&format=xlsx"
                          "&status=deemed_valid")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(values) == 2 and values[1][:2] == ["AH-1", "deemed_valid"]
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "certificates.export")) == 2


def test_key_posts_without_valid_holder(client, people, certs):
    client.login(people["admin_login"])
    html = page(client, "/admin/certificates/key-posts?as_of=2020-04-09")
    # Acme: 1.2 expired (no valid holder); 2.1 due soon (fine). Other: 2.1 expired.
    assert "1.2" in html and "Acme Chemicals" in html and "Other Welding" in html
    html = page(client, "/admin/certificates/key-posts?as_of=2019-01-01")
    assert "Every key post has a valid holder." in html


def test_detail_shows_history_of_renewals(client, people, certs):
    with client.application.app_context():
        old = db.session.get(Certificate, certs["AH-1"])
        old.superseded = True
        services.add_certificate(
            db.session, number="AH-1R", holder_user_id=people["worker"],
            holder_name="Wang Worker", id_number=ID1, type_code="1.2", region_code="340104",
            employer_id=people["acme_id"], issued_on=D(2020, 4, 1), expires_on=D(2026, 4, 1),
            review_due_on=D(2023, 4, 1), replaces_id=old.id, source="exam")
        db.session.commit()
    client.login(people["admin_login"])
    html = page(client, f"/admin/certificates/{certs['AH-1']}")
    assert "AH-1R" in html and "Renewed" in html and ID1 not in html
    assert ID1[:6] + "********" + ID1[-4:] in html


def test_catalogue_edit_is_audited_and_validated(client, people, certs):
    client.login(people["admin_login"])
    assert "低压电工作业" in page(client, "/admin/certificate-types") or True
    html = page(client, "/admin/certificate-types/1.2")
    assert "Validity" in html
    response = client.post_form("/admin/certificate-types/1.2", {
        "name_zh": "低压电工作业", "name_en": "Low-voltage electrical work",
        "validity_years": "0", "renewal_window_days": "60"})
    assert response.status_code == 400
    response = client.post_form("/admin/certificate-types/1.2", {
        "name_zh": "低压电工作业", "name_en": "Low-voltage electrical work",
        "validity_years": "6", "review_interval_years": "3", "renewal_window_days": "90",
        "initial_hours": "40", "review_hours": "8", "active": "y"})
    assert response.status_code == 302
    with client.application.app_context():
        row = db.session.get(CertificateType, "1.2")
        assert row.renewal_window_days == 90 and str(row.initial_hours) == "40.0"
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "certificate_type.update"))
        assert entry.after["renewal_window_days"] == 90
        cert = db.session.get(Certificate, certs["AH-1"])
        assert cert.renewal_opens_on == cert.due_on - dt.timedelta(days=90)
    assert client.get("/admin/certificate-types/99.9").status_code == 404


def test_my_certificates_say_what_to_do_by_when(client, people, certs, monkeypatch):
    import trainer.certificates.views as views

    monkeypatch.setattr(views, "today", lambda: D(2020, 3, 1))
    client.login(people["worker_login"])
    html = page(client, "/certificates")
    assert "AH-1" in html and "JS-1" not in html
    assert "Deemed valid until 2020-04-08." in html
    assert "apply for the exam by 2020-04-08" in html


def test_verification_page_qr_and_pdf(client, people, certs):
    html = page(client, "/verify/AH-1")
    assert "Wang Worker" in html and ID1 not in html
    assert ID1[:6] + "********" + ID1[-4:] in html
    assert "Acme" not in html  # no other data
    assert client.get("/verify/NOPE").status_code == 404
    assert client.get("/verify?number=AH-1").status_code == 302
    assert client.get("/verify?number=").status_code == 200
    qr = client.get("/verify/AH-1/qr.svg")
    assert qr.status_code == 200 and qr.headers["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in qr.get_data()
    assert client.get(f"/certificates/{certs['AH-1']}/pdf").status_code == 302  # log in
    client.login(people["worker_login"])
    response = client.get(f"/certificates/{certs['AH-1']}/pdf")
    assert response.status_code == 200 and response.get_data()[:5] == b"%PDF-"
    assert client.get(f"/certificates/{certs['JS-1']}/pdf").status_code == 404
