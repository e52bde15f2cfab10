"""Exam staff pages on a phone: no sideways scrolling, the countdown runs, extra time works."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import horizontal_overflow, login
from tests.conftest import PASSWORD
from tests.integration.test_exams_admin import add_exam, answer, finish, start
from trainer.db import db
from trainer.exams.models import ExamAttempt


@pytest.fixture
def sitting(app, people) -> dict[str, Any]:
    from tests.integration.exams_helpers import make_bank

    with app.app_context():
        bank = make_bank()
        exam = add_exam("低压电工 理论考试（上午场）", bank)
        done = start(exam, people["other_worker"])
        answer(done, right=False)
        finish(done)
        live = start(add_exam("低压电工 补考", bank), people["worker"])
        answer(live, right=True, count=2)
    return {**people, "live": live, "done": done}


def test_staff_pages_fit_a_360px_phone_and_the_countdown_runs(phone, sitting, tmp_path):
    phone.set_viewport_size({"width": 360, "height": 780})
    login(phone, sitting["instructor_login"], PASSWORD)
    phone.goto("/exams/admin/live")
    cell = phone.locator("[data-seconds-left]").first
    first = cell.inner_text()
    phone.wait_for_timeout(2100)
    assert cell.inner_text() != first  # counts down from the server's figure
    assert horizontal_overflow(phone) == 0
    phone.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    for path in ("/exams/admin/results", f"/exams/admin/attempts/{sitting['done']}",
                 f"/exams/admin/attempts/{sitting['live']}"):
        phone.goto(path)
        assert horizontal_overflow(phone) == 0, path


def test_extra_time_from_the_phone(app, phone, sitting):
    login(phone, sitting["admin_login"], PASSWORD)
    phone.goto(f"/exams/admin/attempts/{sitting['live']}")
    phone.fill("#minutes", "15")
    phone.fill("#reason", "考场停电")
    phone.click("#extra-time button[type=submit]")
    phone.wait_for_selector(".flash-success")
    with app.app_context():
        assert db.session.get(ExamAttempt, sitting["live"]).extra_seconds == 900
