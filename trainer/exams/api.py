"""The exams JSON API (/api/v1): define exams, take them. The exam page itself uses it.

Option indexes in requests and responses are 0-based positions in the ``options`` list this
attempt shows (options are shuffled per attempt); they are stored in the question's original
order.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from trainer.accounts.rules import Role
from trainer.api import make_blueprint
from trainer.api.openapi import ERROR, error_responses, json_content
from trainer.auth import STAFF, require
from trainer.clock import utcnow
from trainer.db import db
from trainer.errors import api_error
from trainer.exams import rules, services
from trainer.exams.models import (
    FORMAL,
    PRACTICE,
    AttemptQuestion,
    Exam,
    ExamAttempt,
    WrongAnswer,
)
from trainer.questions import services as question_services
from trainer.questions.models import QuestionBank

bp = make_blueprint("exams_api", __name__)


def problem(exc: services.ExamProblem) -> Any:
    return api_error(exc.status, str(exc.message), exc.code, exc.details or None)


def body() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _int(data: dict[str, Any], name: str, default: int | None, errors: dict[str, str],
         positive_number: bool = False) -> int:
    value = data.get(name, default)
    if positive_number and isinstance(value, float) and math.isfinite(value) and value > 0:
        return max(1, math.ceil(value))
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = _("Must be a whole number.")
        return 0
    return value


def _time(data: dict[str, Any], name: str, errors: dict[str, str]) -> dt.datetime | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors[name] = _("Use an ISO 8601 date and time, e.g. 2026-12-01T09:00:00Z.")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def exam_input(data: dict[str, Any]) -> tuple[services.ExamInput | None, dict[str, str]]:
    errors: dict[str, str] = {}
    title = data.get("title")
    if not isinstance(title, str):
        errors["title"] = _("Give the exam a title.")
        title = ""
    names = data.get("banks", data.get("bank"))
    if isinstance(names, str):
        names = [names]
    banks: list[QuestionBank] = []
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        errors["bank"] = _("Name the question bank (bank) or banks (banks).")
    else:
        for name in names:
            bank = question_services.find_bank(name)
            if bank is None or not question_services.can_edit_bank(current_user, bank):
                errors["bank"] = _("There is no question bank called “%(name)s”.", name=name)
            else:
                banks.append(bank)
    try:
        blueprint = rules.parse_blueprint(data.get("blueprint"))
    except rules.BlueprintError as exc:
        errors["blueprint"] = str(exc.messages[0])
        blueprint = []
    question_count = _int(data, "question_count", 0 if blueprint else None, errors)
    time_limit = _int(data, "time_limit_seconds", None, errors, positive_number=True)
    grace = _int(data, "grace_seconds", 30, errors)
    pass_mark = _int(data, "pass_mark", 80, errors)
    max_attempts = _int(data, "max_attempts", 2, errors)
    mode = data.get("mode", FORMAL)
    certificate_type = data.get("certificate_type")
    if certificate_type is None:
        certificate_type = banks[0].certificate_types[0] if banks and banks[0].certificate_types \
            else ""
    course = data.get("prerequisite_course")
    review = data.get("review_allowed", True)
    for name, value, kind in (("mode", mode, str), ("certificate_type", certificate_type, str),
                              ("review_allowed", review, bool)):
        if not isinstance(value, kind):
            errors[name] = _("Wrong type of value.")
    if course is not None and not isinstance(course, str):
        errors["prerequisite_course"] = _("Wrong type of value.")
    opens_at, closes_at = _time(data, "opens_at", errors), _time(data, "closes_at", errors)
    if errors:
        return None, errors
    exam = services.ExamInput(
        title=title, bank_ids=[b.id for b in banks], question_count=question_count,
        time_limit_seconds=time_limit, blueprint=blueprint, certificate_type=certificate_type,
        grace_seconds=grace, pass_mark=pass_mark, max_attempts=max_attempts, mode=mode,
        opens_at=opens_at, closes_at=closes_at, prerequisite_course=course,
        review_allowed=review)
    problems = {k: str(v) for k, v in services.exam_input_errors(exam).items()}
    if not problems:
        short = services.paper_problem(exam.bank_ids, exam.blueprint, exam.question_count)
        if short is not None:
            problems["question_count"] = str(short)
    return (None, problems) if problems else (exam, {})


def exam_json(exam: Exam) -> dict[str, Any]:
    return {"id": exam.id, "title": exam.title, "mode": exam.mode,
            "certificate_type": exam.certificate_type, "banks": [b.name for b in exam.banks],
            "blueprint": exam.blueprint, "question_count": exam.question_count,
            "time_limit_seconds": exam.time_limit_seconds, "grace_seconds": exam.grace_seconds,
            "pass_mark": exam.pass_mark, "max_attempts": exam.max_attempts,
            "opens_at": services.iso(exam.opens_at), "closes_at": services.iso(exam.closes_at),
            "prerequisite_course": exam.prerequisite_course,
            "review_allowed": exam.review_allowed}


@bp.get("/exams")
@require()
def list_exams() -> Any:
    now = utcnow()
    rows = services.my_exams(current_user, now)
    db.session.commit()  # attempts found overdue were closed
    return jsonify(exams=[{
        **exam_json(row.exam), "can_start": row.eligibility.allowed,
        "reason": row.eligibility.reason, "attempts_left": row.eligibility.attempts_left,
        "active_attempt_id": row.active.id if row.active else None,
        "last_attempt": ({"attempt_id": row.last.id, "score": row.last.score,
                          "passed": row.last.passed, "status": row.last.status}
                         if row.last else None)} for row in rows])


@bp.post("/exams")
@require(*STAFF)
def create_exam() -> Any:
    data = body()
    if data is None:
        return api_error(400, _("Send a JSON object."))
    exam_data, errors = exam_input(data)
    if exam_data is None:
        return api_error(422, _("The exam was not created; check the fields."), "invalid",
                         errors)
    exam = services.create_exam(exam_data, current_user)
    db.session.commit()
    return jsonify(id=exam.id, **{k: v for k, v in exam_json(exam).items() if k != "id"}), 201


@bp.get("/exams/<int:exam_id>")
@require()
def get_exam(exam_id: int) -> Any:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        return api_error(404, _("Not found."))
    return jsonify(exam_json(exam))


@bp.post("/exams/<int:exam_id>/attempts")
@require(Role.WORKER)
def start_attempt(exam_id: int) -> Any:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        return api_error(404, _("Not found."))
    now = utcnow()
    try:
        attempt, created = services.start_attempt(exam, current_user, now)
    except services.ExamProblem as exc:
        db.session.commit()  # an overdue attempt closed on the way stays closed
        return problem(exc)
    payload = services.attempt_json(attempt, now)
    db.session.commit()  # after building the reply: committing expires what it reads
    return jsonify(payload), 201 if created else 200


def own_attempt(attempt_id: int) -> Any:
    return services.visible_attempt(attempt_id, current_user)


@bp.get("/attempts/<int:attempt_id>")
@require()
def get_attempt(attempt_id: int) -> Any:
    attempt = own_attempt(attempt_id)
    if attempt is None:
        return api_error(404, _("Not found."))
    now = utcnow()
    if services.close_if_overdue(attempt, now):
        db.session.commit()
    return jsonify(services.attempt_json(attempt, now))


@bp.put("/attempts/<int:attempt_id>/answers/<int:question_id>")
@require()
def save_answer(attempt_id: int, question_id: int) -> Any:
    data = body()
    if data is None or "response" not in data:
        return api_error(400, _("Send {\"response\": ...}."), "invalid")
    seq = data.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)
                            or not 0 <= seq < 2**62):
        return api_error(400, _("seq must be a whole number."), "invalid")
    now = utcnow()
    try:
        result = services.save_answer(attempt_id, current_user.id, question_id,
                                      data["response"], seq, now)
    except services.DeadlinePassed as exc:
        db.session.rollback()
        attempt = db.session.get(ExamAttempt, attempt_id)
        if attempt is not None:
            services.close_if_overdue(attempt, utcnow())  # finalise takes FOR UPDATE
        db.session.commit()
        return problem(exc)
    except services.ExamProblem as exc:
        db.session.rollback()
        return problem(exc)
    if result is None:
        db.session.rollback()
        return api_error(404, _("Not found."))
    payload: dict[str, Any] = {
        "question_id": question_id, "saved": True, "applied": result.applied,
        "response": result.shown_response, "seq": result.client_seq,
        "saved_at": services.iso(result.saved_at),
        "seconds_left": rules.seconds_left(result.deadline, now),
    }
    if result.mode == PRACTICE and result.response is not None:
        item = db.session.get(AttemptQuestion, result.item_id)
        if item is not None:
            payload["feedback"] = services.feedback_json(item)
    db.session.commit()  # after building the reply: committing expires what it reads
    return jsonify(payload)


@bp.post("/attempts/<int:attempt_id>/submit")
@require()
def submit_attempt(attempt_id: int) -> Any:
    attempt = own_attempt(attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        return api_error(404, _("Not found."))
    services.submit(attempt, utcnow())
    db.session.commit()
    return jsonify(attempt_id=attempt.id, status=attempt.status, score=attempt.score,
                   passed=attempt.passed, pass_mark=attempt.exam.pass_mark,
                   submitted_at=services.iso(attempt.submitted_at))


@bp.post("/wrong-answers/<int:question_id>/answer")
@require()
def drill(question_id: int) -> Any:
    entry = db.session.scalar(sa.select(WrongAnswer).where(
        WrongAnswer.user_id == current_user.id, WrongAnswer.question_id == question_id))
    if entry is None:
        return api_error(404, _("Not found."))
    data = body()
    if data is None or "response" not in data:
        return api_error(400, _("Send {\"response\": ...}."), "invalid")
    try:
        correct, version = services.drill_answer(entry, data["response"], utcnow())
    except services.ExamProblem as exc:
        db.session.rollback()
        return problem(exc)
    db.session.commit()
    return jsonify(correct=correct, answer=version.answer, explanation=version.explanation,
                   right_streak=entry.right_streak, cleared=entry.cleared,
                   clear_after=rules.CLEAR_AFTER)


# --- OpenAPI -----------------------------------------------------------------------------

_ID = {"type": "integer"}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


EXAM_INPUT = {
    "type": "object", "required": ["title", "bank", "time_limit_seconds"],
    "properties": {
        "title": {"type": "string"},
        "bank": {"type": "string", "description": "Question bank name"},
        "banks": {"type": "array", "items": {"type": "string"},
                  "description": "Several bank names (instead of bank)"},
        "question_count": {"type": "integer",
                           "description": "Questions of any type, 100/N points each; "
                                          "ignored with a blueprint"},
        "blueprint": {"type": "array", "items": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["single", "multiple", "true_false"]},
            "category": {"type": "string"}, "count": {"type": "integer"},
            "points": {"type": "number"}}}, "description": "Rows totalling 100 points"},
        "time_limit_seconds": {"type": "number", "exclusiveMinimum": 0,
                               "description": "Any positive number (rounded up to seconds)"},
        "grace_seconds": {"type": "integer", "default": 30},
        "pass_mark": {"type": "integer", "default": 80},
        "max_attempts": {"type": "integer", "default": 2,
                         "description": "Attempts per sitting: the exam plus make-ups"},
        "mode": {"type": "string", "enum": ["formal", "practice"], "default": "formal"},
        "certificate_type": {"type": "string",
                             "description": "Defaults to the bank's first certificate type"},
        "opens_at": {"type": "string", "format": "date-time"},
        "closes_at": {"type": "string", "format": "date-time"},
        "prerequisite_course": {"type": "string"},
        "review_allowed": {"type": "boolean", "default": True},
    },
}
QUESTION = {"type": "object", "properties": {
    "id": _ID, "position": _ID, "type": {"type": "string"}, "stem": {"type": "string"},
    "options": {"type": "array", "items": {"type": "string"},
                "description": "In this attempt's shuffled order"},
    "points": {"type": "number"},
    "response": {"description": "Saved answer: shown option indexes or true/false; null"},
    "seq": {"type": ["integer", "null"]},
    "feedback": {"type": "object", "description": "Practice mode: correct, answer, explanation"},
}}
ATTEMPT = {"type": "object", "properties": {
    "attempt_id": _ID, "exam_id": _ID, "status": {
        "type": "string", "enum": ["in_progress", "submitted", "expired"]},
    "deadline": {"type": "string", "format": "date-time"},
    "seconds_left": {"type": "number", "description": "Count down from this, not the clock"},
    "grace_seconds": {"type": "integer"}, "server_time": {"type": "string", "format": "date-time"},
    "score": {"type": ["number", "null"]}, "passed": {"type": ["boolean", "null"]},
    "questions": {"type": "array", "items": QUESTION},
    "answers": {"type": "object", "description": "question id -> saved response"},
}}
RESULT = {"type": "object", "properties": {
    "attempt_id": _ID, "status": {"type": "string"}, "score": {"type": "number"},
    "passed": {"type": "boolean"}, "pass_mark": {"type": "integer"},
    "submitted_at": {"type": "string", "format": "date-time"}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/exams": {
        "get": {"summary": "Exams, with whether the caller may start one and attempts left",
                "responses": {"200": {"description": "Exams"}, **error_responses(401)}},
        "post": {"summary": "Define an exam (instructor or admin)",
                 "requestBody": {"required": True, "content": json_content(EXAM_INPUT)},
                 "responses": {"201": {"description": "Created", "content": json_content({
                     "type": "object", "properties": {"id": _ID}})},
                     **error_responses(400, 401, 403, 422)}},
    },
    "/exams/{exam_id}": {"get": {
        "summary": "One exam definition", "parameters": [_path("exam_id")],
        "responses": {"200": {"description": "Exam"}, **error_responses(401, 404)}}},
    "/exams/{exam_id}/attempts": {"post": {
        "summary": "Start an attempt (worker); resumes the one in progress (200)",
        "parameters": [_path("exam_id")],
        "responses": {"201": {"description": "Attempt started: its paper, never the answers",
                              "content": json_content(ATTEMPT)},
                      "200": {"description": "The attempt in progress",
                              "content": json_content(ATTEMPT)},
                      "409": {"description": "Not eligible (reason in details) or the banks "
                                             "cannot fill the paper",
                              "content": json_content(ERROR)},
                      **error_responses(401, 403, 404)}}},
    "/attempts/{attempt_id}": {"get": {
        "summary": "Status, seconds left and saved answers (closes an overdue attempt)",
        "parameters": [_path("attempt_id")],
        "responses": {"200": {"description": "Attempt", "content": json_content(ATTEMPT)},
                      **error_responses(401, 404)}}},
    "/attempts/{attempt_id}/answers/{question_id}": {"put": {
        "summary": "Save one answer; an older seq never overwrites a newer answer",
        "parameters": [_path("attempt_id"), _path("question_id")],
        "requestBody": {"required": True, "content": json_content({
            "type": "object", "required": ["response"], "properties": {
                "response": {"description": "List of 0-based shown option indexes, true/false, "
                                            "or null to clear"},
                "seq": {"type": "integer", "description": "Client sequence number"}}})},
        "responses": {"200": {"description": "Saved (applied false: a newer answer was kept)"},
                      "409": {"description": "After deadline plus grace, or attempt closed",
                              "content": json_content(ERROR)},
                      **error_responses(400, 401, 404, 422)}}},
    "/attempts/{attempt_id}/submit": {"post": {
        "summary": "Finalise and grade; repeatable, returns the same result",
        "parameters": [_path("attempt_id")],
        "responses": {"200": {"description": "Result", "content": json_content(RESULT)},
                      **error_responses(401, 404)}}},
    "/wrong-answers/{question_id}/answer": {"post": {
        "summary": "Answer a question from the caller's wrong-answer book (original order)",
        "parameters": [_path("question_id")],
        "requestBody": {"required": True, "content": json_content({
            "type": "object", "required": ["response"], "properties": {"response": {}}})},
        "responses": {"200": {"description": "correct, answer, explanation, cleared"},
                      **error_responses(400, 401, 404, 422)}}},
}
