"""Exam staff pages: sitting now, results by exam and employer with exports, attempt detail,
extra time. Real database (SQLite, or PostgreSQL when TRAINER_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.integration.exams_helpers import make_bank
from trainer.accounts.models import User
from trainer.audit.models import AuditEntry
from trainer.clock import utcnow
from trainer.db import db
from trainer.exams import api as exams_api
from trainer.exams import services
from trainer.exams.models import AttemptQuestion, Exam, ExamAttempt


def add_exam(title: str, bank_id: int, minutes: int = 30) -> int:
    exam = services.create_exam(services.ExamInput(
        title=title, bank_ids=[bank_id], question_count=10, time_limit_seconds=minutes * 60,
        certificate_type="1.2"), None)
    db.session.commit()
    return exam.id


def start(exam_id: int, user_id: int, when: dt.datetime | None = None) -> int:
    attempt, _created = services.start_attempt(db.session.get(Exam, exam_id),
                                               db.session.get(User, user_id), when or utcnow())
    db.session.commit()
    return attempt.id


def answer(attempt_id: int, right: bool, count: int | None = None) -> None:
    """Save right (or wrong) answers to the first ``count`` questions (all by default)."""
    attempt = db.session.get(ExamAttempt, attempt_id)
    for item in list(attempt.questions)[:count]:
        version = item.version
        if version.type == "true_false":
            shown: Any = bool(version.answer) if right else not version.answer
        else:
            order = item.option_order
            wanted = version.answer if right else [o for o in range(len(order))
                                                    if o not in version.answer][:1]
            shown = sorted(order.index(o) for o in wanted)
        services.save_answer(attempt.id, attempt.user_id, item.question_id, shown, None,
                             utcnow())
    db.session.commit()


def finish(attempt_id: int) -> None:
    services.submit(db.session.get(ExamAttempt, attempt_id), utcnow())
    db.session.commit()


@pytest.fixture(autouse=True)
def english(client) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # pages in English unless a test asks


@pytest.fixture
def setup(app, people) -> dict[str, Any]:
    """Exam A: the Acme worker passed, the other employer's worker failed; exam B: the Acme
    worker is sitting it now with 3 answers saved, the other worker too with none."""
    with app.app_context():
        bank = make_bank()
        exam_a = add_exam("低压电工 理论考试", bank)
        exam_b = add_exam("低压电工 补考练习", bank)
        a_pass = start(exam_a, people["worker"])
        answer(a_pass, right=True)
        finish(a_pass)
        a_fail = start(exam_a, people["other_worker"])
        answer(a_fail, right=False)
        finish(a_fail)
        live_acme = start(exam_b, people["worker"])
        answer(live_acme, right=True, count=3)
        live_other = start(exam_b, people["other_worker"])
    return {**people, "exam_a": exam_a, "exam_b": exam_b, "a_pass": a_pass, "a_fail": a_fail,
            "live_acme": live_acme, "live_other": live_other}


# -- who may see what --------------------------------------------------------------------

PAGES = ["/exams/admin/live", "/exams/admin/results", "/exams/admin/results.csv",
         "/exams/admin/results.xlsx"]


@pytest.mark.parametrize("path", PAGES)
def test_workers_are_refused_and_anonymous_sent_to_log_in(client, setup, path):
    assert client.get(path).status_code == 302
    client.login(setup["worker_login"])
    assert client.get(path).status_code == 403


def test_attempt_detail_of_another_employer_s_worker_is_404_to_an_employer_admin(client, setup):
    client.login(setup["other_safety_login"])
    assert client.get(f"/exams/admin/attempts/{setup['a_pass']}").status_code == 404
    assert client.get(f"/exams/admin/attempts/{setup['live_acme']}").status_code == 404
    assert client.get(f"/exams/admin/attempts/{setup['a_fail']}").status_code == 200
    assert client.get("/exams/admin/attempts/999999").status_code == 404


def test_worker_cannot_open_attempt_detail_even_their_own(client, setup):
    client.login(setup["worker_login"])
    assert client.get(f"/exams/admin/attempts/{setup['a_pass']}").status_code == 403


# -- sitting now ---------------------------------------------------------------------------

def test_live_list_shows_who_is_sitting_an_exam_with_time_left_and_answers(client, setup):
    client.login(setup["instructor_login"])
    page = client.get("/exams/admin/live").get_data(as_text=True)
    assert "Wang Worker" in page and "Oscar Other" in page
    assert "Answered 3 of 10" in page and "Answered 0 of 10" in page
    left = [int(s) for s in re.findall(r'data-seconds-left="(\d+)"', page)]
    assert len(left) == 2 and all(29 * 60 < s <= 30 * 60 for s in left)
    # Finished attempts are not "sitting now".
    assert f'data-attempt="{setup["a_pass"]}"' not in page


def test_live_list_of_an_employer_admin_has_only_their_people(client, setup):
    client.login(setup["safety_login"])
    page = client.get("/exams/admin/live").get_data(as_text=True)
    assert "Wang Worker" in page and "Oscar Other" not in page
    assert "1 people are sitting an exam." in page


def test_live_list_leaves_out_attempts_whose_time_is_over(app, client, setup):
    with app.app_context():
        attempt = db.session.get(ExamAttempt, setup["live_other"])
        attempt.deadline = utcnow() - dt.timedelta(minutes=5)  # past deadline + 30 s grace
        db.session.commit()
    client.login(setup["admin_login"])
    page = client.get(f"/exams/admin/live?exam={setup['exam_b']}").get_data(as_text=True)
    assert "Wang Worker" in page and "Oscar Other" not in page


# -- results -------------------------------------------------------------------------------

def test_results_by_exam_and_by_employer(client, setup):
    client.login(setup["admin_login"])
    page = client.get("/exams/admin/results").get_data(as_text=True)
    assert "2 finished attempts" in page
    by_exam = re.search(r'data-testid="by-exam">(.*?)</table>', page, re.S).group(1)
    assert "低压电工 理论考试" in by_exam and "<td>2</td><td>1 (50%)</td>" in by_exam
    by_employer = re.search(r'data-testid="by-employer">(.*?)</table>', page, re.S).group(1)
    assert "Acme Chemicals" in by_employer and "Other Welding" in by_employer
    assert "<td>1</td><td>1 (100%)</td><td>100.0</td>" in by_employer


def test_results_filters(client, setup):
    client.login(setup["instructor_login"])
    page = client.get("/exams/admin/results?outcome=failed").get_data(as_text=True)
    assert "Oscar Other" in page and "Wang Worker" not in page
    page = client.get(f"/exams/admin/results?employer={setup['acme_id']}").get_data(as_text=True)
    assert "Wang Worker" in page and "Oscar Other" not in page
    page = client.get(f"/exams/admin/results?exam={setup['exam_b']}").get_data(as_text=True)
    assert "0 finished attempts" in page
    # Nonsense filters are ignored, never a 500.
    assert client.get("/exams/admin/results?exam=abc&employer=-1&outcome=x&page=0").status_code == 200


def test_employer_admin_results_and_exports_hold_only_their_people(client, setup):
    client.login(setup["safety_login"])
    # Asking for another employer is overridden by their own.
    page = client.get(f"/exams/admin/results?employer={setup['other_id']}").get_data(as_text=True)
    assert "Wang Worker" in page and "Oscar Other" not in page and "Other Welding" not in page
    text = client.get(f"/exams/admin/results.csv?employer={setup['other_id']}").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:]] == ["Wang Worker"]
    workbook = load_workbook(io.BytesIO(client.get("/exams/admin/results.xlsx").data))
    names = [r[0] for r in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert names == ["Wang Worker"]


def test_csv_export(client, setup):
    client.login(setup["admin_login"])
    response = client.get("/exams/admin/results.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith("\ufeff".encode())  # Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Worker", "Mobile number", "Username", "Employer", "Exam"]
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"Wang Worker", "Oscar Other"}
    assert by_name["Wang Worker"][3] == "Acme Chemicals"
    assert by_name["Wang Worker"][10] == "100.0" and by_name["Wang Worker"][11] == "yes"
    assert by_name["Oscar Other"][11] == "no"
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", by_name["Wang Worker"][8])


def test_xlsx_export(client, setup):
    client.login(setup["instructor_login"])
    response = client.get(f"/exams/admin/results.xlsx?exam={setup['exam_a']}&outcome=passed")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "Worker" and len(rows) == 2
    assert rows[1][0] == "Wang Worker" and rows[1][10] == 100 and rows[1][11] == "yes"
    assert isinstance(rows[1][7], dt.datetime)  # a real date cell, in local time


def test_exports_keep_a_formula_looking_name_as_text(app, client, setup):
    with app.app_context():
        db.session.get(User, setup["worker"]).name = '=HYPERLINK("http://x","y")'
        db.session.commit()
    client.login(setup["admin_login"])
    text = client.get("/exams/admin/results.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    workbook = load_workbook(io.BytesIO(client.get("/exams/admin/results.xlsx").data))
    names = [r[0] for r in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in names


def test_results_in_chinese(client, setup):
    client.login(setup["admin_login"])
    page = client.get("/exams/admin/results", headers={"Accept-Language": "zh-CN"})
    assert "考试成绩" in page.get_data(as_text=True)
    text = client.get("/exams/admin/results.csv", headers={"Accept-Language": "zh-CN"})
    assert text.data.decode("utf-8-sig").startswith("学员")


# -- one attempt -------------------------------------------------------------------------

def test_attempt_detail_shows_each_question_version_answer_and_verdict(app, client, setup):
    client.login(setup["instructor_login"])
    page = client.get(f"/exams/admin/attempts/{setup['a_fail']}").get_data(as_text=True)
    assert "Oscar Other" in page and "低压电工 理论考试" in page
    assert page.count('data-question="') == 10
    assert "version 1" in page and "correct answer" in page and "Wrong" in page
    assert "Score" in page and "Failed" in page
    with app.app_context():
        first = db.session.scalar(sa.select(AttemptQuestion).where(
            AttemptQuestion.attempt_id == setup["a_fail"], AttemptQuestion.position == 1))
        assert first.version.stem in page


def test_attempt_in_progress_shows_answers_so_far_and_the_extra_time_form(client, setup):
    client.login(setup["admin_login"])
    page = client.get(f"/exams/admin/attempts/{setup['live_acme']}").get_data(as_text=True)
    assert "In progress" in page and "3 of 10" in page
    assert page.count(">Right<") == 3 and page.count("No answer") == 7
    assert 'id="extra-time"' in page


def test_employer_admin_sees_own_attempt_but_no_extra_time_form(client, setup):
    client.login(setup["safety_login"])
    page = client.get(f"/exams/admin/attempts/{setup['live_acme']}").get_data(as_text=True)
    assert "Wang Worker" in page and 'id="extra-time"' not in page


# -- extra time ----------------------------------------------------------------------------

def extra(client, attempt_id: int, **data: Any) -> Any:
    return client.post_form(f"/exams/admin/attempts/{attempt_id}/extra-time", data)


def test_extra_time_moves_the_deadline_and_is_audited(app, client, setup):
    with app.app_context():
        before = db.session.get(ExamAttempt, setup["live_acme"]).effective_deadline
    client.login(setup["instructor_login"])
    response = extra(client, setup["live_acme"], minutes="10", reason="手机没电，换设备")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Wang Worker has 10 more minutes." in page and "+10 min extra" in page
    with app.app_context():
        attempt = db.session.get(ExamAttempt, setup["live_acme"])
        assert attempt.extra_seconds == 600
        assert attempt.effective_deadline == before + dt.timedelta(minutes=10)
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "exam.extra_time"))
        assert entry.target_id == str(setup["live_acme"])
        assert entry.actor_id == setup["instructor"]
        assert entry.after["extra_seconds"] == 600 and entry.after["reason"] == "手机没电，换设备"
        # The worker's employer's safety officer finds it in their audit log.
        assert attempt.user.employer_id is not None
        assert entry.employer_id == attempt.user.employer_id


def test_extra_time_lets_the_worker_save_after_the_original_deadline(app, client, setup,
                                                                     monkeypatch):
    client.login(setup["admin_login"])
    assert extra(client, setup["live_acme"], minutes="5", reason="断网").status_code == 302
    client.logout()
    with app.app_context():
        attempt = db.session.get(ExamAttempt, setup["live_acme"])
        question_id = attempt.questions[5].question_id
        late = attempt.deadline + dt.timedelta(minutes=3)  # past deadline + 30 s grace
    monkeypatch.setattr(exams_api, "utcnow", lambda: late)
    client.login(setup["worker_login"])
    token = client.csrf("/account")
    response = client.put(f"/api/v1/attempts/{setup['live_acme']}/answers/{question_id}",
                          json={"response": True}, headers={"X-CSRFToken": token})
    # true/false accepted as is; a choice question refuses a bool with 422, never 409.
    assert response.status_code in (200, 422), response.get_json()
    body = client.get(f"/api/v1/attempts/{setup['live_acme']}").get_json()
    assert body["status"] == "in_progress" and 100 < body["seconds_left"] <= 120


@pytest.mark.parametrize("minutes", ["0", "121", "-5", "abc", ""])
def test_extra_time_refuses_bad_minutes_and_changes_nothing(app, client, setup, minutes):
    client.login(setup["instructor_login"])
    response = extra(client, setup["live_acme"], minutes=minutes, reason="x")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give between 1 and 120 minutes." in page or "Enter the number of minutes." in page
    with app.app_context():
        assert db.session.get(ExamAttempt, setup["live_acme"]).extra_seconds == 0
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.action == "exam.extra_time")) == 0


def test_extra_time_needs_a_reason_and_csrf(app, client, setup):
    client.login(setup["instructor_login"])
    response = extra(client, setup["live_acme"], minutes="5", reason="  ")
    assert response.status_code == 400
    assert "Say why the extra time is given." in response.get_data(as_text=True)
    response = client.post(f"/exams/admin/attempts/{setup['live_acme']}/extra-time",
                           data={"minutes": "5", "reason": "ok"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(ExamAttempt, setup["live_acme"]).extra_seconds == 0


def test_extra_time_refused_on_a_finished_or_timed_out_attempt(app, client, setup):
    client.login(setup["admin_login"])
    response = extra(client, setup["a_pass"], minutes="5", reason="late")
    assert response.status_code == 409
    assert "can no longer be extended" in response.get_data(as_text=True)
    with app.app_context():
        attempt = db.session.get(ExamAttempt, setup["live_other"])
        attempt.deadline = utcnow() - dt.timedelta(minutes=5)
        db.session.commit()
    assert extra(client, setup["live_other"], minutes="5", reason="late").status_code == 409
    with app.app_context():
        assert db.session.get(ExamAttempt, setup["live_other"]).extra_seconds == 0
        assert db.session.get(ExamAttempt, setup["a_pass"]).extra_seconds == 0


@pytest.mark.parametrize("persona", ["safety", "other_safety", "worker"])
def test_only_exam_staff_give_extra_time(app, client, setup, persona):
    client.login(setup[persona + "_login"])
    assert extra(client, setup["live_acme"], minutes="5", reason="x").status_code == 403
    with app.app_context():
        assert db.session.get(ExamAttempt, setup["live_acme"]).extra_seconds == 0

