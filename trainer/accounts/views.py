"""Log in, log out, change password, own profile."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from trainer.accounts import services
from trainer.accounts.forms import ChangePasswordForm, LoginForm
from trainer.auth import public, require
from trainer.db import db

bp = Blueprint("accounts", __name__, template_folder="templates")


def safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after log-in is a phishing tool."""
    if not target:
        return url_for("core.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("core.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data or "", form.password.data or "",
                                         request.remote_addr)
        except services.LoginLocked:
            flash(_("Too many wrong attempts. Please wait 15 minutes and try again, "
                    "or ask your admin to reset your password."), "error")
            return render_template("accounts/login.html", form=form), 429
        if user is None:
            flash(_("Wrong mobile number, username or password."), "error")
            status = 401
        else:
            locale = session.get("locale")
            session.clear()  # a fresh session on log-in prevents session fixation
            if locale:
                session["locale"] = locale
            login_user(user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@require()
def logout() -> Response:
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@require()
def change_password() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data or "",
                                     form.new_password.data or "")
        except services.AccountError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
            return render_template("accounts/password.html", form=form), 400
        db.session.commit()
        login_user(current_user._get_current_object())  # session id includes the password stamp
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("core.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/password.html", form=form), status


@bp.route("/account")
@require()
def profile() -> str:
    return render_template("accounts/profile.html", user=current_user)
