"""Instructor and admin pages for exams: who is sitting one now, results by exam and by
employer (XLSX/CSV export), one attempt in detail, and extra time for one worker's attempt.

Instructors and admins see every worker; employer admins see their own employer's people only
(another employer's attempt is a 404) and cannot give extra time: the exam's staff do that, and
every grant is in the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from trainer.accounts.rules import Role
from trainer.auth import require
from trainer.clock import utcnow
from trainer.db import db
from trainer.exams import reporting, rules, services
from trainer.exams.models import IN_PROGRESS, AttemptQuestion, Exam

bp = Blueprint("exams_admin", __name__, url_prefix="/exams/admin", template_folder="templates")

VIEWERS = (Role.INSTRUCTOR, Role.ADMIN, Role.EMPLOYER_ADMIN)
GRANTERS = (Role.INSTRUCTOR, Role.ADMIN)
PAGE_SIZE = 50
MAX_EXTRA_MINUTES = 120


class ExtraTimeForm(FlaskForm):
    minutes = IntegerField(_l("Extra minutes"), validators=[
        InputRequired(message=_l("Enter the number of minutes.")),
        NumberRange(min=1, max=MAX_EXTRA_MINUTES,
                    message=_l("Give between 1 and %(max)s minutes.", max=MAX_EXTRA_MINUTES))],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_EXTRA_MINUTES})
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[
        DataRequired(message=_l("Say why the extra time is given.")), Length(max=200)])


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _filters() -> reporting.Filters:
    outcome = request.args.get("outcome", "")
    employer_id = _int_arg("employer")
    if current_user.role == Role.EMPLOYER_ADMIN:
        employer_id = current_user.employer_id
    return reporting.Filters(exam_id=_int_arg("exam"), employer_id=employer_id,
                             outcome=outcome if outcome in ("passed", "failed") else "")


@bp.route("/")
@require(*VIEWERS)
def index() -> BaseResponse:
    return redirect(url_for("exams_admin.live"))


@bp.route("/live")
@require(*VIEWERS)
def live() -> str:
    exam_id = _int_arg("exam")
    rows = reporting.live_attempts(current_user, utcnow(), exam_id)
    exams = sorted({r.attempt.exam for r in rows}, key=lambda e: (e.title, e.id))
    if exam_id is not None and not exams:
        exam = db.session.get(Exam, exam_id)
        exams = [exam] if exam is not None else []
    return render_template("exams/admin/live.html", rows=rows, exams=exams, exam_id=exam_id)


@bp.route("/results")
@require(*VIEWERS)
def results() -> str:
    filters = _filters()
    page = max(1, request.args.get("page", 1, type=int))
    query = reporting.results_query(current_user, filters)
    total = db.session.scalar(sa_count(query)) or 0
    attempts = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().all()
    return render_template(
        "exams/admin/results.html", attempts=attempts, total=total, page=page,
        page_size=PAGE_SIZE, filters=filters, by_exam=reporting.by_exam(current_user, filters),
        by_employer=reporting.by_employer(current_user, filters),
        exams=reporting.exams_with_attempts(current_user),
        employers=reporting.employers_for(current_user))


def sa_count(query: Any) -> Any:
    import sqlalchemy as sa

    return sa.select(sa.func.count()).select_from(
        query.order_by(None).options().with_only_columns(reporting.ExamAttempt.id).subquery())


@bp.route("/results.csv", defaults={"fmt": "csv"})
@bp.route("/results.xlsx", defaults={"fmt": "xlsx"})
@require(*VIEWERS)
def export(fmt: str) -> Response:
    query = reporting.results_query(current_user, _filters()).limit(reporting.EXPORT_LIMIT)
    attempts = db.session.scalars(query).unique()
    rows = reporting.export_rows(attempts)
    stamp = utcnow().astimezone(reporting.local_zone()).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        body, mimetype = reporting.to_csv(reporting.EXPORT_HEADER, rows), "text/csv; charset=utf-8"
    else:
        body = reporting.to_xlsx(reporting.EXPORT_HEADER, rows, _("Exam results"))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=exam-results-{stamp}.{fmt}"})


def _attempt_or_404(attempt_id: int) -> reporting.ExamAttempt:
    attempt = reporting.visible_attempt(attempt_id, current_user)
    if attempt is None:
        abort(404)
    return attempt


@bp.route("/attempts/<int:attempt_id>")
@require(*VIEWERS)
def attempt_detail(attempt_id: int) -> str:
    attempt = _attempt_or_404(attempt_id)
    return _render_detail(attempt, ExtraTimeForm())


def _render_detail(attempt: reporting.ExamAttempt, form: ExtraTimeForm) -> str:
    now = utcnow()
    items = []
    for item in attempt.questions:
        items.append(_item_view(item))
    open_now = attempt.status == IN_PROGRESS and not rules.is_overdue(
        attempt.effective_deadline, attempt.exam.grace_seconds, now)
    return render_template(
        "exams/admin/attempt.html", attempt=attempt, items=items, form=form,
        seconds_left=rules.seconds_left(attempt.effective_deadline, now) if open_now else None,
        can_grant=open_now and current_user.role in GRANTERS,
        answered=sum(1 for i in items if i["response"] is not None))


def _item_view(item: AttemptQuestion) -> dict[str, Any]:
    version = item.version
    options = list(version.options or [])
    order = item.option_order or list(range(len(options)))
    answer = version.answer
    response = item.response
    correct = item.correct
    if correct is None and response is not None:  # not graded yet (attempt in progress)
        correct = rules.grade_item(version.content(), response, item.max_points).correct
    shown = []
    for position, original in enumerate(order):
        if 0 <= original < len(options):
            shown.append({
                "letter": chr(ord("A") + position), "text": options[original],
                "chosen": isinstance(response, list) and original in response,
                "right": isinstance(answer, list) and original in answer})
    return {"item": item, "version": version, "options": shown, "response": response,
            "answer": answer, "correct": correct, "is_bool": isinstance(answer, bool)}


@bp.route("/attempts/<int:attempt_id>/extra-time", methods=["POST"])
@require(*GRANTERS)
def extra_time(attempt_id: int) -> BaseResponse | tuple[str, int]:
    attempt = _attempt_or_404(attempt_id)
    form = ExtraTimeForm()
    if not form.validate_on_submit():
        return _render_detail(attempt, form), 400
    now = utcnow()
    if attempt.status != IN_PROGRESS or rules.is_overdue(
            attempt.effective_deadline, attempt.exam.grace_seconds, now):
        flash(_("This attempt is over; its time can no longer be extended."), "error")
        return _render_detail(attempt, form), 409
    minutes = form.minutes.data or 0
    try:
        services.grant_extra_time(attempt, minutes * 60, current_user,
                                  (form.reason.data or "").strip())
    except services.AttemptClosed:
        db.session.rollback()
        flash(_("This attempt is over; its time can no longer be extended."), "error")
        return _render_detail(attempt, form), 409
    db.session.commit()
    flash(_("%(name)s has %(minutes)s more minutes.", name=attempt.user.name, minutes=minutes),
          "success")
    return redirect(url_for("exams_admin.attempt_detail", attempt_id=attempt.id))
