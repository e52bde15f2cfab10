"""Shared set-up for the exams tests: a bank of ready questions and an API client."""

from __future__ import annotations

import datetime as dt
from typing import Any

from trainer.clock import utcnow
from trainer.db import db
from trainer.questions import services as question_services
from trainer.questions.types import QuestionContent


def make_bank(name: str = "电工题库", singles: int = 6, multiples: int = 2, tfs: int = 4,
              drafts: int = 3, certificate_type: str = "1.2") -> int:
    """A bank with ready questions (single: answer A of 4; multiple: A+C of 4; true/false: true)
    plus draft questions that must never be drawn. Returns the bank id."""
    bank, _ = question_services.ensure_bank(name, None, [certificate_type])
    for i in range(singles):
        question_services.add_question(bank, QuestionContent(
            type="single", stem=f"单选 {i}", options=[f"对{i}", f"错{i}a", f"错{i}b", f"错{i}c"],
            answer=[0], explanation=f"解析 single {i}", category="电工/低压"), None, "ready")
    for i in range(multiples):
        question_services.add_question(bank, QuestionContent(
            type="multiple", stem=f"多选 {i}", options=[f"对{i}", f"错{i}", f"也对{i}", f"错{i}x"],
            answer=[0, 2], explanation=f"解析 multiple {i}"), None, "ready")
    for i in range(tfs):
        question_services.add_question(bank, QuestionContent(
            type="true_false", stem=f"判断 {i}", answer=True, explanation=f"解析 tf {i}"),
            None, "ready")
    for i in range(drafts):
        question_services.add_question(bank, QuestionContent(
            type="single", stem=f"草稿 {i}", options=["x", "y"], answer=[0]), None, "draft")
    db.session.commit()
    return bank.id


def correct_shown(question: dict[str, Any]) -> Any:
    """The right answer in the attempt's shown order, from the options' text."""
    if question["type"] == "true_false":
        return True
    return sorted(i for i, text in enumerate(question["options"]) if text.startswith(("对", "也对")))


def wrong_shown(question: dict[str, Any]) -> Any:
    if question["type"] == "true_false":
        return False
    return [next(i for i, text in enumerate(question["options"])
                 if not text.startswith(("对", "也对")))]


def new_client(app: Any) -> Any:
    """A test client with the suite's log-in helpers (tests.conftest.Client)."""
    from tests.conftest import Client

    app.test_client_class = Client
    return app.test_client()


def api_login(client: Any, login: str) -> dict[str, str]:
    """Headers for session calls (the way the exam page calls the API)."""
    client.login(login)
    return {"X-CSRFToken": client.csrf("/account")}


def create_exam(client: Any, headers: dict[str, str], **fields: Any) -> int:
    payload = {"title": "低压电工 理论考试", "bank": "电工题库", "question_count": 10,
               "time_limit_seconds": 600, "grace_seconds": 30, "pass_mark": 80,
               "max_attempts": 2, "mode": "formal"}
    payload.update(fields)
    response = client.post("/api/v1/exams", json=payload, headers=headers)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


class Clock:
    """A fake trainer.clock.utcnow for the exam tests: starts at the real now, moves on demand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
