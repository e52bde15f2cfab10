"""Pages: suspensions (declare, edit, lift, delete), the backlog of a suspension (progress,
plan, verdict, burn-down), exam sessions, and a person's reminders. Admins only, except the
reminders page (every signed-in user sees their own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainer.accounts.rules import Role
from trainer.auth import require
from trainer.certificates import backlog as backlog_service
from trainer.certificates import planner, reminders
from trainer.certificates import suspensions as service
from trainer.certificates.backlog_forms import LiftForm, ProgressForm, SessionForm, SuspensionForm
from trainer.certificates.backlog_models import ExamSession
from trainer.certificates.calendar import normalize_region_selector
from trainer.certificates.models import Suspension
from trainer.clock import today
from trainer.db import db

bp = Blueprint("backlog", __name__, template_folder="templates")


@bp.record_once
def _connect_signals(state: Any) -> None:
    from trainer import signals

    signals.exam_passed.connect(backlog_service.on_exam_passed)


@bp.app_context_processor
def _reminder_helpers() -> dict[str, Any]:
    """``my_certificate_reminders()`` for the certificates page's reminder section."""
    def my_certificate_reminders(limit: int = 10) -> list[Any]:
        if not current_user.is_authenticated:
            return []
        return reminders.for_user(current_user.id, limit)

    return {"my_certificate_reminders": my_certificate_reminders,
            "reminder_kind_label": reminders.kinds_label}


def get_suspension(suspension_id: int) -> Suspension:
    suspension = db.session.get(Suspension, suspension_id)
    if suspension is None:
        abort(404)
    return suspension


def form_input(form: SuspensionForm) -> service.SuspensionInput:
    return service.SuspensionInput(
        name=form.name.data or "", start=form.start.data or "", lift=form.lift.data or "",
        regions=form.regions.data or "", types=form.types.data or "",
        effect=form.effect.data or "", holder_deadline=form.holder_deadline.data or "",
        exam_deadline=form.exam_deadline.data or "", extend_by=form.extend_by.data or "",
        extend_to=form.extend_to.data or "", source_url=form.source_url.data or "",
        notes=form.notes.data or "")


def show_problems(form: SuspensionForm, problems: service.Problems) -> None:
    for name, messages in problems.errors.items():
        field = getattr(form, name, None)
        target = field if field is not None else form.name
        target.errors = list(target.errors) + messages


# --- suspensions ----------------------------------------------------------------------------


@bp.route("/admin/suspensions")
@require(Role.ADMIN)
def suspension_list() -> str:
    rows = [(s, service.affected_count(s)) for s in service.all_suspensions()]
    return render_template("backlog/suspensions.html", rows=rows)


@bp.route("/admin/suspensions/new", methods=["GET", "POST"])
@require(Role.ADMIN)
def suspension_new() -> str | Response | tuple[str, int]:
    form = SuspensionForm()
    if form.validate_on_submit():
        valid, problems = service.validate(form_input(form))
        if valid is not None:
            try:
                suspension, (_examined, changed) = service.create(valid, current_user)
            except ValueError as error:
                db.session.rollback()
                problems.add("effect", str(error))
            else:
                count = service.affected_count(suspension)
                db.session.commit()
                flash(_("Suspension “%(name)s” declared: it covers %(count)s certificate(s); "
                        "%(changed)s timeline(s) changed.", name=suspension.name, count=count,
                        changed=changed), "success")
                return redirect(url_for("backlog.suspension_list"))
        show_problems(form, problems)
    status = 400 if request.method == "POST" else 200
    return render_template("backlog/suspension_form.html", form=form, suspension=None), status


@bp.route("/admin/suspensions/<int:suspension_id>/edit", methods=["GET", "POST"])
@require(Role.ADMIN)
def suspension_edit(suspension_id: int) -> str | Response | tuple[str, int]:
    suspension = get_suspension(suspension_id)
    form = SuspensionForm(obj=service.input_from(suspension) if request.method == "GET" else None)
    if form.validate_on_submit():
        valid, problems = service.validate(form_input(form), suspension)
        if valid is not None:
            try:
                _examined, changed = service.update(suspension, valid, current_user)
            except ValueError as error:
                db.session.rollback()
                suspension = get_suspension(suspension_id)
                problems.add("effect", str(error))
            else:
                count = service.affected_count(suspension)
                db.session.commit()
                flash(_("Suspension “%(name)s” saved: it covers %(count)s certificate(s); "
                        "%(changed)s timeline(s) changed.", name=suspension.name, count=count,
                        changed=changed), "success")
                return redirect(url_for("backlog.suspension_list"))
        show_problems(form, problems)
    status = 400 if request.method == "POST" else 200
    return render_template("backlog/suspension_form.html", form=form, suspension=suspension), status


def _preview_day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return service.parse_date(text)
    except ValueError:
        return None


