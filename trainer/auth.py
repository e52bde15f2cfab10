"""Who is asking, and may they: session log-in for pages, bearer tokens for the API.

Every view declares its access with ``@require(...)`` or ``@public``; a test walks the URL map
and fails on any endpoint without a declaration, so a new route cannot forget its role check.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from trainer.accounts.models import ApiToken, User
from trainer.accounts.rules import Role
from trainer.clock import utcnow
from trainer.db import db
from trainer.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.INSTRUCTOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN, Role.EMPLOYER_ADMIN})
PUBLIC = "public"


def require(*roles: Role) -> Callable[[F], F]:
    """Allow signed-in users with one of ``roles`` (any role when none are given)."""
    allowed = frozenset(roles) or ALL_ROLES

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    try:
        user_id, stamp = session_id.split(":")
        user = db.session.get(User, int(user_id))
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or user.get_id() != f"{user_id}:{stamp}":
        return None
    return user


@login_manager.request_loader
def load_user_from_token(req: Any) -> User | None:
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    # Every API call starts here, so one query loads one entity: the user, with the token's
    # own columns alongside (a joinedload of both costs about twice as much per call).
    row = db.session.execute(
        sa.select(User, ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at,
                  ApiToken.last_used_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token))).first()
    now = utcnow()
    if row is None:
        return None
    user, token_id, revoked_at, expires_at, last_used_at = row
    if revoked_at is not None or expires_at <= now or not user.active:
        return None
    g.api_token = token_id
    # Touch at most once a minute: a write per API call would dominate hot endpoints.
    if last_used_at is None or now - last_used_at > dt.timedelta(minutes=1):
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        )
        db.session.commit()
    return user


def authenticated_by_token() -> bool:
    return getattr(g, "api_token", None) is not None


def _force_password_change() -> Any:
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.path.startswith("/api/"):
        # The API waits too (session or token): the password an admin set is not for use.
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "access", None) == PUBLIC:
            return None
        from flask_babel import gettext as _

        from trainer.errors import api_error

        return api_error(403, _("Please log in on the website and choose your own password "
                                "first."), "password_change_required")
    if request.endpoint not in {"accounts.change_password", "accounts.logout",
                                "core.set_language", "static", "core.healthz"}:
        return redirect(url_for("accounts.change_password"))
    return None


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    app.before_request(_force_password_change)
