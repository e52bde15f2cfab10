"""Certificate services: catalogue seeding, writing certificates with their timeline, status.

Services flush, never commit (the view or command commits once).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from trainer.certificates import rules, timelines
from trainer.certificates.catalogue import catalogue_rows
from trainer.certificates.models import Certificate, CertificateType
from trainer.certificates.timelines import DbSession


def ensure_catalogue(session: DbSession) -> int:
    """Insert the seeded catalogue rows that are missing (never overwrites admin edits)."""
    existing = set(session.scalars(sa.select(CertificateType.code)))
    added = 0
    for row in catalogue_rows():
        if row["code"] not in existing:
            session.add(CertificateType(**row))
            added += 1
    session.flush()
    return added


def status_of(cert: Certificate, x: dt.date, window_days: int | None = None) -> rules.Status:
    """The pure rule on the stored timeline: the same answer as ``queries.status_case``."""
    window = (
        window_days
        if window_days is not None
        else (cert.due_on - cert.renewal_opens_on).days
    )
    return rules.status_on(
        stored_timeline(cert),
        x,
        revoked=cert.revoked_on is not None and cert.revoked_on <= x,
        renewal_window_days=window,
    )


def stored_timeline(cert: Certificate) -> rules.Timeline:
    return rules.Timeline(
        due_on=cert.due_on,
        covered=cert.covered,
        suspension=cert.suspension.name if cert.suspension is not None else None,
        valid_until=cert.valid_until,
        holder_deadline=cert.holder_deadline,
        exam_deadline=cert.exam_deadline,
        awaiting_exam_since=cert.awaiting_exam_since,
        provisional=cert.provisional,
    )


def add_certificate(
    session: DbSession, context: timelines.RuleContext | None = None, **values: Any
) -> Certificate:
    """Create a certificate with its timeline computed. Flushes."""
    cert = Certificate(**values)
    timelines.apply(cert, context or timelines.load_context(session))
    session.add(cert)
    session.flush()
    return cert


def update_timeline(session: DbSession, cert: Certificate) -> None:
    """Recompute one certificate's timeline after its facts changed."""
    timelines.apply(cert, timelines.load_context(session))
    session.flush()