@bp.route("/admin/suspensions/<int:suspension_id>/lift", methods=["GET", "POST"])
@require(Role.ADMIN)
def suspension_lift(suspension_id: int) -> str | Response | tuple[str, int]:
    suspension = get_suspension(suspension_id)
    form = LiftForm()
    if request.method == "GET":
        form.on.data = request.args.get("on") or (suspension.lift_on.isoformat()
                                                  if suspension.lift_on else today().isoformat())
    if form.validate_on_submit():
        try:
            day = service.parse_date(form.on.data or "")
            _examined, changed = service.lift(suspension, day, current_user)
        except ValueError as error:
            db.session.rollback()
            suspension = get_suspension(suspension_id)
            form.on.errors = [str(error)]
        else:
            count = service.affected_count(suspension)
            db.session.commit()
            flash(_("Suspension “%(name)s” lifted on %(day)s: it covers %(count)s certificate(s); "
                    "%(changed)s timeline(s) changed.", name=suspension.name, day=day.isoformat(),
                    count=count, changed=changed), "success")
            return redirect(url_for("backlog.backlog_page", suspension_id=suspension.id))
    preview = _preview_day(form.on.data) or suspension.lift_on
    affected = service.affected_count(suspension, preview)
    status = 400 if request.method == "POST" else 200
    return render_template("backlog/lift.html", form=form, suspension=suspension,
                           affected=affected, preview=preview), status


@bp.route("/admin/suspensions/<int:suspension_id>/affected")
@require(Role.ADMIN)
def suspension_affected(suspension_id: int) -> Response:
    """JSON for the lift page: how many certificates a lift on ``?on=`` would cover."""
    suspension = get_suspension(suspension_id)
    day = _preview_day(request.args.get("on"))
    if day is None or day < suspension.start_on:
        return jsonify({"count": None, "message": _("Give a date on or after the start, "
                                                    "YYYY-MM-DD.")})
    count = service.affected_count(suspension, day)
    return jsonify({"count": count, "on": day.isoformat(),
                    "message": _("A lift on %(day)s covers %(count)s certificate(s).",
                                 day=day.isoformat(), count=count)})


@bp.route("/admin/suspensions/<int:suspension_id>/delete", methods=["POST"])
@require(Role.ADMIN)
def suspension_delete(suspension_id: int) -> Response:
    suspension = get_suspension(suspension_id)
    if not _csrf_ok():
        abort(400)
    name = suspension.name
    _examined, changed = service.delete(suspension, current_user)
    db.session.commit()
    flash(_("Suspension “%(name)s” deleted; %(changed)s timeline(s) changed.", name=name,
            changed=changed), "success")
    return redirect(url_for("backlog.suspension_list"))


def _csrf_ok() -> bool:
    from trainer.accounts.forms import EmptyForm

    return bool(EmptyForm().validate_on_submit())


# --- backlog --------------------------------------------------------------------------------


@bp.route("/admin/backlog")
@require(Role.ADMIN)
def backlog_index() -> str:
    rows = [(s, service.applying_count(s)) for s in service.all_suspensions()
            if s.effect == "deemed_valid"]
    return render_template("backlog/index.html", rows=rows)


@bp.route("/admin/backlog/<int:suspension_id>")
@require(Role.ADMIN)
def backlog_page(suspension_id: int) -> str:
    suspension = get_suspension(suspension_id)
    progress = request.args.get("progress", "")
    if progress not in backlog_service.PROGRESS:
        progress = ""
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = backlog_service.page(suspension.id, progress, page_number)
    result = backlog_service.run_plan(suspension, today())
    return render_template(
        "backlog/backlog.html", suspension=suspension, rows=rows, total=total,
        page=page_number, page_size=backlog_service.PAGE_SIZE, progress=progress,
        counts=backlog_service.progress_counts(suspension.id), plan=result,
        verdict=backlog_service.verdict_text(result), chart=burn_down_chart(result),
        progress_form=ProgressForm(formdata=None), today=today(),
        sessions=backlog_service.sessions_with_use(today()))


@bp.route("/admin/backlog/<int:suspension_id>/plan", methods=["POST"])
@require(Role.ADMIN)
def backlog_plan(suspension_id: int) -> Response:
    suspension = get_suspension(suspension_id)
    if not _csrf_ok():
        abort(400)
    from trainer.audit import services as audit

    result, booked = backlog_service.plan_backlog(suspension, today())
    audit.record(current_user, "backlog.plan", "suspension", suspension.id,
                 after={"booked": booked, "feasible": result.feasible,
                        "seats_per_working_day": result.seats_per_working_day})
    db.session.commit()
    flash(_("Planned: %(booked)s new booking(s).", booked=booked) + " "
          + backlog_service.verdict_text(result), "success" if result.feasible else "error")
    return redirect(url_for("backlog.backlog_page", suspension_id=suspension.id))


@bp.route("/admin/backlog/<int:suspension_id>/certificates/<int:certificate_id>/progress",
          methods=["POST"])
