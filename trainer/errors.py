"""Error responses: JSON with a stable shape under /api/, friendly pages elsewhere.

API error shape: ``{"error": {"code": "not_found", "message": "...", "details": {...}}}``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
    429: "too_many_requests", 500: "server_error",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(
    status: int, message: str, code: str | None = None, details: dict[str, Any] | None = None
) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code or CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return jsonify(error=body), status


def default_message(status: int) -> str:
    return {
        400: _("The request could not be understood."),
        401: _("Please log in."),
        403: _("You do not have permission to do that."),
        404: _("Not found."),
        405: _("That method is not allowed here."),
        413: _("The file is too large."),
        429: _("Too many attempts. Please wait and try again."),
        500: _("Something went wrong on our side. Nothing was changed; please try again."),
    }.get(status, _("The request could not be completed."))


def handle_http(exc: HTTPException) -> Any:
    status = exc.code or 500
    message = default_message(status)
    if isinstance(exc.description, str) and getattr(exc, "_trainer_message", False):
        message = exc.description
    if wants_json():
        response, code = api_error(status, message)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="trainer"'
        return response, code
    if status == 401:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return render_template("error.html", status=status, message=message), status


def handle_csrf(exc: CSRFError) -> Any:
    message = _("This form has expired or did not come from this site. "
                "Nothing was changed; please try again.")
    if wants_json():
        return api_error(400, message, "csrf_failed")
    if request.referrer and request.referrer.startswith(request.host_url):
        flash(message, "error")
        return redirect(request.referrer)
    return render_template("error.html", status=400, message=message), 400


def handle_integrity(exc: IntegrityError) -> Any:
    """A unique index refused a row the checks had let through: two requests raced (e.g. the
    same username in another case, created twice at once). Nothing was saved: say so."""
    from trainer.db import db

    db.session.rollback()
    message = _("This conflicts with a record saved at the same moment (for example the same "
                "username, mobile number or ID number). Nothing was changed; please check and "
                "try again.")
    if wants_json():
        return api_error(409, message, "conflict")
    return render_template("error.html", status=409, message=message), 409


def handle_unexpected(exc: Exception) -> Any:
    from flask import current_app

    from trainer.db import db

    # The traceback goes to the log (with the request), or nobody would ever know.
    current_app.logger.exception("Unhandled exception on %s %s", request.method, request.path)
    db.session.rollback()
    if wants_json():
        return api_error(500, default_message(500))
    return render_template("error.html", status=500, message=default_message(500)), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(IntegrityError, handle_integrity)
    if not app.testing:  # tests see the real exception instead of the 500 page
        app.register_error_handler(Exception, handle_unexpected)
