"""Exam pages: the worker's exam list, the exam page, results, the wrong-answer book, and the
instructor's exam definitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainer.accounts.rules import Role
from trainer.auth import STAFF, public, require
from trainer.clock import local_zone, utcnow
from trainer.db import db
from trainer.exams import rules, services
from trainer.exams.forms import BLUEPRINT_ROWS, EmptyForm, ExamForm, type_choices
from trainer.exams.models import IN_PROGRESS, Exam, ExamAttempt, WrongAnswer
from trainer.questions import services as question_services
from trainer.questions.models import QuestionBank
from trainer.questions.types import get_type, option_letter

bp = Blueprint("exams", __name__, url_prefix="/exams", template_folder="templates")

STATIC = Path(__file__).parent / "static"


@bp.app_template_filter("option_letter")
def _option_letter(index: int) -> str:
    return option_letter(index)


@bp.app_template_filter("num")
def _num(value: float | int | None) -> str:
    """12.0 -> "12", 12.5 -> "12.5" (scores, points, minutes)."""
    return "" if value is None else f"{round(float(value), 2):g}"


@bp.route("/static/<path:filename>")
@public
def static_file(filename: str) -> Response:
    """The exam page's script (served here so the area keeps its own static folder)."""
    return send_from_directory(STATIC, filename, max_age=300)


# --- the worker's pages ------------------------------------------------------------------


@bp.route("/")
@require()
def index() -> str:
    now = utcnow()
    rows = services.my_exams(current_user, now)
    db.session.commit()  # attempts found overdue were closed
    book = len(services.wrong_book(current_user.id))
    return render_template("exams/index.html", rows=rows, form=EmptyForm(), book=book,
                           is_worker=current_user.role == Role.WORKER,
                           is_staff=current_user.role in STAFF)


@bp.route("/<int:exam_id>/start", methods=["POST"])
@require(Role.WORKER)
def start(exam_id: int) -> Response:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        attempt, _created = services.start_attempt(exam, current_user, utcnow())
    except services.ExamProblem as exc:
        db.session.commit()
        flash(str(exc.message), "error")
        return redirect(url_for("exams.index"))
    db.session.commit()
    return redirect(url_for("exams.take", attempt_id=attempt.id))


def visible_attempt(attempt_id: int) -> ExamAttempt:
    attempt = services.visible_attempt(attempt_id, current_user)
    if attempt is None:
        abort(404)
    return attempt


@bp.route("/attempts/<int:attempt_id>")
@require()
def take(attempt_id: int) -> str | Response:
    attempt = visible_attempt(attempt_id)
    if services.close_if_overdue(attempt, utcnow()):
        db.session.commit()
    if attempt.status != IN_PROGRESS or attempt.user_id != current_user.id:
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    return render_template("exams/take.html", attempt=attempt, exam=attempt.exam,
                           strings=page_strings())


def page_strings() -> dict[str, str]:
    """Texts the exam page's script shows, in the user's language."""
    return {
        "saved": _("All answers saved"),
        "saving": _("Saving…"),
        "waiting": _("%(n)s answer(s) waiting for the network; they will be sent automatically."),
        "offline": _("No network. Keep answering: your answers are kept on this phone."),
        "closed": _("This attempt is closed."),
        "time_up": _("Time is up. Submitting…"),
        "confirm": _("Submit your answers now? You cannot change them afterwards."),
        "confirm_unanswered": _("%(n)s question(s) are not answered. Submit anyway?"),
        "submitting": _("Submitting…"),
        "submit_waiting": _("Waiting for the network to submit…"),
        "correct": _("Correct"),
        "wrong": _("Wrong"),
        "answer_is": _("Correct answer:"),
        "question_of": _("Question %(n)s of %(total)s"),
        "true": _("True"),
        "false": _("False"),
        "refused": _("This answer was not accepted: %(message)s"),
        "points": _("%(points)s points"),
        "check": _("Check answer"),
    }


