"""The exams pages: the worker's list, start, result and review, the wrong-answer book, and the
instructor's exam form."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from tests.integration.exams_helpers import (
    api_login,
    correct_shown,
    create_exam,
    make_bank,
    new_client,
    wrong_shown,
)
from trainer.db import db
from trainer.exams.models import Exam, ExamAttempt, WrongAnswer
from trainer.questions.models import QuestionBank


def setup_exam(app, people, **fields: Any) -> int:
    with app.app_context():
        make_bank()
    staff = new_client(app)
    return create_exam(staff, api_login(staff, people["instructor_login"]), **fields)


def test_worker_lists_starts_and_resumes_an_exam(app, client, people):
    exam_id = setup_exam(app, people)
    client.login(people["worker_login"])
    page = client.get("/exams/").get_data(as_text=True)
    assert "低压电工 理论考试" in page and 'data-testid="start"' in page
    response = client.post_form(f"/exams/{exam_id}/start")
    assert response.status_code == 302
    take_url = response.headers["Location"]
    assert re.search(r"/exams/attempts/\d+$", take_url)
    take = client.get(take_url).get_data(as_text=True)
    assert 'id="exam"' in take and "exam.js" in take
    listing = client.get("/exams/").get_data(as_text=True)
    assert 'data-testid="resume"' in listing
    # Starting again resumes the same attempt.
    assert client.post_form(f"/exams/{exam_id}/start").headers["Location"] == take_url
    script = client.get("/exams/static/exam.js")
    assert script.status_code == 200 and b"performance.now()" in script.data
    script.close()
    assert client.get("/exams/static/nope.js").status_code == 404


def test_home_and_menu_link_to_exams(client, people):
    client.login(people["worker_login"])
    page = client.get("/").get_data(as_text=True)
    assert 'href="/exams/"' in page and 'data-testid="home-exams"' in page


def test_result_page_shows_score_verdict_and_review(app, client, people):
    exam_id = setup_exam(app, people)
    headers = api_login(client, people["worker_login"])
    attempt = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers).get_json()
    for index, question in enumerate(attempt["questions"]):
        value = correct_shown(question) if index < 5 else wrong_shown(question)
        client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}",
                   json={"response": value}, headers=headers)
    client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    # The exam page of a closed attempt goes to the result.
    assert client.get(f"/exams/attempts/{attempt['attempt_id']}").status_code == 302
    page = client.get(f"/exams/attempts/{attempt['attempt_id']}/result").get_data(as_text=True)
    assert 'data-testid="score">50<' in page and 'data-testid="verdict"' in page
    assert page.count('data-testid="review-item"') == 10
    assert "解析" in page
    assert 'data-testid="again"' in page  # the make-up is open after a fail
    other = new_client(app)
    other.login(people["other_worker_login"])
    assert other.get(f"/exams/attempts/{attempt['attempt_id']}/result").status_code == 404
    admin = new_client(app)
    admin.login(people["admin_login"])
    assert admin.get(f"/exams/attempts/{attempt['attempt_id']}/result").status_code == 200


def test_no_review_when_the_exam_hides_answers(app, client, people):
    exam_id = setup_exam(app, people, review_allowed=False)
    headers = api_login(client, people["worker_login"])
    attempt = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers).get_json()
    client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    page = client.get(f"/exams/attempts/{attempt['attempt_id']}/result").get_data(as_text=True)
    assert "review-item" not in page and "解析" not in page
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert all("explanation" not in q and "answer" not in q for q in state["questions"])


def test_wrong_answer_book_drill(app, client, people):
    exam_id = setup_exam(app, people, mode="practice")
    headers = api_login(client, people["worker_login"])
    attempt = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers).get_json()
    question = attempt["questions"][0]
    client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}",
               json={"response": wrong_shown(question)}, headers=headers)
    client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    page = client.get("/exams/wrong").get_data(as_text=True)
    assert 'data-testid="drill"' in page and question["stem"] in page
    with app.app_context():
        from trainer.questions.models import Question

        version = db.session.get(Question, question["id"]).current_version
        right = ["true"] if version.type == "true_false" else [str(i) for i in version.answer]
        wrong = ["false"] if version.type == "true_false" else ["1"]
    url = f"/exams/wrong/{question['id']}"
    assert client.post_form(url, {"answer": wrong}).status_code == 200
    for _ in range(2):
        response = client.post_form(url, {"answer": right})
        assert response.status_code == 200
        assert 'data-testid="drill-feedback"' in response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(sa.select(WrongAnswer))
        assert entry.cleared and entry.times_wrong == 2
    assert 'data-testid="book-empty"' in client.get("/exams/wrong").get_data(as_text=True)
    assert client.post_form(url, {"answer": right}).status_code == 404  # no longer in the book
    assert client.post(url, data={"answer": right}).status_code in (302, 400)  # no CSRF token


def form_data(bank_id: int, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "焊工 理论考试", "mode": "formal", "certificate_type": "2.1",
        "banks": [str(bank_id)], "time_limit_minutes": "90", "grace_seconds": "30",
        "pass_mark": "80", "max_attempts": "2", "review_allowed": "y",
        "rows-0-type": "true_false", "rows-0-count": "4", "rows-0-points": "10",
        "rows-1-type": "single", "rows-1-category": "电工", "rows-1-count": "6",
        "rows-1-points": "10",
    }
    data.update(changes)
    return data


def test_instructor_creates_and_edits_an_exam_with_a_blueprint(app, client, people):
    with app.app_context():
        make_bank()
        bank_id = db.session.scalar(sa.select(QuestionBank.id))
    client.login(people["instructor_login"])
    assert 'data-testid="save-exam"' in client.get("/exams/new").get_data(as_text=True)
    bad = client.post_form("/exams/new", form_data(bank_id, **{"rows-1-points": "5"}))
    assert bad.status_code == 422
    assert "70" in bad.get_data(as_text=True)  # "totals 70 points; it must total exactly 100"
    too_many = client.post_form("/exams/new", form_data(bank_id, **{"rows-1-count": "7",
                                                                    "rows-1-points": "60/7"}))
    assert too_many.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Exam)) == 0
    ok = client.post_form("/exams/new", form_data(bank_id))
    assert ok.status_code == 302, ok.get_data(as_text=True)
    with app.app_context():
        exam = db.session.scalar(sa.select(Exam))
        assert exam.question_count == 10 and exam.time_limit_seconds == 5400
        assert exam.blueprint[1] == {"type": "single", "category": "电工", "count": 6,
                                     "points": 10.0}
        assert exam.certificate_type == "2.1" and [b.id for b in exam.banks] == [bank_id]
        exam_id = exam.id
    edit_page = client.get(f"/exams/{exam_id}/edit").get_data(as_text=True)
    assert "焊工 理论考试" in edit_page and 'value="电工"' in edit_page
    edited = client.post_form(f"/exams/{exam_id}/edit", form_data(bank_id, title="改过的标题",
                                                                  pass_mark="90"))
    assert edited.status_code == 302
    assert client.post_form(f"/exams/{exam_id}/mock").status_code == 302
    with app.app_context():
        exams = db.session.scalars(sa.select(Exam).order_by(Exam.id)).all()
        assert exams[0].title == "改过的标题" and exams[0].pass_mark == 90
        assert exams[1].mode == "practice" and exams[1].blueprint == exams[0].blueprint
    page = client.get("/exams/manage").get_data(as_text=True)
    assert "改过的标题" in page


def test_workers_cannot_manage_and_instructors_cannot_start(app, client, people):
    exam_id = setup_exam(app, people)
    client.login(people["worker_login"])
    assert client.get("/exams/manage").status_code == 403
    assert client.get("/exams/new").status_code == 403
    staff = new_client(app)
    staff.login(people["instructor_login"])
    assert staff.post_form(f"/exams/{exam_id}/start").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExamAttempt)) == 0


def test_index_in_chinese(app, client, people):
    setup_exam(app, people)
    client.login(people["worker_login"])
    page = client.get("/exams/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "开始考试" in page
