"""Admin pages for people, employers and regions. Employer admins see only their employer."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import Response as FlaskResponse
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from trainer.accounts import services
from trainer.accounts.forms import (
    EditUserForm,
    EmployerForm,
    EmptyForm,
    ProductionStateForm,
    RegionForm,
    UploadForm,
    UserForm,
)
from trainer.accounts.models import Employer, Region, User
from trainer.accounts.rules import ProductionState, Role
from trainer.accounts.userfile import TEMPLATE_HEADER_EN, TEMPLATE_HEADER_ZH, parse_user_file
from trainer.audit import services as audit
from trainer.auth import ADMINS, require
from trainer.db import db
from trainer.forms import choices
from trainer.i18n import select_locale
from trainer.params import page_arg

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PAGE_SIZE = 50


def employer_choices() -> list[SelectChoice]:
    if current_user.role == Role.EMPLOYER_ADMIN:
        return choices([(current_user.employer.name, current_user.employer.name)])
    names = db.session.scalars(sa.select(Employer.name).order_by(Employer.name)).all()
    return choices([("", "—")] + [(n, n) for n in names])


def managed_user(user_id: int) -> User:
    """A user the current admin may manage; 404 otherwise, so ids of others do not leak."""
    user = db.session.get(User, user_id)
    if user is None or not services.can_manage(current_user, user):
        abort(404)
    return user


@bp.route("/users")
@require(*ADMINS)
def users() -> str:
    query = services.visible_users(current_user)
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(User.name.ilike(like), User.phone.like(like),
                                   User.username.ilike(like)))
    role = request.args.get("role", "")
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    page = page_arg()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(User.name, User.id)
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", users=rows, q=q, role=role, page=page,
                           total=total, page_size=PAGE_SIZE)


@bp.route("/users/new", methods=["GET", "POST"])
@require(*ADMINS)
def new_user() -> str | Response | tuple[str, int]:
    form = UserForm()
    form.employer.choices = employer_choices()
    if current_user.role == Role.EMPLOYER_ADMIN:
        form.role.choices = choices([("worker", _("Worker"))])
    if form.validate_on_submit():
        data = services.UserInput(
            name=form.name.data or "", role=form.role.data or "worker",
            username=form.username.data or "", phone=form.phone.data or "",
            national_id=form.national_id.data or "", employer=form.employer.data or "",
            password=form.password.data or "")
        valid, errors = services.validate_user(data, current_user)
        if valid is not None:
            errors = services.uniqueness_errors(valid, actor=current_user)
        if errors or valid is None:
            for error in errors:
                getattr(form, error.field).errors.append(error.message)
            return render_template("admin/user_new.html", form=form), 400
        user, generated = services.create_user(valid, current_user)
        db.session.commit()
        return render_template("admin/user_created.html", created=[(user, generated)])
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_new.html", form=form), status


@bp.route("/users/<int:user_id>")
@require(*ADMINS)
def user_detail(user_id: int) -> str:
    user = managed_user(user_id)
    return render_template("admin/user_detail.html", user=user, form=EmptyForm(),
                           revealed=None)


@bp.route("/users/<int:user_id>/reveal-id", methods=["POST"])
@require(Role.ADMIN)
def reveal_id(user_id: int) -> str:
    user = managed_user(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    revealed = services.reveal_national_id(user, current_user)
    db.session.commit()
    return render_template("admin/user_detail.html", user=user, form=form, revealed=revealed)


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@require(*ADMINS)
def reset_password(user_id: int) -> str:
    user = managed_user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    password = services.reset_password(user, current_user)
    db.session.commit()
    return render_template("admin/user_created.html", created=[(user, password)], reset=True)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require(*ADMINS)
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    user = managed_user(user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    form.employer.choices = employer_choices()
    if request.method == "GET":
        form.employer.data = user.employer.name if user.employer else ""
    if current_user.role == Role.EMPLOYER_ADMIN:
        form.role.choices = choices([("worker", _("Worker"))])
    if form.validate_on_submit():
        employer = None
        if form.employer.data:
            employer = db.session.scalar(sa.select(Employer).where(Employer.name == form.employer.data))
        if current_user.role == Role.EMPLOYER_ADMIN:
            employer = current_user.employer
        role = form.role.data or user.role
        if role == Role.EMPLOYER_ADMIN and employer is None:
            form.employer.errors.append(_("An employer admin needs an employer."))
            return render_template("admin/user_edit.html", form=form, user=user), 400
        if user.id == current_user.id and (role != user.role or not form.active.data):
            flash(_("You cannot change your own role or deactivate yourself."), "error")
            return render_template("admin/user_edit.html", form=form, user=user), 400
        services.update_user(user, {"name": form.name.data, "role": role,
                                    "active": bool(form.active.data), "employer": employer},
                             current_user)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_edit.html", form=form, user=user), status


@bp.route("/users/import", methods=["GET", "POST"])
@require(*ADMINS)
def import_users() -> str | tuple[str, int]:
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        limit = int(current_app.config["IMPORT_MAX_BYTES"])  # TRAINER_IMPORT_MAX_MB
        data = upload.read(limit + 1)
        if len(data) > limit:
            flash(_("The file is larger than %(mb)s MB.", mb=f"{limit / (1024 * 1024):g}"),
                  "error")
            return render_template("admin/users_import.html", form=form, errors=[]), 413
        rows, errors = parse_user_file(data, upload.filename or "")
        if not errors:
            outcome = services.import_users(rows, current_user)
            errors = outcome.errors
        if errors:
            db.session.rollback()
            return render_template("admin/users_import.html", form=form, errors=errors), 422
        db.session.commit()
        return render_template("admin/user_created.html", created=outcome.created)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/users_import.html", form=form, errors=[]), status


@bp.route("/users/import/template.csv")
@require(*ADMINS)
def users_template() -> Response:
    zh = select_locale() == "zh_CN"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER_ZH if zh else TEMPLATE_HEADER_EN)
    writer.writerow(["张三", "13800138000", "", "学员" if zh else "worker",
                     "11010519491231002X", "", ""])
    return FlaskResponse("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=users-template.csv"})


@bp.route("/employers", methods=["GET", "POST"])
@require(Role.ADMIN)
def employers() -> str | Response | tuple[str, int]:
    form = EmployerForm()
    form.region_code.choices = choices((r.code, f"{r.code} {r.name}") for r in
                                       db.session.scalars(sa.select(Region).order_by(Region.code)))
    if form.validate_on_submit():
        try:
            _employer, created = services.ensure_employer(
                form.name.data or "", form.region_code.data or "", current_user,
                form.credit_code.data or None)
        except services.AccountError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            if created:
                db.session.commit()
                flash(_("Employer added."), "success")
                return redirect(url_for("admin.employers"))
            form.name.errors.append(_("An employer with this name exists already."))
    rows = db.session.scalars(sa.select(Employer).order_by(Employer.name)).all()
    status = 400 if request.method == "POST" else 200
    return render_template("admin/employers.html", employers=rows, form=form,
                           state_form=ProductionStateForm()), status


@bp.route("/employers/<int:employer_id>/state", methods=["POST"])
@require(*ADMINS)
def employer_state(employer_id: int) -> Response:
    employer = db.session.get(Employer, employer_id)
    if employer is None or (current_user.role == Role.EMPLOYER_ADMIN
                            and current_user.employer_id != employer.id):
        abort(404)
    form = ProductionStateForm()
    if not form.validate_on_submit():
        abort(400)
    services.set_production_state(employer, ProductionState(form.production_state.data), current_user)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(
        request.host_url) else url_for("core.home"))


@bp.route("/regions", methods=["GET", "POST"])
@require(Role.ADMIN)
def regions() -> str | Response | tuple[str, int]:
    form = RegionForm()
    if form.validate_on_submit():
        try:
            _region, created = services.ensure_region(form.code.data or "", form.name.data or "")
        except services.AccountError as exc:
            form.code.errors.append(exc.message)
        else:
            if created:
                audit.record(current_user, "region.create", "region", form.code.data,
                             after={"name": form.name.data})
                db.session.commit()
                flash(_("Region added."), "success")
                return redirect(url_for("admin.regions"))
            form.code.errors.append(_("This region exists already."))
    rows = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    status = 400 if request.method == "POST" else 200
    return render_template("admin/regions.html", regions=rows, form=form), status
