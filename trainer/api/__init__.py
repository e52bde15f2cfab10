"""The JSON API under /api/v1: shared blueprint set-up, auth rules and the OpenAPI document.

Bearer-token and anonymous requests need no CSRF token (nothing ambient to abuse); requests
that ride on the browser's session cookie (the pages' own scripts) must send the
``X-CSRFToken`` header on every unsafe method.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_login import current_user

from trainer.auth import authenticated_by_token
from trainer.extensions import csrf

API_PREFIX = "/api/v1"


def make_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX + url_prefix)
    csrf.exempt(bp)

    @bp.before_request
    def _csrf_for_session_callers() -> None:
        if (request.method not in {"GET", "HEAD", "OPTIONS"} and current_user.is_authenticated
                and not authenticated_by_token()):
            csrf.protect()

    return bp


def json_body() -> dict[str, Any]:
    from flask import abort

    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    return data
