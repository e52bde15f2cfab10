"""Enrolment and the hours ledger for admins and employer admins (own employer only)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainer.accounts.models import Employer, User
from trainer.accounts.rules import Role
from trainer.accounts.services import find_by_login
from trainer.audit import services as audit
from trainer.auth import ADMINS, require
from trainer.courses import services, uploads
from trainer.courses.forms import EnrolForm, NewCourseForm, UploadLessonForm
from trainer.courses.models import Course, Enrolment
from trainer.courses.storage import get_storage
from trainer.db import db
from trainer.forms import choices
from trainer.i18n import local_datetime, select_locale
from trainer.spreadsheets import safe_cell

bp = Blueprint("courses_admin", __name__, url_prefix="/courses/admin",
               template_folder="templates")

CERTIFICATE_CODE = re.compile(r"[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*")


def _course_choices() -> list[Any]:
    locale = select_locale()
    rows = db.session.scalars(sa.select(Course).order_by(Course.key))
    return choices([(c.key, c.title(locale)) for c in rows])


def _employer_choices() -> list[Any]:
    if current_user.role == Role.EMPLOYER_ADMIN:
        return choices([(str(current_user.employer_id), current_user.employer.name)])
    rows = db.session.scalars(sa.select(Employer).order_by(Employer.name))
    return choices([(str(e.id), e.name) for e in rows])


def _targets(form: EnrolForm) -> list[User] | None:
    """The workers the form names; None (with the form's errors set) when it names none."""
    actor = current_user._get_current_object()  # type: ignore[attr-defined]
    mode = form.mode.data
    if mode == "worker":
        login = (form.login.data or "").strip()
        if not login:
            form.login.errors.append(_("Enter the worker's mobile number."))
            return None
        user = find_by_login(login)
        visible = user is not None and user.role == "worker" and (
            actor.role == "admin" or user.employer_id == actor.employer_id)
        if not visible or user is None:
            form.login.errors.append(_("No worker with this mobile number or username."))
            return None
        return [user]
    if mode == "employer":
        try:
            employer_id = int(form.employer.data or "")
        except ValueError:
            employer_id = 0
        if actor.role != "admin" and employer_id != actor.employer_id:
            employer_id = 0
        if not employer_id or db.session.get(Employer, employer_id) is None:
            form.employer.errors.append(_("Choose an employer."))
            return None
        users = list(db.session.scalars(services.workers_query(actor)
                                        .where(User.employer_id == employer_id)))
        if not users:
            form.employer.errors.append(_("This employer has no active workers."))
            return None
        return users
    code = (form.certificate_type.data or "").strip()
    if not CERTIFICATE_CODE.fullmatch(code):
        form.certificate_type.errors.append(
            _("Enter a certificate type code such as 1.2 or SM."))
        return None
    try:
        users = services.workers_holding(actor, code)
    except services.CertificatesUnavailable:
        form.certificate_type.errors.append(
            _("Certificate records are not available on this server yet."))
        return None
    if not users:
        form.certificate_type.errors.append(
            _("No worker holds a certificate of type %(code)s.", code=code))
        return None
    return users


@bp.route("/enrol", methods=["GET", "POST"])
@require(*ADMINS)
def enrol() -> str | Response | tuple[str, int]:
    form = EnrolForm()
    form.course.choices = _course_choices()
    form.employer.choices = _employer_choices()
    if request.method == "GET" and request.args.get("course"):
        form.course.data = request.args["course"]
    if form.validate_on_submit():
        course = db.session.scalar(sa.select(Course).where(Course.key == form.course.data))
        if course is None:
            form.course.errors.append(_("Choose a course."))
        users = _targets(form) if course is not None else None
        if course is not None and users is not None:
            new, existing = services.enrol_many(users, course, current_user, form.due_on.data)
            audit.record(current_user, "courses.enrol", "course", course.key, after={
                "mode": form.mode.data, "users": [u.id for u in users][:200],
                "new": new, "due_on": form.due_on.data.isoformat() if form.due_on.data else None},
                employer_id=current_user.employer_id)
            db.session.commit()
            flash(_("%(new)s worker(s) enrolled in %(course)s; %(existing)s were enrolled "
                    "already.", new=new, course=course.title(select_locale()),
                    existing=existing), "success")
            return redirect(url_for("courses_admin.enrolments", key=course.key))
        return render_template("courses/enrol.html", form=form), 400
    status = 400 if request.method == "POST" else 200
    return render_template("courses/enrol.html", form=form), status


@bp.route("/courses/<key>/enrolments")
@require(*ADMINS)
def enrolments(key: str) -> str:
    course = db.session.scalar(sa.select(Course).where(Course.key == key))
    if course is None:
        abort(404)
    query = (sa.select(Enrolment, User).join(User, Enrolment.user_id == User.id)
             .where(Enrolment.course_id == course.id).order_by(User.name, User.id))
    if current_user.role != Role.ADMIN:
        query = query.where(User.employer_id == current_user.employer_id)
    rows = [(enrolment, user, services.summarise(user.id, course, enrolment))
            for enrolment, user in db.session.execute(query).all()]
    stats = None
    if current_user.role == Role.ADMIN:
        stats = [(lesson, services.live_viewers(lesson.id)) for lesson in course.active_lessons]
    return render_template("courses/enrolments.html", course=course, rows=rows, stats=stats)


LEDGER_HEADER = ["user_id", "name", "phone", "national_id", "employer", "course", "course_title",
                 "course_version", "lesson", "lesson_title", "hours", "certificate_types",
                 "purpose", "credited_at"]


def _ledger() -> list[list[Any]]:
    locale = select_locale()
    out = []
    for row, user, course, lesson in db.session.execute(
            services.ledger_rows(current_user._get_current_object())).all():  # type: ignore[attr-defined]
        out.append([user.id, user.name, user.masked_phone, user.masked_national_id,
                    user.employer.name if user.employer else "", course.key,
                    course.title(locale), row.course_version, lesson.key, lesson.title(locale),
                    row.hours, " ".join(row.certificate_types or []), row.purpose or "",
                    local_datetime(row.credited_at)])
    return out


@bp.route("/hours.<fmt>")
@require(*ADMINS)
def export_hours(fmt: str) -> Response:
    if fmt not in {"csv", "xlsx"}:
        abort(404)
    rows = _ledger()
    audit.record(current_user, "courses.export_hours", "training_hours", fmt,
                 after={"rows": len(rows)}, employer_id=current_user.employer_id)
    db.session.commit()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(LEDGER_HEADER)
        for r in rows:
            writer.writerow([_cell(v) for v in r])
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8
        mimetype = "text/csv; charset=utf-8"
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("hours")
        sheet.append(LEDGER_HEADER)
        for r in rows:
            sheet.append([float(v) if k == 10 else _cell(v) for k, v in enumerate(r)])
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="training-hours.{fmt}"'})


def _cell(value: Any) -> Any:
    """Spreadsheet-safe text: a leading = + - @ would be run as a formula by Excel."""
    value = safe_cell(value)
    return value if isinstance(value, int | float | str) else str(value)


# Courses made in the web UI, and lesson uploads ------------------------------------------

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@bp.route("/new", methods=["GET", "POST"])
@require(Role.INSTRUCTOR, Role.ADMIN)
def new_course() -> str | Response | tuple[str, int]:
    form = NewCourseForm()
    if form.validate_on_submit():
        key = (form.key.data or "").strip()
        codes = [c.strip() for c in (form.certificate_types.data or "").split(",") if c.strip()]
        ok = True
        if not SLUG.fullmatch(key):
            form.key.errors.append(_("Use lowercase letters, digits and single hyphens."))
            ok = False
        elif db.session.scalar(sa.select(Course.id).where(Course.key == key)) is not None:
            form.key.errors.append(_("A course with this id exists already."))
            ok = False
        bad = [c for c in codes if not CERTIFICATE_CODE.fullmatch(c)]
        if bad or not codes:
            form.certificate_types.errors.append(
                _("Enter a certificate type code such as 1.2 or SM."))
            ok = False
        if ok:
            purpose = form.purpose.data or "review"
            course = Course(
                key=key, version=1, title_zh=form.title_zh.data, title_en=form.title_en.data,
                description_zh=form.description_zh.data or "",
                description_en=form.description_en.data or "",
                certificate_types=sorted(set(codes)), purpose=purpose,
                targets=[[c, purpose] for c in dict.fromkeys(codes)],
                hours=Decimal(form.hours.data or 0), source="upload")
            db.session.add(course)
            db.session.flush()
            audit.record(current_user, "courses.create", "course", key,
                         after={"title": course.title_zh, "hours": str(course.hours)})
            db.session.commit()
            flash(_("Course created. Now upload its first lesson video."), "success")
            return redirect(url_for("courses_admin.upload", course=key))
        return render_template("courses/new_course.html", form=form), 400
    status = 400 if request.method == "POST" else 200
    return render_template("courses/new_course.html", form=form), status


def _upload_courses() -> list[Any]:
    locale = select_locale()
    rows = db.session.scalars(sa.select(Course).where(Course.source == "upload")
                              .order_by(Course.key))
    return choices([(c.key, c.title(locale)) for c in rows])


def _wants_json() -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _upload_failed(form: UploadLessonForm, status: int) -> tuple[Any, int]:
    if _wants_json():
        fields = {name: [str(e) for e in f.errors] for name, f in form._fields.items()
                  if f.errors}
        message = next((m[0] for m in fields.values() if m), _("The upload was refused."))
        return jsonify(error={"message": message, "fields": fields}), status
    return render_template("courses/upload.html", form=form,
                           limit_mb=uploads.max_upload_bytes() // (1024 * 1024)), status


@bp.route("/upload", methods=["GET", "POST"])
@require(Role.INSTRUCTOR, Role.ADMIN)
def upload() -> Any:
    form = UploadLessonForm()
    form.course.choices = _upload_courses()
    if request.method == "GET":
        form.course.data = request.args.get("course") or form.course.data
        return render_template("courses/upload.html", form=form,
                               limit_mb=uploads.max_upload_bytes() // (1024 * 1024))
    try:
        uploads.check_size(request.content_length)
    except uploads.UploadError as exc:
        request.close()  # do not read the body
        form.video.errors = [exc.message]
        return _upload_failed(form, exc.status)
    if not form.validate_on_submit():
        return _upload_failed(form, 400)
    course = db.session.scalar(sa.select(Course).where(Course.key == form.course.data,
                                                       Course.source == "upload"))
    if course is None:
        form.course.errors.append(_("Choose a course."))
        return _upload_failed(form, 400)
    file = form.video.data
    saved = None
    try:
        saved = uploads.save_upload(file.stream, file.filename or "video")
        lesson = uploads.add_uploaded_lesson(course, form.title_zh.data or "",
                                             form.title_en.data or "", saved, get_storage())
        audit.record(current_user, "courses.upload_lesson", "lesson", lesson.id,
                     after={"course": course.key, **lesson.media_info})
        db.session.commit()
    except uploads.UploadError as exc:
        db.session.rollback()
        form.video.errors = [exc.message]
        return _upload_failed(form, exc.status)
    finally:
        if saved is not None:
            uploads.remove(saved)
    target = url_for("courses.lesson_page", lesson_id=lesson.id)
    message = (_("Video uploaded and converted to 480p for phones.")
               if lesson.media_info.get("rendition") == "480p"
               else _("Video uploaded; it plays on phones as it is."))
    if _wants_json():
        return jsonify(redirect=target, message=message, lesson_id=lesson.id), 201
    flash(message, "success")
    return redirect(target)
