"""Certificate catalogue, certificate records, suspension periods and calendar overrides.

The pure rules live in ``rules.py`` / ``calendar.py``; this module maps them onto tables.

Stored timeline columns
-----------------------
``rules.timeline()`` is the expensive, day-independent part of a certificate's status (due date
D, the suspension that applies, last valid day V, holder deadline T, exam deadline E). It only
changes when the certificate, a suspension, the catalogue's renewal window or the calendar
changes, never because time passed. So each certificate row carries its timeline
(``due_on`` … ``provisional``) and the status as of any day X is a few comparisons on indexed
columns (``trainer.certificates.status_sql``), which is what lets the dashboard count and
filter 1,000,000 certificates in SQL. ``trainer.certificates.timelines`` keeps the columns in
step (on every write through the services, and ``trainer certificates refresh``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.models import Employer, User
from trainer.accounts.rules import mask_national_id
from trainer.certificates.calendar import CalendarOverride as CalendarOverrideRule
from trainer.certificates.calendar import DayKind
from trainer.certificates.rules import (
    DeadlineUnit,
    SuspensionEffect,
    parse_deadline,
)
from trainer.certificates.rules import (
    Suspension as SuspensionRule,
)
from trainer.clock import utcnow
from trainer.db import Model


class CertificateFamily:
    SPECIAL_OPERATION = "special_operation"
    PRINCIPAL = "principal"
    SAFETY_MANAGEMENT = "safety_management"


class CertificateType(Model):
    """One row of the catalogue: a special operation type (``1.2``), ``PM`` or ``SM``.

    Every number is data (docs/domain.md): validity, review interval, renewal window and the
    training hours required to issue (initial) or renew (review).
    """

    __tablename__ = "certificate_types"

    code: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    family: Mapped[str] = mapped_column(sa.String(20))
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(150))
    validity_years: Mapped[int] = mapped_column()
    # None: no review between issue and expiry.
    review_interval_years: Mapped[int | None] = mapped_column()
    # "Apply within the N days before the due date": the due_soon window.
    renewal_window_days: Mapped[int] = mapped_column(default=60)
    # None: no hours requirement recorded for this type (admins enter the outline's figure).
    initial_hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 1))
    review_hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 1))
    # The course (trainer.courses manifest key) and formal exam that serve this type.
    course_key: Mapped[str | None] = mapped_column(sa.String(100))
    exam_key: Mapped[str | None] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column()

    __table_args__ = (
        sa.CheckConstraint(
            "family in ('special_operation', 'principal', 'safety_management')", name="family"
        ),
        sa.CheckConstraint("validity_years >= 1", name="validity_years"),
        sa.CheckConstraint(
            "review_interval_years is null or review_interval_years >= 1",
            name="review_interval_years",
        ),
        sa.CheckConstraint("renewal_window_days >= 0", name="renewal_window_days"),
    )

    def name(self, locale: str | None) -> str:
        return self.name_zh if (locale or "").startswith("zh") else self.name_en

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "family": self.family,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "validity_years": self.validity_years,
            "review_interval_years": self.review_interval_years,
            "renewal_window_days": self.renewal_window_days,
            "initial_hours": None if self.initial_hours is None else str(self.initial_hours),
            "review_hours": None if self.review_hours is None else str(self.review_hours),
            "course_key": self.course_key,
            "exam_key": self.exam_key,
            "active": self.active,
        }


class Suspension(Model):
    """A suspension period as declared by an authority (docs/domain.md, "Suspension periods").

    ``regions`` / ``types`` are JSON lists of selectors (region code prefixes such as ``34`` or
    ``3201``; type codes where ``1`` covers ``1.x``); empty means all. ``lift_on`` is the last
    day of the suspension, None while ongoing. Deadlines are text as typed: ``30wd``, ``60d``,
    ``3m``. ``to_rule()`` gives the pure ``rules.Suspension``.
    """

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    start_on: Mapped[dt.date] = mapped_column()
    lift_on: Mapped[dt.date | None] = mapped_column()
    regions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    effect: Mapped[str] = mapped_column(sa.String(20), default=SuspensionEffect.DEEMED_VALID.value)
    holder_deadline: Mapped[str | None] = mapped_column(sa.String(10))
    exam_deadline: Mapped[str | None] = mapped_column(sa.String(10))
    extend_by: Mapped[str | None] = mapped_column(sa.String(10))
    extend_to: Mapped[dt.date | None] = mapped_column()
    source_url: Mapped[str | None] = mapped_column(sa.String(500))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column()

    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "effect in ('deemed_valid', 'extend_by', 'extend_to')", name="effect"
        ),
        sa.CheckConstraint("lift_on is null or lift_on >= start_on", name="lift_after_start"),
    )

    def to_rule(self) -> SuspensionRule:
        """The pure rule object; raises ValueError with a readable reason when inconsistent."""
        effect = SuspensionEffect(self.effect)
        deemed = effect is SuspensionEffect.DEEMED_VALID
        extend_by_days: int | None = None
        if effect is SuspensionEffect.EXTEND_BY:
            if not self.extend_by:
                raise ValueError(f"suspension {self.name!r}: extend_by needs a number of days")
            spec = parse_deadline(self.extend_by)
            if spec.unit is not DeadlineUnit.CALENDAR_DAYS:
                raise ValueError(
                    f"suspension {self.name!r}: extend_by is counted in calendar days "
                    f"(e.g. '90d'), got {self.extend_by!r}"
                )
            extend_by_days = spec.n
        return SuspensionRule(
            name=self.name,
            region_selectors=tuple(self.regions or ()),
            type_selectors=tuple(self.types or ()),
            start=self.start_on,
            lift=self.lift_on,
            effect=effect,
            holder_deadline=(
                parse_deadline(self.holder_deadline) if deemed and self.holder_deadline else None
            ),
            exam_deadline=(
                parse_deadline(self.exam_deadline) if deemed and self.exam_deadline else None
            ),
            extend_by_days=extend_by_days,
            extend_to=self.extend_to if effect is SuspensionEffect.EXTEND_TO else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start_on": self.start_on.isoformat(),
            "lift_on": self.lift_on.isoformat() if self.lift_on else None,
            "regions": list(self.regions or ()),
            "types": list(self.types or ()),
            "effect": self.effect,
            "holder_deadline": self.holder_deadline,
            "exam_deadline": self.exam_deadline,
            "extend_by": self.extend_by,
            "extend_to": self.extend_to.isoformat() if self.extend_to else None,
            "source_url": self.source_url,
        }


class CalendarOverride(Model):
    """An admin decision turning days into rest or working days, nationwide or for a region
    (``region_selector`` a code prefix, empty = nationwide). Later rows win among equally
    specific ones, as in ``calendar.WorkCalendar``."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[dt.date] = mapped_column()
    last_day: Mapped[dt.date] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(10))
    region_selector: Mapped[str] = mapped_column(sa.String(6), default="")
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("kind in ('rest', 'working')", name="kind"),
        sa.CheckConstraint("last_day >= first_day", name="days_in_order"),
    )

    def to_rule(self) -> CalendarOverrideRule:
        return CalendarOverrideRule(
            first_day=self.first_day,
            last_day=self.last_day,
            kind=DayKind(self.kind),
            region_selector=self.region_selector or "",
            reason=self.reason or "",
        )


