"""The exams API end to end on a real database (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.courses_fixtures import demo_course  # noqa: F401  (fixture)
from tests.integration.exams_helpers import (
    Clock,
    api_login,
    correct_shown,
    create_exam,
    make_bank,
    new_client,
    wrong_shown,
)
from trainer.clock import utcnow
from trainer.db import db
from trainer.exams import api as exams_api
from trainer.exams import services
from trainer.exams.models import AttemptQuestion, ExamAttempt, WrongAnswer
from trainer.questions.models import Question
from trainer.signals import exam_passed


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(exams_api, "utcnow", fake)
    return fake


@pytest.fixture
def bank(app, people) -> int:
    with app.app_context():
        return make_bank()


@pytest.fixture
def passes(app) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    exam_passed.connect(receiver)
    yield received
    exam_passed.disconnect(receiver)


def as_instructor_make_exam(app, people, **fields: Any) -> int:
    client = new_client(app)
    headers = api_login(client, people["instructor_login"])
    return create_exam(client, headers, **fields)


def start(client, headers, exam_id: int, status: int = 201) -> dict[str, Any]:
    response = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def put(client, headers, attempt: dict[str, Any] | int, question_id: int, response: Any,
        seq: int | None = None) -> Any:
    attempt_id = attempt if isinstance(attempt, int) else attempt["attempt_id"]
    payload: dict[str, Any] = {"response": response}
    if seq is not None:
        payload["seq"] = seq
    return client.put(f"/api/v1/attempts/{attempt_id}/answers/{question_id}", json=payload,
                      headers=headers)


def answer_all(client, headers, attempt, right: int) -> None:
    """Answer the first ``right`` questions correctly and the rest wrongly."""
    for index, question in enumerate(attempt["questions"]):
        value = correct_shown(question) if index < right else wrong_shown(question)
        assert put(client, headers, attempt, question["id"], value).status_code == 200


# --- defining exams ----------------------------------------------------------------------


def test_instructor_creates_an_exam_and_workers_cannot(app, client, people, bank):
    headers = api_login(client, people["instructor_login"])
    response = client.post("/api/v1/exams", headers=headers, json={
        "title": "低压电工", "bank": "电工题库", "question_count": 10, "time_limit_seconds": 0.5,
        "grace_seconds": 30, "pass_mark": 80, "max_attempts": 2, "mode": "formal"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] and body["certificate_type"] == "1.2" and body["time_limit_seconds"] == 1
    worker = new_client(app)
    worker_headers = api_login(worker, people["worker_login"])
    refused = worker.post("/api/v1/exams", headers=worker_headers, json={"title": "x"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert new_client(app).post("/api/v1/exams", json={}).status_code == 401


@pytest.mark.parametrize("fields, field", [
    ({"bank": "no such bank"}, "bank"),
    ({"question_count": 13}, "question_count"),  # 12 ready questions; drafts do not count
    ({"question_count": "ten"}, "question_count"),
    ({"time_limit_seconds": 0}, "time_limit_seconds"),
    ({"time_limit_seconds": -5.5}, "time_limit_seconds"),
    ({"pass_mark": 101}, "pass_mark"),
    ({"mode": "exam"}, "mode"),
    ({"title": ""}, "title"),
    ({"blueprint": [{"type": "single", "count": 6, "points": 10}]}, "blueprint"),
    ({"blueprint": [{"type": "single", "count": 7, "points": 100 / 7}]}, "question_count"),
    ({"blueprint": [{"type": "essay", "count": 1, "points": 100}]}, "blueprint"),
    ({"opens_at": "tomorrow"}, "opens_at"),
])
def test_bad_exam_definitions_are_refused_with_the_field(client, people, bank, fields, field):
    headers = api_login(client, people["admin_login"])
    payload = {"title": "x", "bank": "电工题库", "question_count": 10, "time_limit_seconds": 60}
    payload.update(fields)
    response = client.post("/api/v1/exams", json=payload, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["details"], error
    assert client.post("/api/v1/exams", data="nope", headers=headers).status_code == 400


def test_blueprint_exam(app, client, people, bank):
    headers = api_login(client, people["admin_login"])
    exam_id = create_exam(client, headers, blueprint=[
        {"type": "true_false", "count": 4, "points": 10},
        {"type": "single", "category": "电工", "count": 4, "points": 10},
        {"type": "multiple", "count": 2, "points": 10}])
    worker = new_client(app)
    wh = api_login(worker, people["worker_login"])
    attempt = start(worker, wh, exam_id)
    assert [q["type"] for q in attempt["questions"]] == (
        ["true_false"] * 4 + ["single"] * 4 + ["multiple"] * 2)
    assert sum(q["points"] for q in attempt["questions"]) == 100


# --- starting ----------------------------------------------------------------------------


def test_start_gives_a_paper_without_answers_and_resumes(app, client, people, bank, clock):
    exam_id = as_instructor_make_exam(app, people)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    assert attempt["status"] == "in_progress" and attempt["seconds_left"] == 600
    deadline = dt.datetime.fromisoformat(attempt["deadline"].replace("Z", "+00:00"))
    assert deadline == clock.now + dt.timedelta(seconds=600)
    assert len(attempt["questions"]) == 10
    for question in attempt["questions"]:
        assert set(question) >= {"id", "type", "stem", "options"}
        assert not {"answer", "explanation", "correct"} & set(question)
        assert not question["stem"].startswith("草稿")  # only ready questions
    clock.advance(100)
    again = start(client, headers, exam_id, status=200)
    assert again["attempt_id"] == attempt["attempt_id"] and again["seconds_left"] == 500
    assert again["questions"] == attempt["questions"]  # same paper, same option order
    with app.app_context():
        rows = db.session.scalars(sa.select(AttemptQuestion)).all()
        assert len(rows) == 10
        for row in rows:
            question = db.session.get(Question, row.question_id)
            assert row.question_version_id == question.current_version_id
            assert sorted(row.option_order) == list(range(len(question.current_version.options)))


def test_instructors_cannot_start_and_unknown_exams_are_404(app, client, people, bank):
    exam_id = as_instructor_make_exam(app, people)
    headers = api_login(client, people["instructor_login"])
    assert client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers).status_code == 403
    worker = new_client(app)
    wh = api_login(worker, people["worker_login"])
    missing = worker.post("/api/v1/exams/999999/attempts", headers=wh)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_session_calls_need_the_csrf_header(app, client, people, bank):
    exam_id = as_instructor_make_exam(app, people)
    client.login(people["worker_login"])
    response = client.post(f"/api/v1/exams/{exam_id}/attempts")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_bearer_token_callers_take_exams_too(app, client, people, bank):
    exam_id = as_instructor_make_exam(app, people)
    from tests.conftest import PASSWORD

    token = client.post("/api/v1/tokens", json={"login": people["worker_login"],
                                                "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    attempt = start(client, headers, exam_id)
    question = attempt["questions"][0]
    assert put(client, headers, attempt, question["id"], correct_shown(question)).status_code == 200


# --- saving ------------------------------------------------------------------------------


def test_answers_are_saved_in_original_order_and_read_back_in_shown_order(app, client, people,
                                                                          bank):
    exam_id = as_instructor_make_exam(app, people, question_count=12)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    for question in attempt["questions"]:
        response = put(client, headers, attempt, question["id"], correct_shown(question))
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["response"] == correct_shown(question)
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert state["status"] == "in_progress"
    assert state["answers"] == {str(q["id"]): correct_shown(q) for q in attempt["questions"]}
    with app.app_context():
        for row in db.session.scalars(sa.select(AttemptQuestion)):
            version = row.version
            assert row.response == version.answer  # stored in the ORIGINAL option indexes
            assert row.saved_at is not None


@pytest.mark.parametrize("value", [[7], [0, 0], "A", {"x": 1}, [True], 1.5, [0, 1]])
def test_malformed_answers_are_refused_and_change_nothing(client, app, people, bank, value):
    exam_id = as_instructor_make_exam(app, people, blueprint=[
        {"type": "single", "count": 5, "points": 20}])
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    question = attempt["questions"][0]
    assert put(client, headers, attempt, question["id"], [1]).status_code == 200
    response = put(client, headers, attempt, question["id"], value)
    assert response.status_code == 422, (value, response.get_json())
    assert response.get_json()["error"]["message"]
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert state["answers"][str(question["id"])] == [1]


def test_bad_save_requests(client, app, people, bank):
    exam_id = as_instructor_make_exam(app, people)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    qid = attempt["questions"][0]["id"]
    url = f"/api/v1/attempts/{attempt['attempt_id']}/answers/{qid}"
    assert client.put(url, json={}, headers=headers).status_code == 400
    assert client.put(url, json=[1], headers=headers).status_code == 400
    assert client.put(url, json={"response": None, "seq": "x"}, headers=headers).status_code == 400
    assert client.put(url, json={"response": None, "seq": -1}, headers=headers).status_code == 400
    not_in = client.put(f"/api/v1/attempts/{attempt['attempt_id']}/answers/999999",
                        json={"response": True}, headers=headers)
    assert not_in.status_code == 404
    cleared = client.put(url, json={"response": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.get_json()["response"] is None


def test_an_older_save_never_overwrites_a_newer_one(client, app, people, bank):
    exam_id = as_instructor_make_exam(app, people, blueprint=[
        {"type": "single", "count": 5, "points": 20}])
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    qid = attempt["questions"][0]["id"]
    assert put(client, headers, attempt, qid, [2], seq=1700000000005).get_json()["applied"]
    late = put(client, headers, attempt, qid, [1], seq=1700000000003)
    assert late.status_code == 200
    assert late.get_json() | {"saved_at": None} == late.get_json() | {
        "applied": False, "response": [2], "seq": 1700000000005, "saved_at": None}
    same = put(client, headers, attempt, qid, [3], seq=1700000000005)
    assert same.get_json()["applied"] is False
    newer = put(client, headers, attempt, qid, [3], seq=1700000000006)
    assert newer.get_json()["applied"] and newer.get_json()["response"] == [3]
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert state["answers"][str(qid)] == [3]
    assert state["questions"][0]["seq"] == 1700000000006


def test_another_users_attempt_is_404_except_to_admins(app, client, people, bank):
    exam_id = as_instructor_make_exam(app, people)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    qid = attempt["questions"][0]["id"]
    url = f"/api/v1/attempts/{attempt['attempt_id']}"
    for persona in ("other_worker", "instructor", "other_safety", "safety"):
        other = new_client(app)
        oh = api_login(other, people[persona + "_login"])
        assert other.get(url).status_code == 404, persona
        assert put(other, oh, attempt, qid, True).status_code == 404, persona
        assert other.post(url + "/submit", headers=oh).status_code == 404, persona
    admin = new_client(app)
    ah = api_login(admin, people["admin_login"])
    assert admin.get(url).status_code == 200
    assert put(admin, ah, attempt, qid, True).status_code == 404  # admins look, never answer
    assert admin.post(url + "/submit", headers=ah).status_code == 404
    assert client.get("/api/v1/attempts/999999").status_code == 404


# --- the clock ---------------------------------------------------------------------------


def test_saves_after_deadline_plus_grace_are_refused_and_the_attempt_closes(
        app, client, people, bank, clock):
    exam_id = as_instructor_make_exam(app, people, time_limit_seconds=60, grace_seconds=30)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    first, second, third = attempt["questions"][:3]
    assert put(client, headers, attempt, first["id"], correct_shown(first)).status_code == 200
    clock.advance(60 + 29)  # after the deadline, inside the grace period: the last save counts
    in_grace = put(client, headers, attempt, second["id"], correct_shown(second))
    assert in_grace.status_code == 200 and in_grace.get_json()["seconds_left"] == 0
    clock.advance(2)
    late = put(client, headers, attempt, third["id"], correct_shown(third))
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "deadline_passed"
    assert late.get_json()["error"]["message"]
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert state["status"] == "expired" and state["seconds_left"] == 0
    assert state["score"] == 20 and state["passed"] is False
    assert set(state["answers"]) == {str(first["id"]), str(second["id"])}
    again = put(client, headers, attempt, third["id"], correct_shown(third))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "attempt_closed"


def test_an_overdue_attempt_is_closed_on_next_access_with_what_was_saved(
        app, client, people, bank, clock, passes):
    exam_id = as_instructor_make_exam(app, people, time_limit_seconds=60, grace_seconds=0)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    answer_all(client, headers, attempt, right=10)
    clock.advance(3600)
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert (state["status"], state["score"], state["passed"]) == ("expired", 100, True)
    deadline = dt.datetime.fromisoformat(state["deadline"].replace("Z", "+00:00"))
    assert state["submitted_at"] == state["deadline"] or dt.datetime.fromisoformat(
        state["submitted_at"].replace("Z", "+00:00")) == deadline
    assert len(passes) == 1 and passes[0]["certificate_type"] == "1.2"
    # Review is shown once closed (review_allowed defaults to true).
    assert all(q["correct"] is True and "explanation" in q for q in state["questions"])
    # Starting again: passed, so not eligible.
    refused = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["details"]["reason"] == "passed"


def test_extra_time_moves_the_deadline(app, client, people, bank, clock):
    exam_id = as_instructor_make_exam(app, people, time_limit_seconds=60, grace_seconds=0)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    with app.app_context():
        from trainer.accounts.models import User

        row = db.session.get(ExamAttempt, attempt["attempt_id"])
        services.grant_extra_time(row, 120, db.session.get(User, people["instructor"]), "tablet")
        db.session.commit()
    clock.advance(90)
    question = attempt["questions"][0]
    saved = put(client, headers, attempt, question["id"], correct_shown(question))
    assert saved.status_code == 200 and saved.get_json()["seconds_left"] == 90


# --- submitting --------------------------------------------------------------------------


def test_submit_grades_once_and_repeats_the_same_result(app, client, people, bank, passes):
    exam_id = as_instructor_make_exam(app, people)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    answer_all(client, headers, attempt, right=9)
    url = f"/api/v1/attempts/{attempt['attempt_id']}/submit"
    first = client.post(url, headers=headers)
    assert first.status_code == 200
    result = first.get_json()
    assert (result["status"], result["score"], result["passed"]) == ("submitted", 90, True)
    second = client.post(url, headers=headers)
    assert second.status_code == 200 and second.get_json() == result
    assert len(passes) == 1
    assert passes[0]["user_id"] == people["worker"] and passes[0]["score"] == 90
    assert passes[0]["attempt_id"] == attempt["attempt_id"]
    assert isinstance(passes[0]["passed_on"], dt.date)
    closed = put(client, headers, attempt, attempt["questions"][0]["id"], True)
    assert closed.status_code == 409


def test_make_up_only_after_a_fail_and_then_retraining(app, client, people, bank, passes):
    exam_id = as_instructor_make_exam(app, people)
    headers = api_login(client, people["worker_login"])
    first = start(client, headers, exam_id)
    answer_all(client, headers, first, right=7)
    result = client.post(f"/api/v1/attempts/{first['attempt_id']}/submit", headers=headers)
    assert result.get_json()["passed"] is False and result.get_json()["score"] == 70
    exams = client.get("/api/v1/exams").get_json()["exams"]
    assert exams[0]["can_start"] and exams[0]["reason"] == "make_up"
    assert exams[0]["attempts_left"] == 1
    make_up = start(client, headers, exam_id)
    assert make_up["attempt_id"] != first["attempt_id"]
    answer_all(client, headers, make_up, right=0)
    client.post(f"/api/v1/attempts/{make_up['attempt_id']}/submit", headers=headers)
    refused = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "not_eligible" and error["details"]["reason"] == "retrain"
    assert passes == []


def test_practice_gives_feedback_unlimited_attempts_and_fills_the_wrong_book(
        app, client, people, bank, passes):
    exam_id = as_instructor_make_exam(app, people, mode="practice", max_attempts=1)
    headers = api_login(client, people["worker_login"])
    wrong_ids = []
    for _round in range(3):
        attempt = start(client, headers, exam_id)
        question = attempt["questions"][0]
        saved = put(client, headers, attempt, question["id"], wrong_shown(question)).get_json()
        assert saved["feedback"]["correct"] is False
        assert saved["feedback"]["answer"] == correct_shown(question)
        assert saved["feedback"]["explanation"].startswith("解析")
        wrong_ids.append(question["id"])
        right = attempt["questions"][1]
        assert put(client, headers, attempt, right["id"],
                   correct_shown(right)).get_json()["feedback"]["correct"] is True
        client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    assert passes == []  # practice never counts towards a certificate
    with app.app_context():
        book = services.wrong_book(people["worker"])
        assert {e.question_id for e in book} >= set(wrong_ids)
    qid = wrong_ids[-1]  # wrong in the last round: no right answer since
    with app.app_context():
        version = db.session.get(Question, qid).current_version
        answer = version.answer
    url = f"/api/v1/wrong-answers/{qid}/answer"
    first = client.post(url, json={"response": answer}, headers=headers).get_json()
    assert first["correct"] and not first["cleared"] and first["right_streak"] == 1
    second = client.post(url, json={"response": answer}, headers=headers).get_json()
    assert second["cleared"]
    with app.app_context():
        assert qid not in {e.question_id for e in services.wrong_book(people["worker"])}
    assert client.post(url, json={"response": "zz"}, headers=headers).status_code == 422
    other = new_client(app)
    oh = api_login(other, people["other_worker_login"])
    assert other.post(url, json={"response": answer}, headers=oh).status_code == 404


def test_close_overdue_command_is_idempotent(app, client, people, bank, runner):
    exam_id = as_instructor_make_exam(app, people, time_limit_seconds=60, grace_seconds=0)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    with app.app_context():
        row = db.session.get(ExamAttempt, attempt["attempt_id"])
        row.deadline = utcnow() - dt.timedelta(seconds=5)
        db.session.commit()
    result = runner.invoke(args=["exams", "close-overdue"])
    assert result.exit_code == 0 and "1" in result.output, result.output
    again = runner.invoke(args=["exams", "close-overdue"])
    assert again.exit_code == 0 and "0" in again.output
    assert client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()["status"] == (
        "expired")


# --- concurrency -------------------------------------------------------------------------


def test_two_simultaneous_submits_finalise_once(app, people, bank, passes):
    exam_id = as_instructor_make_exam(app, people)
    client = new_client(app)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    answer_all(client, headers, attempt, right=10)
    cookie = client.get_cookie("session")
    assert cookie is not None
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def submit() -> None:
        tab = new_client(app)
        tab.set_cookie("session", cookie.value)
        barrier.wait()
        response = tab.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [status for status, _body in results] == [200, 200], results
    assert results[0][1] == results[1][1]
    assert results[0][1]["score"] == 100
    assert len(passes) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WrongAnswer)) == 0


def test_two_simultaneous_starts_create_one_attempt(app, people, bank):
    exam_id = as_instructor_make_exam(app, people)
    client = new_client(app)
    headers = api_login(client, people["worker_login"])
    cookie = client.get_cookie("session")
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def go() -> None:
        tab = new_client(app)
        tab.set_cookie("session", cookie.value)
        barrier.wait()
        response = tab.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(status for status, _ in results) in ([200, 201], [201, 201]) or results
    assert len({body["attempt_id"] for _status, body in results}) == 1, results
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExamAttempt)) == 1


@pytest.mark.parametrize("with_seq", [False, True], ids=["full-path", "known-paper"])
def test_saves_racing_a_submit_are_either_graded_or_refused(app, people, bank, with_seq):
    exam_id = as_instructor_make_exam(app, people)
    client = new_client(app)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    cookie = client.get_cookie("session")
    acknowledged: list[int] = []
    questions = attempt["questions"]
    if with_seq:  # the paper is known, so the racing saves take the one-statement path
        first, questions = questions[0], questions[1:]
        assert put(client, headers, attempt, first["id"], correct_shown(first),
                   seq=1).status_code == 200
        acknowledged.append(first["id"])
    barrier = threading.Barrier(len(questions) + 1)

    def save(question: dict[str, Any]) -> None:
        tab = new_client(app)
        tab.set_cookie("session", cookie.value)
        barrier.wait()
        response = put(tab, headers, attempt, question["id"], correct_shown(question),
                       seq=question["position"] + 1 if with_seq else None)
        assert response.status_code in (200, 409), response.get_json()
        if response.status_code == 200:
            acknowledged.append(question["id"])

    def submit() -> None:
        tab = new_client(app)
        tab.set_cookie("session", cookie.value)
        barrier.wait()
        tab.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)

    threads = [threading.Thread(target=save, args=(q,)) for q in questions]
    threads.append(threading.Thread(target=submit))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with app.app_context():
        row = db.session.get(ExamAttempt, attempt["attempt_id"])
        assert row.status == "submitted"
        graded = {q.question_id for q in row.questions if q.correct}
        assert graded == set(acknowledged)  # every acknowledged answer was graded
        assert row.score == pytest.approx(10 * len(acknowledged))


# --- prerequisite course (trainer.courses.hours.course_completed) ------------------------


def complete_course(app, people, course: dict[str, Any], when: dt.datetime) -> None:
    from trainer.courses.models import LessonProgress

    with app.app_context():
        for lesson_id in course["lessons"]:
            row = db.session.scalar(sa.select(LessonProgress).where(
                LessonProgress.user_id == people["worker"], LessonProgress.lesson_id == lesson_id))
            if row is None:
                row = LessonProgress(user_id=people["worker"], lesson_id=lesson_id)
                db.session.add(row)
            row.completed_at = when
        db.session.commit()


def test_prerequisite_course_and_retraining_after_a_failed_make_up(
        app, client, people, bank, clock, demo_course):  # noqa: F811  (fixture)
    exam_id = as_instructor_make_exam(app, people, prerequisite_course=demo_course["course_key"])
    headers = api_login(client, people["worker_login"])
    refused = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["details"]["reason"] == "prerequisite"
    complete_course(app, people, demo_course, clock.now - dt.timedelta(days=1))
    for _sitting_attempt in range(2):
        attempt = start(client, headers, exam_id)
        client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    clock.advance(60)
    retrain = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert retrain.get_json()["error"]["details"]["reason"] == "retrain"
    # Completing the course again (every lesson after the failed make-up) opens a new pair.
    complete_course(app, people, demo_course, clock.now)
    clock.advance(60)
    again = start(client, headers, exam_id)
    assert again["number"] == 3
    client.post(f"/api/v1/attempts/{again['attempt_id']}/submit", headers=headers)
    exams = client.get("/api/v1/exams").get_json()["exams"]
    assert exams[0]["reason"] == "make_up" and exams[0]["attempts_left"] == 1


def test_a_failing_exam_passed_receiver_does_not_block_the_result(app, client, people, bank):
    def broken(sender: Any, **kwargs: Any) -> None:
        from trainer.audit.models import AuditEntry

        db.session.add(AuditEntry(action="half-done", target_type="x", target_id="1",
                                  actor_label="receiver"))
        db.session.flush()
        raise RuntimeError("certificates are down")

    exam_passed.connect(broken)
    try:
        exam_id = as_instructor_make_exam(app, people)
        headers = api_login(client, people["worker_login"])
        attempt = start(client, headers, exam_id)
        answer_all(client, headers, attempt, right=10)
        result = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
        assert result.status_code == 200 and result.get_json()["passed"] is True
    finally:
        exam_passed.disconnect(broken)
    with app.app_context():
        from trainer.audit.models import AuditEntry

        assert db.session.get(ExamAttempt, attempt["attempt_id"]).status == "submitted"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "half-done")) == 0  # the receiver's writes were rolled back


def test_simultaneous_out_of_order_saves_keep_the_newest(app, people, bank):
    exam_id = as_instructor_make_exam(app, people, blueprint=[
        {"type": "single", "count": 5, "points": 20}])
    client = new_client(app)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    qid = attempt["questions"][0]["id"]
    cookie = client.get_cookie("session")
    seqs = list(range(1, 13))
    random_order = seqs[::2][::-1] + seqs[1::2]  # newest not last
    barrier = threading.Barrier(len(seqs))
    statuses: list[int] = []

    def save(seq: int) -> None:
        tab = new_client(app)
        tab.set_cookie("session", cookie.value)
        barrier.wait()
        statuses.append(put(tab, headers, attempt, qid, [seq % 4], seq=seq).status_code)

    threads = [threading.Thread(target=save, args=(seq,)) for seq in random_order]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * len(seqs)
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert state["questions"][0]["seq"] == 12 and state["answers"][str(qid)] == [0]


# --- the one-statement save (a paper this process knows) ---------------------------------


def known_paper(app, client, people, **exam_fields: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """A worker's attempt whose first question is saved with a seq: this process now knows the
    paper, so later saves with a seq take the one-statement path."""
    exam_id = as_instructor_make_exam(app, people, **exam_fields)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    first = attempt["questions"][0]
    assert put(client, headers, attempt, first["id"], correct_shown(first), seq=1).status_code \
        == 200
    return headers, attempt


def test_a_known_paper_still_refuses_closed_attempts_and_other_users(app, client, people, bank):
    headers, attempt = known_paper(app, client, people)
    first, second = attempt["questions"][:2]
    fast = put(client, headers, attempt, second["id"], correct_shown(second), seq=2)
    assert fast.status_code == 200 and fast.get_json()["applied"] is True
    assert fast.get_json()["response"] == correct_shown(second) and fast.get_json()["seq"] == 2
    # Without a seq a save takes the full path, which keeps the paper it already knows.
    plain = put(client, headers, attempt, second["id"], correct_shown(second))
    assert plain.status_code == 200 and plain.get_json()["seq"] == 2
    with app.app_context():
        assert second["id"] in services._papers.get(db.engine, attempt["attempt_id"]).items
    other = new_client(app)
    oh = api_login(other, people["other_worker_login"])
    assert put(other, oh, attempt, second["id"], wrong_shown(second), seq=3).status_code == 404
    assert put(client, headers, attempt, 999999, True, seq=4).status_code == 404
    assert put(client, headers, attempt, second["id"], [99], seq=5).status_code == 422
    client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    closed = put(client, headers, attempt, second["id"], wrong_shown(second), seq=6)
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "attempt_closed"
    state = client.get(f"/api/v1/attempts/{attempt['attempt_id']}").get_json()
    assert state["answers"] == {str(first["id"]): correct_shown(first),
                                str(second["id"]): correct_shown(second)}


def test_a_known_paper_rechecks_extra_time_and_grace_on_every_save(app, client, people, bank,
                                                                   clock):
    exam_id = as_instructor_make_exam(app, people, time_limit_seconds=60, grace_seconds=0)
    headers = api_login(client, people["worker_login"])
    attempt = start(client, headers, exam_id)
    questions = attempt["questions"]

    def extra(seconds: int) -> None:
        with app.app_context():
            from trainer.accounts.models import User

            row = db.session.get(ExamAttempt, attempt["attempt_id"])
            services.grant_extra_time(row, seconds, db.session.get(User, people["instructor"]),
                                      "test")
            db.session.commit()

    extra(120)
    assert put(client, headers, attempt, questions[0]["id"], correct_shown(questions[0]),
               seq=1).status_code == 200
    clock.advance(90)  # past the 60 s limit, inside the 120 s extra time
    assert put(client, headers, attempt, questions[1]["id"], correct_shown(questions[1]),
               seq=2).status_code == 200
    extra(-120)  # the extra time is taken back: this process's paper still says 120
    late = put(client, headers, attempt, questions[2]["id"], correct_shown(questions[2]), seq=3)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "deadline_passed"
    with app.app_context():
        row = db.session.get(ExamAttempt, attempt["attempt_id"])
        assert row.status == "expired"
        assert {q.question_id for q in row.questions if q.response is not None} \
            == {questions[0]["id"], questions[1]["id"]}


def test_a_known_paper_rechecks_the_exams_grace_period(app, client, people, bank, clock):
    from trainer.exams.models import Exam

    headers, attempt = known_paper(app, client, people, time_limit_seconds=60,
                                   grace_seconds=30)
    exam_id = attempt["exam_id"]
    second = attempt["questions"][1]
    with app.app_context():
        db.session.get(Exam, exam_id).grace_seconds = 0
        db.session.commit()
    clock.advance(75)  # inside the old 30 s grace, outside the new one
    late = put(client, headers, attempt, second["id"], correct_shown(second), seq=2)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "deadline_passed"


def test_a_cached_paper_of_another_attempt_with_the_same_id_is_not_used(app, client, people,
                                                                        bank):
    """On SQLite a deleted attempt's id can come back; a paper this process remembers for the
    old attempt must not map the new attempt's option indexes."""
    headers, attempt = known_paper(app, client, people)
    first, second = attempt["questions"][:2]
    with app.app_context():
        engine = db.engine
        paper = services._papers.get(engine, attempt["attempt_id"])
        assert paper is not None and second["id"] in paper.items
        item = paper.items[second["id"]]
        # The same id, an earlier start and a reversed option order: what the old attempt had.
        services._papers.put(engine, attempt["attempt_id"], dataclasses.replace(
            paper, started_at=paper.started_at - dt.timedelta(days=1),
            items={**paper.items, second["id"]: dataclasses.replace(
                item, option_order=list(reversed(item.option_order)))}))
    saved = put(client, headers, attempt, second["id"], correct_shown(second), seq=2)
    assert saved.status_code == 200 and saved.get_json()["response"] == correct_shown(second)
    client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    with app.app_context():
        row = db.session.get(ExamAttempt, attempt["attempt_id"])
        assert {q.question_id for q in row.questions if q.correct} == {first["id"], second["id"]}
