"""Tokens, the caller's identity, users, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from trainer.accounts import services
from trainer.accounts.models import ApiToken, User
from trainer.accounts.rules import MAX_LOGIN_LENGTH, MAX_PASSWORD_LENGTH, Role
from trainer.api import json_body, make_blueprint
from trainer.api.openapi import build_document
from trainer.auth import ADMINS, public, require
from trainer.db import db
from trainer.errors import api_error
from trainer.params import MAX_INT, int_arg

bp = make_blueprint("api", __name__)


def user_json(user: User, reveal: bool = False) -> dict[str, Any]:
    return {
        "id": user.id, "name": user.name, "role": user.role, "username": user.username,
        "phone": user.masked_phone, "national_id": user.masked_national_id,
        "employer": ({"id": user.employer.id, "name": user.employer.name}
                     if user.employer else None),
        "active": user.active,
    }


@bp.post("/tokens")
@public
def create_token() -> Any:
    data = json_body()
    login, password = data.get("login"), data.get("password")
    if not isinstance(login, str) or not isinstance(password, str) or not login or not password:
        return api_error(400, _("Send login and password as strings."), "invalid")
    # Refused before any lookup, hashing or rate-limit bookkeeping.
    if len(login) > MAX_LOGIN_LENGTH:
        return api_error(400, _("A mobile number or username has at most %(max)d characters.",
                                max=MAX_LOGIN_LENGTH), "invalid")
    if len(password) > MAX_PASSWORD_LENGTH:
        return api_error(400, _("A password has at most %(max)d characters.",
                                max=MAX_PASSWORD_LENGTH), "invalid")
    try:
        user = services.authenticate(login, password, request.remote_addr)
    except services.LoginLocked:
        return api_error(429, _("Too many wrong attempts. Please wait 15 minutes."))
    if user is None:
        return api_error(401, _("Wrong login or password."), "invalid_credentials")
    if user.must_change_password:
        # The password was set by an admin (new account or reset): its owner chooses their
        # own on the website before any token is issued with it.
        return api_error(403, _("Please log in on the website and choose your own password "
                                "first; then ask for a token."), "password_change_required")
    name = data["name"] if isinstance(data.get("name"), str) else ""
    row, token = services.issue_token(user, name)
    db.session.commit()
    return jsonify(id=row.id, token=token, token_type="Bearer",  # noqa: S106
                   expires_at=row.expires_at.isoformat(), user=user_json(user)), 201


@bp.get("/tokens")
@require()
def list_tokens() -> Any:
    rows = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.id.desc())).all()
    return jsonify(tokens=[{
        "id": r.id, "name": r.name, "created_at": r.created_at.isoformat(),
        "expires_at": r.expires_at.isoformat(),
        "revoked": r.revoked_at is not None} for r in rows])


@bp.delete("/tokens/<int:token_id>")
@require()
def revoke_token(token_id: int) -> Any:
    row = db.session.get(ApiToken, token_id)
    if row is None or (row.user_id != current_user.id and current_user.role != Role.ADMIN):
        return api_error(404, _("Not found."))
    services.revoke_token(row)
    db.session.commit()
    return "", 204


@bp.get("/me")
@require()
def me() -> Any:
    return jsonify(user_json(current_user._get_current_object()))


@bp.get("/users")
@require(*ADMINS)
def list_users() -> Any:
    query = services.visible_users(current_user).order_by(User.id)
    limit = int_arg("limit", 100, 1, 500)
    offset = int_arg("offset", 0, 0, MAX_INT)
    rows = db.session.scalars(query.limit(limit).offset(offset)).all()
    return jsonify(users=[user_json(u) for u in rows], limit=limit, offset=offset)


@bp.get("/users/<int:user_id>")
@require(*ADMINS)
def get_user(user_id: int) -> Any:
    user = db.session.get(User, user_id)
    if user is None or not services.can_manage(current_user, user):
        return api_error(404, _("Not found."))
    return jsonify(user_json(user))


@bp.post("/users")
@require(*ADMINS)
def create_user() -> Any:
    data = json_body()
    fields = {k: data.get(k) for k in ("name", "role", "username", "phone", "national_id",
                                       "employer", "password")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        return api_error(400, _("Every field must be a string."), "invalid")
    valid, errors = services.validate_user(
        services.UserInput(**{k: (v or "") for k, v in fields.items()}), current_user)
    if valid is not None:
        errors = services.uniqueness_errors(valid, actor=current_user)
    if errors or valid is None:
        return api_error(422, _("Some fields are invalid."), "invalid",
                         {"fields": {e.field: str(e.message) for e in errors}})
    user, generated = services.create_user(valid, current_user)
    db.session.commit()
    body = user_json(user)
    if generated:
        body["initial_password"] = generated
    return jsonify(body), 201


@bp.get("/openapi.json")
@public
def openapi() -> Any:
    return jsonify(build_document())