class Certificate(Model):
    """A certificate record. A renewal is a new row whose ``replaces_id`` points at the old one
    (which gets ``superseded`` = True and leaves the dashboards)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    holder_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    holder_name: Mapped[str] = mapped_column(sa.String(100))
    # Stored in full (the register needs it); shown masked (``masked_id_number``).
    id_number: Mapped[str] = mapped_column(sa.String(18), index=True)
    type_code: Mapped[str] = mapped_column(sa.ForeignKey("certificate_types.code"))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    employer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("employers.id", ondelete="SET NULL")
    )
    issued_on: Mapped[dt.date] = mapped_column()
    expires_on: Mapped[dt.date] = mapped_column()
    review_due_on: Mapped[dt.date | None] = mapped_column()
    # The authority extended the review interval (10 years without violations).
    review_extended: Mapped[bool] = mapped_column(default=False)
    # The holder completed the refresher training and requested the exam on this day.
    renewal_applied_on: Mapped[dt.date | None] = mapped_column()
    revoked_on: Mapped[dt.date | None] = mapped_column()
    replaces_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="SET NULL"), index=True
    )
    superseded: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(sa.String(20), default="import")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # --- stored timeline (rules.timeline), see module docstring -------------------------
    due_on: Mapped[dt.date] = mapped_column()
    # due_on minus the type's renewal window: due_soon from this day on.
    renewal_opens_on: Mapped[dt.date] = mapped_column()
    covered: Mapped[bool] = mapped_column(default=False)
    suspension_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("suspensions.id", ondelete="SET NULL"), index=True
    )
    # V; None = open-ended. Equal to due_on when nothing covers the due date.
    valid_until: Mapped[dt.date | None] = mapped_column()
    holder_deadline: Mapped[dt.date | None] = mapped_column()
    exam_deadline: Mapped[dt.date | None] = mapped_column()
    awaiting_exam_since: Mapped[dt.date | None] = mapped_column()
    provisional: Mapped[bool] = mapped_column(default=False)

    holder: Mapped[User | None] = relationship()
    employer: Mapped[Employer | None] = relationship()
    type: Mapped[CertificateType] = relationship()
    suspension: Mapped[Suspension | None] = relationship()
    replaces: Mapped[Certificate | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint(
            "source in ('import', 'exam', 'admin', 'demo')", name="source"
        ),
        sa.CheckConstraint("expires_on >= issued_on", name="expires_after_issue"),
        # Status filters as of a day X are range conditions on these (see status_sql).
        sa.Index("ix_certificates_due_on", "due_on"),
        # deemed_valid / backlog lists: covered rows by due date without scanning the rest.
        sa.Index("ix_certificates_covered_due_on", "covered", "due_on"),
        sa.Index("ix_certificates_renewal_opens_on", "renewal_opens_on"),
        sa.Index("ix_certificates_valid_until", "valid_until"),
        sa.Index("ix_certificates_expires_on", "expires_on"),
        sa.Index("ix_certificates_review_due_on", "review_due_on"),
        sa.Index("ix_certificates_type_code_due_on", "type_code", "due_on"),
        sa.Index("ix_certificates_region_code", "region_code"),
        sa.Index("ix_certificates_employer_id_due_on", "employer_id", "due_on"),
    )

    @property
    def masked_id_number(self) -> str:
        return mask_national_id(self.id_number)
