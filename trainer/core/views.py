from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from trainer.accounts.forms import EmptyForm
from trainer.auth import public, require
from trainer.clock import utcnow
from trainer.db import db
from trainer.i18n import LANGUAGES

bp = Blueprint("core", __name__, template_folder="templates")


@bp.route("/")
@require()
def home() -> str:
    return render_template("core/home.html", user=current_user)


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(sa.text("select 1"))
    except Exception:  # any database failure means unhealthy, whatever the driver raises
        db.session.rollback()
        return jsonify(status="error", database="unreachable", time=utcnow().isoformat()), 503
    return jsonify(status="ok", database="ok", time=utcnow().isoformat()), 200


@bp.route("/language", methods=["POST"])
@public
def set_language() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    locale = request.form.get("locale", "")
    if locale not in LANGUAGES:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated and current_user.locale != locale:
        current_user.locale = locale
        db.session.commit()
    target = request.referrer or ""
    if not target.startswith(request.host_url):
        target = url_for("core.home")
    return redirect(target)
