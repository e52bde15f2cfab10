"""Issuing or renewing a certificate when a worker passes a formal exam.

``decide()`` is pure (hours and the current certificate arrive as arguments); ``on_exam_passed``
is the receiver of ``trainer.signals.exam_passed``: it looks up the catalogue, the worker's
current certificate of that type and the hours credited by courses
(``trainer.courses.hours.credited_hours``), then writes in the sender's transaction.

Rules (every number from the catalogue row):
- no current certificate of the type, or the current one has lapsed (expired or revoked on the
  pass day): a new certificate; it needs the type's **initial** hours;
- a current certificate still valid, due soon or deemed valid on the pass day: a renewal,
  a new record whose ``replaces_id`` links the old one (which becomes ``superseded``); it needs
  the **review** hours, credited since the old certificate was issued;
- hours not recorded for the type (None) means no hours check;
- dates: issued on the pass day, expiring ``validity_years`` later, with a review after
  ``review_interval_years`` when that comes before the expiry.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask

from trainer.certificates import rules, services, timelines
from trainer.certificates.models import Certificate, CertificateType
from trainer.certificates.timelines import DbSession

log = logging.getLogger(__name__)

ISSUE = "issue"
RENEW = "renew"
NONE = "none"
LAPSED = {rules.Status.EXPIRED, rules.Status.REVOKED}


@dataclass(frozen=True)
class TypeTerms:
    validity_years: int
    review_interval_years: int | None
    initial_hours: Decimal | None
    review_hours: Decimal | None
    active: bool = True


@dataclass(frozen=True)
class Decision:
    action: str  # issue | renew | none
    reason: str
    purpose: str = "initial"  # which hours were counted
    required_hours: Decimal | None = None
    credited_hours: Decimal | None = None
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    review_due_on: dt.date | None = None


def add_years(day: dt.date, years: int) -> dt.date:
    return rules.add_months(day, 12 * years)


def purpose_for(current_status: rules.Status | None) -> str:
    return "review" if current_status is not None and current_status not in LAPSED else "initial"


def decide(
    terms: TypeTerms | None,
    passed_on: dt.date,
    current_status: rules.Status | None,
    hours: Decimal,
) -> Decision:
    """What a pass on ``passed_on`` leads to. ``current_status``: the status on the pass day of
    the worker's current certificate of this type (None when there is none); ``hours``: the
    hours credited toward the purpose ``purpose_for(current_status)``."""
    if terms is None:
        return Decision(NONE, "the exam names no certificate type in the catalogue")
    if not terms.active:
        return Decision(NONE, "the certificate type is not active")
    purpose = purpose_for(current_status)
    required = terms.review_hours if purpose == "review" else terms.initial_hours
    if required is not None and hours < required:
        return Decision(NONE, f"{hours} of {required} required {purpose} training hours",
                        purpose, required, hours)
    expires = add_years(passed_on, terms.validity_years)
    review = None
    if terms.review_interval_years is not None:
        candidate = add_years(passed_on, terms.review_interval_years)
        review = candidate if candidate < expires else None
    action = RENEW if purpose == "review" else ISSUE
    return Decision(action, "hours complete" if required is not None else "no hours required",
                    purpose, required, hours, passed_on, expires, review)


def next_number(session: DbSession, region_code: str, year: int) -> str:
    """``YYYY`` + issuing region + a 6-digit sequence per year and region."""
    prefix = f"{year:04d}{region_code}"
    last = session.scalar(
        sa.select(sa.func.max(Certificate.number)).where(
            Certificate.number.like(prefix + "%"),
            sa.func.length(Certificate.number) == len(prefix) + 6,
        )
    )
    sequence = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{sequence:06d}"


def current_certificate(session: DbSession, user_id: int, type_code: str) -> Certificate | None:
    return session.scalar(
        sa.select(Certificate)
        .where(Certificate.holder_user_id == user_id, Certificate.type_code == type_code,
               sa.not_(Certificate.superseded))
        .order_by(Certificate.expires_on.desc(), Certificate.id.desc())
        .limit(1)
    )


def _hours(user_id: int, type_code: str, purpose: str, since: dt.date | None) -> Decimal:
    from trainer.courses.hours import credited_hours

    return credited_hours(user_id, type_code, purpose=purpose, since=since)


def issue_for_pass(
    session: DbSession, user_id: int, type_code: str, passed_on: dt.date,
    hours_lookup: Any = None,
) -> tuple[Decision, Certificate | None]:
    """Decide and, when due, write the new certificate (flushes; the caller commits)."""
    from trainer.accounts.models import User
    from trainer.audit import services as audit

    user = session.get(User, user_id)
    row = session.get(CertificateType, type_code) if type_code else None
    if user is None:
        return Decision(NONE, "unknown worker"), None
    terms = None if row is None else TypeTerms(
        row.validity_years, row.review_interval_years, row.initial_hours, row.review_hours,
        row.active)
    current = current_certificate(session, user_id, type_code) if row is not None else None
    status = services.status_of(current, passed_on) if current is not None else None
    purpose = purpose_for(status)
    since = current.issued_on if current is not None else None
    lookup = hours_lookup or _hours
    hours = lookup(user_id, type_code, purpose, since) if terms is not None else Decimal(0)
    decision = decide(terms, passed_on, status, Decimal(hours))
    if decision.action == NONE:
        return decision, None
    if current is not None and current.issued_on == passed_on and current.source == "exam":
        return Decision(NONE, "a certificate was already issued for this pass"), None
    if not user.national_id:
        return Decision(NONE, "the worker has no national ID number on record"), None
    region = (
        current.region_code if current is not None
        else user.employer.region_code if user.employer is not None
        else user.national_id[:6]
    )
    assert decision.issued_on is not None and decision.expires_on is not None
    cert = services.add_certificate(
        session, timelines.load_context(session),
        number=next_number(session, region, passed_on.year), holder_user_id=user.id,
        holder_name=user.name, id_number=user.national_id, type_code=type_code,
        region_code=region, employer_id=user.employer_id, issued_on=decision.issued_on,
        expires_on=decision.expires_on, review_due_on=decision.review_due_on,
        replaces_id=current.id if current is not None else None, source="exam",
        review_extended=False, superseded=False)
    if current is not None:
        current.superseded = True
    audit.record(None, f"certificate.{decision.action}", "certificate", cert.number,
                 after={"holder_user_id": user.id, "type_code": type_code,
                        "replaces": current.number if current is not None else None,
                        "hours": str(decision.credited_hours),
                        "required_hours": str(decision.required_hours)},
                 employer_id=user.employer_id)
    session.flush()
    return decision, cert


def on_exam_passed(sender: Flask, **kwargs: Any) -> None:
    """Receiver of ``trainer.signals.exam_passed`` (connected by ``init_app``)."""
    from trainer.db import db

    type_code = str(kwargs.get("certificate_type") or "")
    user_id = kwargs.get("user_id")
    passed_on = kwargs.get("passed_on")
    if not type_code or not isinstance(user_id, int) or not isinstance(passed_on, dt.date):
        return
    decision, cert = issue_for_pass(db.session, user_id, type_code, passed_on)
    if cert is None:
        log.info("exam pass by user %s for %s: no certificate (%s)", user_id, type_code,
                 decision.reason)
    else:
        log.info("exam pass by user %s for %s: %s %s", user_id, type_code, decision.action,
                 cert.number)


def init_app(app: Any) -> None:
    from trainer.signals import exam_passed

    # One module-level receiver, connected once whatever the number of apps (blinker keys
    # receivers by identity); it works on whichever app sent the signal.
    exam_passed.connect(on_exam_passed, weak=False)