@require(Role.ADMIN)
def backlog_progress(suspension_id: int, certificate_id: int) -> Response:
    suspension = get_suspension(suspension_id)
    cert = backlog_service.backlog_certificate(suspension.id, certificate_id)
    if cert is None:
        abort(404)
    form = ProgressForm()
    target = request.form.get("next") or ""
    back = redirect(target if _safe_next(target)
                    else url_for("backlog.backlog_page", suspension_id=suspension.id))
    if not form.validate_on_submit():
        flash(_("Choose a progress and a date."), "error")
        return back
    try:
        day = service.parse_date(form.on.data or "")
    except ValueError as error:
        flash(str(error), "error")
        return back
    backlog_service.record_progress(cert, form.state.data or "waiting", day, current_user)
    db.session.commit()
    flash(_("Certificate %(number)s: progress saved.", number=cert.number), "success")
    return back


def _safe_next(target: str) -> bool:
    return target.startswith("/admin/backlog/") and "//" not in target and "\\" not in target


# --- exam sessions --------------------------------------------------------------------------


@bp.route("/admin/exam-sessions", methods=["GET", "POST"])
@require(Role.ADMIN)
def sessions() -> str | Response | tuple[str, int]:
    form = SessionForm()
    if form.validate_on_submit():
        ok = True
        try:
            day = service.parse_date(form.day.data or "")
        except ValueError as error:
            form.day.errors = [str(error)]
            ok = False
        region = (form.region.data or "").strip()
        if region:
            try:
                region = normalize_region_selector(region)
            except ValueError:
                form.region.errors = [_("“%(value)s” is not a region code: use 2, 4 or 6 digits, "
                                        "e.g. 34, 3201 or 340104.", value=region)]
                ok = False
        types = service.split_list(form.types.data or "")
        if ok:
            session = backlog_service.add_session(day, (form.place.data or "").strip(),
                                                  form.capacity.data or 0, types, region,
                                                  current_user)
            db.session.commit()
            flash(_("Exam session added on %(day)s with %(seats)s seat(s).",
                    day=session.day.isoformat(), seats=session.capacity), "success")
            return redirect(url_for("backlog.sessions", back=request.args.get("back")))
    status = 400 if request.method == "POST" else 200
    back = request.args.get("back", type=int)
    return render_template("backlog/sessions.html", form=form,
                           sessions=backlog_service.sessions_with_use(), back=back), status


@bp.route("/admin/exam-sessions/<int:session_id>/delete", methods=["POST"])
@require(Role.ADMIN)
def session_delete(session_id: int) -> Response:
    session = db.session.get(ExamSession, session_id)
    if session is None:
        abort(404)
    if not _csrf_ok():
        abort(400)
    released = backlog_service.delete_session(session, current_user)
    db.session.commit()
    flash(_("Exam session deleted; %(count)s booking(s) released.", count=released), "success")
    return redirect(url_for("backlog.sessions"))


# --- reminders ------------------------------------------------------------------------------


@bp.route("/my/reminders")
@require()
def my_reminders() -> str:
    rows = reminders.for_user(current_user.id, 100)
    return render_template("backlog/my_reminders.html", rows=rows)


# --- chart ----------------------------------------------------------------------------------

CHART_W, CHART_H, PAD_L, PAD_B, PAD_T, PAD_R = 640, 240, 44, 28, 12, 12


def burn_down_chart(result: planner.Plan) -> dict[str, Any] | None:
    """Coordinates for an inline SVG: remaining per day (actual, then planned), the ideal line,
    today and the last exam deadline."""
    points = result.burn_down
    if len(points) < 2:
        return None
    top = max(max(p.remaining for p in points), max((p.ideal or 0) for p in points), 1)
    first, last = points[0].day, points[-1].day
    span = max(1, (last - first).days)
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(day: dt.date) -> float:
        return round(PAD_L + inner_w * (day - first).days / span, 1)

    def y(value: float) -> float:
        return round(PAD_T + inner_h * (1 - value / top), 1)

    def line(pairs: list[tuple[dt.date, float]]) -> str:
        return " ".join(f"{x(d)},{y(v)}" for d, v in pairs)

    actual = [(p.day, float(p.remaining)) for p in points if not p.planned]
    planned = [(p.day, float(p.remaining)) for p in points if p.planned]
    if actual and planned:
        planned.insert(0, actual[-1])
    ideal = [(p.day, p.ideal) for p in points if p.ideal is not None]
    return {
        "width": CHART_W, "height": CHART_H, "left": PAD_L, "bottom": CHART_H - PAD_B,
        "right": CHART_W - PAD_R, "top": PAD_T,
        "actual": line(actual), "planned": line(planned),
        "ideal": line([(d, float(v)) for d, v in ideal if v is not None]),
        "today_x": x(result.today) if first <= result.today <= last else None,
        "deadline_x": (x(result.last_deadline) if result.last_deadline
                       and first <= result.last_deadline <= last else None),
        "max": top, "first": first, "last": last,
        "remaining_now": next((p.remaining for p in points if p.day == result.today), None),
    }