@bp.route("/attempts/<int:attempt_id>/result")
@require()
def result(attempt_id: int) -> str | Response:
    attempt = visible_attempt(attempt_id)
    if services.close_if_overdue(attempt, utcnow()):
        db.session.commit()
    if attempt.status == IN_PROGRESS and attempt.user_id == current_user.id:
        return redirect(url_for("exams.take", attempt_id=attempt.id))
    exam = attempt.exam
    review = attempt.status != IN_PROGRESS and (exam.review_allowed or exam.is_practice)
    items = []
    if review:
        loaded = services.preload_versions(attempt)  # noqa: F841  (one query, kept alive)
        for item in attempt.questions:
            version = item.version
            items.append({
                "item": item, "version": version,
                "options": services.shown_options(version.options, item.option_order),
                "chosen": rules.to_shown(item.option_order or [], item.response),
                "answer": rules.to_shown(item.option_order or [], version.answer),
            })
    decision = (services.check_eligibility(exam, attempt.user_id, utcnow())
                if attempt.user_id == current_user.id else None)
    return render_template("exams/result.html", attempt=attempt, exam=exam, items=items,
                           review=review, decision=decision, form=EmptyForm())


@bp.route("/wrong")
@require()
def wrong_book() -> str:
    entries = services.wrong_book(current_user.id)
    wanted = request.args.get("q", type=int)
    entry = next((e for e in entries if e.question_id == wanted), entries[0] if entries else None)
    return render_template("exams/wrong.html", entries=entries, entry=entry,
                           version=entry.question.current_version if entry else None,
                           form=EmptyForm(), feedback=None, clear_after=rules.CLEAR_AFTER)


@bp.route("/wrong/<int:question_id>", methods=["POST"])
@require()
def wrong_answer(question_id: int) -> str | Response:
    entry = db.session.scalar(sa.select(WrongAnswer).where(
        WrongAnswer.user_id == current_user.id, WrongAnswer.question_id == question_id,
        WrongAnswer.cleared.is_(False)))
    if entry is None:
        abort(404)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    version = entry.question.current_version
    if version is None:
        abort(404)
    raw: Any = (request.form.get("answer") if version.type == "true_false"
                else request.form.getlist("answer"))
    if raw in (None, []):
        flash(_("Choose an answer."), "error")
        return redirect(url_for("exams.wrong_book", q=question_id))
    try:
        correct, version = services.drill_answer(entry, raw, utcnow())
    except services.ExamProblem as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("exams.wrong_book", q=question_id))
    db.session.commit()
    chosen = get_type(version.type).normalise_response(raw, len(version.options or []) or None)
    entries = services.wrong_book(current_user.id)
    following = next((e for e in entries if e.question_id != question_id), None)
    return render_template("exams/wrong.html", entries=entries, entry=entry, version=version,
                           form=form, clear_after=rules.CLEAR_AFTER,
                           feedback={"correct": correct, "chosen": chosen,
                                     "next": following.question_id if following else None})


# --- instructors and admins: exam definitions -------------------------------------------


@bp.route("/manage")
@require(*STAFF)
def manage() -> str:
    exams = db.session.scalars(sa.select(Exam).order_by(Exam.mode, Exam.title, Exam.id)).all()
    counts = dict(db.session.execute(sa.select(ExamAttempt.exam_id, sa.func.count())
                                     .group_by(ExamAttempt.exam_id)).all())
    return render_template("exams/manage.html", exams=exams, counts=counts, form=EmptyForm(),
                           can_edit=can_edit)


def usable_banks() -> list[QuestionBank]:
    banks = db.session.scalars(sa.select(QuestionBank).order_by(QuestionBank.name)).all()
    return [b for b in banks if question_services.can_edit_bank(current_user, b)]


def editable_exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None or not can_edit(exam):
        abort(404)
    return exam


def can_edit(exam: Exam) -> bool:
    return current_user.role == Role.ADMIN or exam.created_by_id in (None, current_user.id)


def to_utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=local_zone()).astimezone(dt.UTC) if value else None


