"""Record admin actions. Flushes with the caller's transaction: an action that rolls back
leaves no audit row, and an action that commits always has one."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from trainer.audit.models import AuditEntry
from trainer.db import db


def record(
    actor: Any | None,
    action: str,
    target_type: str,
    target_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    employer_id: int | None = None,
) -> AuditEntry:
    label = "system (command line)"
    actor_id = None
    if actor is not None:
        actor_id = actor.id
        label = f"{actor.name} ({actor.login})"
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=_jsonable(before),
        after=_jsonable(after),
        employer_id=employer_id,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
            for k, v in data.items()}


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, for a readable before/after."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
