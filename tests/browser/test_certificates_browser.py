"""Certificates on a phone: the admin's expiry review, the worker's "what to do by when", and
the public verification page opened from the QR code."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.conftest import horizontal_overflow, login
from tests.conftest import PASSWORD, valid_national_id
from trainer.certificates import services
from trainer.certificates.models import Suspension
from trainer.clock import today
from trainer.db import db

ID1 = valid_national_id("34010419900307001")


@pytest.fixture
def register(app, people):
    day = today()
    with app.app_context():
        services.ensure_catalogue(db.session)
        db.session.add(Suspension(
            name="Anhui drill", start_on=day - dt.timedelta(days=50),
            lift_on=day - dt.timedelta(days=8), regions=["34"], types=[],
            effect="deemed_valid", holder_deadline="30wd", exam_deadline="60wd"))
        db.session.flush()
        for number, due in [("PH-1", day - dt.timedelta(days=40)),
                            ("PH-2", day + dt.timedelta(days=30)),
                            ("PH-3", day + dt.timedelta(days=900))]:
            services.add_certificate(
                db.session, number=number, holder_user_id=people["worker"],
                holder_name="Wang Worker", id_number=ID1, type_code="1.2",
                region_code="340104", employer_id=people["acme_id"],
                issued_on=due - dt.timedelta(days=2000), expires_on=due, source="admin")
        db.session.commit()


def test_admin_reviews_expiry_on_a_360_px_phone(browser, live_server, people, register):
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True, locale="en")
    page = context.new_page()
    try:
        login(page, "admin", PASSWORD)
        page.goto("/admin/certificates")
        assert page.locator("[data-testid=count-deemed_valid] strong").inner_text() == "1"
        assert page.locator("svg rect.window").count() == 1
        assert horizontal_overflow(page) == 0
        page.click("[data-testid=count-due_soon]")
        items = page.locator("[data-testid=certificate-list] li")
        assert items.count() == 1 and "PH-2" in items.inner_text()
        with page.expect_download() as download:
            page.click("[data-testid=export-csv]")
        assert download.value.suggested_filename.endswith(".csv")
    finally:
        context.close()


def test_worker_sees_what_to_do_and_verification_works_from_the_qr(phone, people, register):
    page = phone
    login(page, "13800000001", PASSWORD)
    page.goto("/certificates")
    todo = page.locator("[data-testid=todo]").first.inner_text()
    assert "视为有效至" in todo and "前完成复审培训并申请考试" in todo
    assert horizontal_overflow(page) == 0
    # The QR code encodes the verification URL; a phone that scans it opens that page.
    page.goto("/verify/PH-1")
    assert page.locator("[data-testid=verification]").is_visible()
    assert ID1 not in page.content() and "视为有效" in page.content()
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    assert horizontal_overflow(page) == 0