def to_local(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(local_zone()).replace(tzinfo=None) if value else None


def form_input(form: ExamForm) -> tuple[services.ExamInput | None, dict[str, str]]:
    raw_rows = []
    for row in form.rows:
        values = row.form
        if not values.type.data and not values.count.data:
            continue
        raw_rows.append({"type": values.type.data or "", "category": values.category.data or "",
                         "count": values.count.data, "points": values.points.data})
    errors: dict[str, str] = {}
    try:
        blueprint = rules.parse_blueprint(raw_rows)
    except rules.BlueprintError as exc:
        return None, {"rows": "; ".join(str(m) for m in exc.messages)}
    minutes = form.time_limit_minutes.data or 0
    data = services.ExamInput(
        title=form.title.data or "", bank_ids=list(form.banks.data or []),
        question_count=form.question_count.data or 0,
        time_limit_seconds=max(1, round(minutes * 60)), blueprint=blueprint,
        certificate_type=(form.certificate_type.data or "").strip(),
        grace_seconds=form.grace_seconds.data if form.grace_seconds.data is not None else 30,
        pass_mark=form.pass_mark.data or 80, max_attempts=form.max_attempts.data or 2,
        mode=form.mode.data or "formal", opens_at=to_utc(form.opens_at.data),
        closes_at=to_utc(form.closes_at.data),
        prerequisite_course=(form.prerequisite_course.data or "").strip() or None,
        review_allowed=bool(form.review_allowed.data))
    allowed = {b.id for b in usable_banks()}
    if any(bank_id not in allowed for bank_id in data.bank_ids):
        errors["banks"] = _("Choose banks from the list.")
    for name, message in services.exam_input_errors(data).items():
        errors.setdefault({"blueprint": "rows", "time_limit_seconds": "time_limit_minutes"}
                          .get(name, name), str(message))
    if not errors:
        short = services.paper_problem(data.bank_ids, data.blueprint, data.question_count)
        if short is not None:
            errors["rows" if data.blueprint else "question_count"] = str(short)
    return (None, errors) if errors else (data, {})


def prepare(form: ExamForm) -> None:
    form.banks.choices = [(b.id, b.name) for b in usable_banks()]
    for row in form.rows:
        row.form.type.choices = type_choices()


def show_errors(form: ExamForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            if isinstance(target.errors, list):
                target.errors.append(message)
            else:
                target.errors = [message]
        else:
            form.form_errors.append(message)


def edit_page(form: ExamForm, exam: Exam | None, errors: dict[str, str] | None = None,
              status: int = 200) -> tuple[str, int]:
    form_errors = dict(errors or {})
    rows_error = form_errors.pop("rows", None)
    show_errors(form, form_errors)
    return render_template("exams/edit.html", form=form, exam=exam, rows_error=rows_error,
                           row_count=BLUEPRINT_ROWS), status


@bp.route("/new", methods=["GET", "POST"])
@require(*STAFF)
def new() -> Any:
    form = ExamForm()
    prepare(form)
    if request.method == "GET":
        form.review_allowed.data = True
        return edit_page(form, None)
    if not form.validate_on_submit():
        return edit_page(form, None, status=422)
    data, errors = form_input(form)
    if data is None:
        return edit_page(form, None, errors, 422)
    exam = services.create_exam(data, current_user)
    db.session.commit()
    flash(_("Exam “%(title)s” created.", title=exam.title), "success")
    return redirect(url_for("exams.manage"))


def fill_form(form: ExamForm, exam: Exam) -> None:
    form.title.data, form.mode.data = exam.title, exam.mode
    form.certificate_type.data = exam.certificate_type
    form.banks.data = [b.id for b in exam.banks]
    for row, spec in zip(form.rows, services.blueprint_rows(exam), strict=False):
        row.form.type.data, row.form.category.data = spec.type, spec.category
        row.form.count.data, row.form.points.data = spec.count, spec.points
    form.question_count.data = exam.question_count
    form.time_limit_minutes.data = round(exam.time_limit_seconds / 60, 2)
    form.grace_seconds.data, form.pass_mark.data = exam.grace_seconds, exam.pass_mark
    form.max_attempts.data = exam.max_attempts
    form.opens_at.data, form.closes_at.data = to_local(exam.opens_at), to_local(exam.closes_at)
    form.prerequisite_course.data = exam.prerequisite_course or ""
    form.review_allowed.data = exam.review_allowed


@bp.route("/<int:exam_id>/edit", methods=["GET", "POST"])
@require(*STAFF)
def edit(exam_id: int) -> Any:
    exam = editable_exam(exam_id)
    form = ExamForm()
    prepare(form)
    if request.method == "GET":
        fill_form(form, exam)
        prepare(form)
        return edit_page(form, exam)
    if not form.validate_on_submit():
        return edit_page(form, exam, status=422)
    data, errors = form_input(form)
    if data is None:
        return edit_page(form, exam, errors, 422)
    services.update_exam(exam, data, current_user)
    db.session.commit()
    flash(_("Exam “%(title)s” saved.", title=exam.title), "success")
    return redirect(url_for("exams.manage"))


@bp.route("/<int:exam_id>/mock", methods=["POST"])
@require(*STAFF)
def mock(exam_id: int) -> Response:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    copy = services.mock_of(exam, current_user)
    db.session.commit()
    flash(_("Practice exam “%(title)s” created with the same blueprint.", title=copy.title),
          "success")
    return redirect(url_for("exams.manage"))

