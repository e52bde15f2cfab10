from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user

from trainer.accounts.rules import Role
from trainer.audit.models import AuditEntry
from trainer.auth import ADMINS, require
from trainer.db import db
from trainer.params import page_arg

bp = Blueprint("audit", __name__, url_prefix="/admin/audit", template_folder="templates")


@bp.route("")
@require(*ADMINS)
def log() -> str:
    query = sa.select(AuditEntry)
    if current_user.role == Role.EMPLOYER_ADMIN:
        query = query.where(AuditEntry.employer_id == current_user.employer_id)
    action = request.args.get("action", "").strip()
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    page = page_arg()
    rows = db.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                              .limit(100).offset((page - 1) * 100)).all()
    return render_template("audit/log.html", entries=rows, action=action, page=page)
