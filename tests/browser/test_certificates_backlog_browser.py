"""An admin on a phone declares a suspension, lifts it, sees the backlog and plans sessions."""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import horizontal_overflow, login
from tests.conftest import PASSWORD
from trainer.certificates import services
from trainer.clock import today
from trainer.db import db


def test_admin_declares_lifts_and_plans_the_backlog(app, phone, people, tmp_path):
    with app.app_context():
        services.ensure_catalogue(db.session)
        day = today()
        for i in range(3):
            services.add_certificate(
                db.session, number=f"PH-{i}", holder_name="张三", id_number="340104199001011234",
                type_code="1.2", region_code="340104", issued_on=day - dt.timedelta(days=2000),
                expires_on=day - dt.timedelta(days=20 - i), holder_user_id=people["worker"],
                employer_id=people["acme_id"])
        db.session.commit()
    start = (day - dt.timedelta(days=40)).isoformat()
    lift = (day - dt.timedelta(days=1)).isoformat()

    page = phone
    login(page, "admin", PASSWORD)
    page.goto("/admin/suspensions")
    assert horizontal_overflow(page) == 0
    page.click("[data-testid=new-suspension]")
    page.fill("#name", "安徽一级响应")
    page.fill("#start", start)
    page.fill("#regions", "34")
    assert horizontal_overflow(page) == 0
    page.click("[data-testid=save-suspension]")
    page.wait_for_selector(".flash-success")
    assert "3" in page.locator("[data-testid^=covered-]").inner_text()

    page.click("[data-testid^=lift-]")
    assert horizontal_overflow(page) == 0
    # The count follows the date as it is typed (fetched, no reload).
    page.fill("#on", (day - dt.timedelta(days=20)).isoformat())
    page.wait_for_function(
        "document.querySelector('[data-testid=affected]').textContent.includes(' 1 ')")
    page.fill("#on", lift)
    page.wait_for_function(
        "document.querySelector('[data-testid=affected]').textContent.includes(' 3 ')")
    page.click("[data-testid=confirm-lift]")
    page.wait_for_selector("[data-testid=backlog-total]")
    assert page.locator("[data-testid=backlog-total]").inner_text() == "3"
    assert page.locator("[data-testid=backlog-list] li").count() == 3
    assert page.locator("[data-testid=verdict]").get_attribute("class").endswith("flash-error")
    assert horizontal_overflow(page) == 0

    page.click("[data-testid=manage-sessions]")
    page.fill("#day", (day + dt.timedelta(days=7)).isoformat())
    page.fill("#place", "合肥考点")
    page.fill("#capacity", "2")
    page.click("[data-testid=add-session]")
    page.wait_for_selector(".flash-success")
    page.fill("#day", (day + dt.timedelta(days=8)).isoformat())
    page.fill("#capacity", "5")
    page.click("[data-testid=add-session]")
    page.wait_for_selector("[data-testid=sessions] li >> nth=1")
    assert horizontal_overflow(page) == 0
    page.click("[data-testid=back-to-backlog]")
    assert page.locator("[data-testid=would-book]").inner_text() == "3"
    assert page.locator("[data-testid=verdict]").get_attribute("class").endswith("flash-success")

    page.click("[data-testid=plan]")
    page.wait_for_selector(".flash-success")
    assert page.locator("[data-testid=would-book]").inner_text() == "0"
    assert page.locator("[data-testid=burn-down] polyline").count() >= 1
    assert page.locator("[data-testid=backlog-list] [data-progress=booked]").count() == 3
    assert horizontal_overflow(page) == 0
    page.screenshot(path=str(tmp_path / "backlog.png"), full_page=True)
