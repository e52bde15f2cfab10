"""Declaring, editing and lifting suspensions: validation, audit, timeline refresh, counts.

Services flush, never commit (views and commands commit once). Every change is audited and
recomputes the stored timelines of the certificates it can touch
(``timelines.refresh_certificates``): those due inside the old or new window, those whose
holder deadline lies in it (a chained suspension), and those it applied to.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask_babel import gettext as _

from trainer.audit import services as audit
from trainer.certificates.calendar import normalize_region_selector
from trainer.certificates.models import Certificate, CertificateType, Suspension
from trainer.certificates.rules import DeadlineUnit, SuspensionEffect, parse_deadline
from trainer.clock import utcnow
from trainer.db import db

EFFECTS = tuple(e.value for e in SuspensionEffect)
DEFAULT_HOLDER_DEADLINE = "30wd"
DEFAULT_EXAM_DEADLINE = "60wd"
NO_DEADLINE = {"", "none", "-"}
_SPLIT = re.compile(r"[\s,，、;；]+")
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)


@dataclass
class SuspensionInput:
    """As typed by an admin (form or command line): text, parsed by ``validate``."""

    name: str
    start: str
    lift: str = ""
    regions: str = ""
    types: str = ""
    effect: str = SuspensionEffect.DEEMED_VALID.value
    holder_deadline: str = DEFAULT_HOLDER_DEADLINE
    exam_deadline: str = DEFAULT_EXAM_DEADLINE
    extend_by: str = ""
    extend_to: str = ""
    source_url: str = ""
    notes: str = ""


@dataclass
class Valid:
    name: str
    start_on: dt.date
    lift_on: dt.date | None
    regions: list[str]
    types: list[str]
    effect: str
    holder_deadline: str | None
    exam_deadline: str | None
    extend_by: str | None
    extend_to: dt.date | None
    source_url: str | None
    notes: str

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name, "start_on": self.start_on, "lift_on": self.lift_on,
            "regions": self.regions, "types": self.types, "effect": self.effect,
            "holder_deadline": self.holder_deadline, "exam_deadline": self.exam_deadline,
            "extend_by": self.extend_by, "extend_to": self.extend_to,
            "source_url": self.source_url, "notes": self.notes,
        }


@dataclass
class Problems:
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def lines(self) -> list[str]:
        return [f"{name}: {message}" for name, messages in self.errors.items() for message in messages]


def parse_date(text: str) -> dt.date:
    """An ISO date (2020-02-25); ValueError with a readable message otherwise."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(_("“%(value)s” is not a date: use YYYY-MM-DD, e.g. 2020-02-25.",
                           value=text)) from None


def split_list(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text.strip()) if part]


def validate(data: SuspensionInput, existing: Suspension | None = None) -> tuple[Valid | None, Problems]:
    """Check everything; nothing is written. Messages are in the current language."""
    problems = Problems()
    name = data.name.strip()
    if not name:
        problems.add("name", _("A name is required."))
    elif len(name) > 200:
        problems.add("name", _("The name is longer than 200 characters."))
    else:
        clash = db.session.scalar(sa.select(Suspension.id).where(Suspension.name == name))
        if clash is not None and (existing is None or clash != existing.id):
            problems.add("name", _("A suspension named “%(name)s” exists already.", name=name))

    start = lift = extend_to = None
    try:
        start = parse_date(data.start)
    except ValueError as error:
        problems.add("start", str(error))
    if data.lift.strip():
        try:
            lift = parse_date(data.lift)
        except ValueError as error:
            problems.add("lift", str(error))
    if start and lift and lift < start:
        problems.add("lift", _("The lift date is before the start date."))

    regions: list[str] = []
    for selector in split_list(data.regions):
        try:
            regions.append(normalize_region_selector(selector))
        except ValueError:
            problems.add("regions", _("“%(value)s” is not a region code: use 2, 4 or 6 digits, "
                                      "e.g. 34, 3201 or 340104.", value=selector))
    types = split_list(data.types)
    if types:
        codes = set(db.session.scalars(sa.select(CertificateType.code)))
        for selector in types:
            if selector not in codes and not any(c.startswith(selector + ".") for c in codes):
                problems.add("types", _("“%(value)s” is not a certificate type in the catalogue "
                                        "(e.g. 1, 2.1, SM).", value=selector))

    effect = data.effect.strip()
    holder = exam = extend_by = None
    if effect not in EFFECTS:
        problems.add("effect", _("The effect must be one of: %(effects)s.",
                                 effects=", ".join(EFFECTS)))
    elif effect == SuspensionEffect.DEEMED_VALID:
        holder = _deadline(data.holder_deadline, "holder_deadline", problems)
        exam = _deadline(data.exam_deadline, "exam_deadline", problems)
    elif effect == SuspensionEffect.EXTEND_BY:
        text = data.extend_by.strip().lower()
        if not text:
            problems.add("extend_by", _("Give the number of days to extend by, e.g. 90d."))
        else:
            try:
                spec = parse_deadline(text)
            except ValueError:
                spec = None
            if spec is None or spec.unit is not DeadlineUnit.CALENDAR_DAYS:
                problems.add("extend_by", _("“%(value)s”: the extension is counted in calendar "
                                            "days, e.g. 90d.", value=data.extend_by))
            else:
                extend_by = str(spec)
    else:
        if not data.extend_to.strip():
            problems.add("extend_to", _("Give the date certificates are extended to."))
        else:
            try:
                extend_to = parse_date(data.extend_to)
            except ValueError as error:
                problems.add("extend_to", str(error))
            if extend_to and lift and extend_to < lift:
                problems.add("extend_to", _("The date extended to is before the end of the "
                                            "window: it would shorten validity."))

    source_url = data.source_url.strip() or None
    if source_url and (len(source_url) > 500 or not _URL.fullmatch(source_url)):
        problems.add("source_url", _("The notice link must be an http(s) address."))
    if problems or start is None:
        return None, problems
    return Valid(name, start, lift, regions, types, effect, holder, exam, extend_by, extend_to,
                 source_url, data.notes.strip()[:2000]), problems


def _deadline(text: str, name: str, problems: Problems) -> str | None:
    value = text.strip().lower()
    if value in NO_DEADLINE:
        return None  # open-ended until an admin sets one (Shenzhen 2020)
    try:
        return str(parse_deadline(value))
    except ValueError:
        problems.add(name, _("“%(value)s” is not a deadline: a number followed by wd (working "
                             "days), d (calendar days) or m (months), e.g. 30wd; or “none”.",
                             value=text))
        return None


def input_from(suspension: Suspension) -> SuspensionInput:
    """The form's starting values for an existing suspension."""
    return SuspensionInput(
        name=suspension.name,
        start=suspension.start_on.isoformat(),
        lift=suspension.lift_on.isoformat() if suspension.lift_on else "",
        regions=",".join(suspension.regions or []),
        types=",".join(suspension.types or []),
        effect=suspension.effect,
        holder_deadline=suspension.holder_deadline or "none",
        exam_deadline=suspension.exam_deadline or "none",
        extend_by=suspension.extend_by or "",
        extend_to=suspension.extend_to.isoformat() if suspension.extend_to else "",
        source_url=suspension.source_url or "",
        notes=suspension.notes or "",
    )


# --- counts --------------------------------------------------------------------------------


def scope_condition(regions: list[str], types: list[str]) -> Any:
    """SQL: a certificate's region and type are in the scope (empty lists mean all)."""
    conditions = []
    if regions:
        conditions.append(sa.or_(*[Certificate.region_code.startswith(r, autoescape=True)
                                   for r in regions]))
    if types:
        conditions.append(sa.or_(*[
            sa.or_(Certificate.type_code == t, Certificate.type_code.startswith(t + ".", autoescape=True))
            for t in types]))
    return sa.and_(sa.true(), *conditions)


def covered_condition(start: dt.date, lift: dt.date | None, regions: list[str],
                      types: list[str]) -> Any:
    """SQL: the certificates a suspension with this window and scope covers (start ≤ D ≤ lift),
    leaving out revoked and renewed ones."""
    window = Certificate.due_on >= start
    if lift is not None:
        window = sa.and_(window, Certificate.due_on <= lift)
    return sa.and_(window, scope_condition(regions, types), Certificate.revoked_on.is_(None),
                   sa.not_(Certificate.superseded))


def affected_count(suspension: Suspension, lift_on: dt.date | None = None) -> int:
    """How many certificates the suspension covers, lifted on ``lift_on`` (default: as
    recorded). One SQL count on the due-date index."""
    lift = lift_on if lift_on is not None else suspension.lift_on
    condition = covered_condition(suspension.start_on, lift, list(suspension.regions or []),
                                  list(suspension.types or []))
    return db.session.scalar(sa.select(sa.func.count()).select_from(Certificate).where(condition)) or 0


def applying_count(suspension: Suspension) -> int:
    """Certificates whose stored timeline names this suspension (after chaining)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Certificate)
        .where(Certificate.suspension_id == suspension.id, sa.not_(Certificate.superseded))
    ) or 0


# --- changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """What a suspension can touch: its window and scope. Certificates outside its scope are
    never affected by it (chaining also requires the later suspension's scope to match)."""

    start: dt.date
    lift: dt.date | None
    regions: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    def of(cls, suspension: Suspension) -> Reach:
        return cls(suspension.start_on, suspension.lift_on, tuple(suspension.regions or ()),
                   tuple(suspension.types or ()))

    def condition(self) -> Any:
        """SQL: due date or holder deadline inside the window, and in scope."""
        windows = []
        for column in (Certificate.due_on, Certificate.holder_deadline):
            window = column >= self.start
            if self.lift is not None:
                window = sa.and_(window, column <= self.lift)
            windows.append(window)
        return sa.and_(sa.or_(*windows), scope_condition(list(self.regions), list(self.types)))


def refresh_for(suspension_id: int | None, *reaches: Reach) -> tuple[int, int]:
    """Recompute the timelines a change of this suspension can touch: (examined, changed)."""
    where = sa.or_(*[reach.condition() for reach in reaches])
    if suspension_id is not None:
        where = sa.or_(where, Certificate.suspension_id == suspension_id)
    return refresh_where(where)


def refresh_where(where: Any) -> tuple[int, int]:
    """``timelines.refresh_certificates`` with a set-based write: the pure rules compute each
    timeline (``timelines.compute``), and changed rows are written 2,000 at a time with one
    ``UPDATE … FROM (VALUES …)`` on PostgreSQL instead of one UPDATE per row."""
    from trainer.certificates import timelines

    session = db.session()
    if session.get_bind().dialect.name != "postgresql":
        return timelines.refresh_certificates(session, where)
    session.flush()
    context = timelines.load_context(session)
    table = cast(sa.Table, Certificate.__table__)
    facts = [table.c.id, table.c.type_code, table.c.region_code, table.c.expires_on,
             table.c.review_due_on, table.c.revoked_on, table.c.renewal_applied_on]
    stored = [table.c[name] for name in timelines.TIMELINE_COLUMNS]
    examined = changed = 0
    pending: list[tuple[Any, ...]] = []
    rows = session.execute(sa.select(*facts, *stored).where(where)
                           .execution_options(yield_per=_REFRESH_BATCH))
    for row in rows:
        examined += 1
        new = timelines.compute(row, context)
        if any(getattr(row, key) != value for key, value in new.items()):
            pending.append((row.id, *(new[name] for name in timelines.TIMELINE_COLUMNS)))
    rows.close()
    changed = _write_copy(pending)
    session.expire_all()
    return examined, changed


_REFRESH_BATCH = 5000
_TIMELINE_SQL_TYPES = {
    "due_on": "date", "renewal_opens_on": "date", "covered": "boolean", "suspension_id": "integer",
    "valid_until": "date", "holder_deadline": "date", "exam_deadline": "date",
    "awaiting_exam_since": "date", "provisional": "boolean",
}


def _write_copy(pending: list[tuple[Any, ...]]) -> int:
    """PostgreSQL: COPY the new timelines into a temporary table, then one UPDATE … FROM it,
    inside the caller's transaction."""
    from trainer.certificates import timelines

    if not pending:
        return 0
    names = timelines.TIMELINE_COLUMNS
    columns = ", ".join(f"{name} {_TIMELINE_SQL_TYPES[name]}" for name in names)
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS new_timeline (id integer, {columns}) "
                       "ON COMMIT DROP")
        cursor.execute("TRUNCATE new_timeline")
        with cursor.copy(f"COPY new_timeline (id, {', '.join(names)}) FROM STDIN") as copy:
            for row in pending:
                copy.write_row(row)
        cursor.execute("ANALYZE new_timeline")
        assignments = ", ".join(f"{name} = n.{name}" for name in names)
        cursor.execute(f"UPDATE certificates AS c SET {assignments} FROM new_timeline AS n "  # noqa: S608
                       "WHERE c.id = n.id")
        cursor.execute("TRUNCATE new_timeline")
    return len(pending)


def _check_rule(suspension: Suspension) -> None:
    suspension.to_rule()  # raises ValueError on an inconsistent combination


def create(valid: Valid, actor: Any | None) -> tuple[Suspension, tuple[int, int]]:
    suspension = Suspension(created_by_id=actor.id if actor is not None else None, **valid.fields())
    _check_rule(suspension)
    db.session.add(suspension)
    db.session.flush()
    audit.record(actor, "suspension.create", "suspension", suspension.id, after=suspension.as_dict())
    counts = refresh_for(suspension.id, Reach.of(suspension))
    return suspension, counts


def update(suspension: Suspension, valid: Valid, actor: Any | None,
           action: str = "suspension.update") -> tuple[int, int]:
    before = suspension.as_dict()
    old_reach = Reach.of(suspension)
    for key, value in valid.fields().items():
        setattr(suspension, key, value)
    _check_rule(suspension)
    suspension.updated_at = utcnow()
    db.session.flush()
    changed_before, changed_after = audit.changes(before, suspension.as_dict())
    audit.record(actor, action, "suspension", suspension.id, before=changed_before,
                 after=changed_after)
    return refresh_for(suspension.id, old_reach, Reach.of(suspension))


def lift(suspension: Suspension, on: dt.date, actor: Any | None) -> tuple[int, int]:
    """Record the lift date (the last day of the suspension)."""
    if on < suspension.start_on:
        raise ValueError(_("The lift date %(lift)s is before the start %(start)s.",
                           lift=on.isoformat(), start=suspension.start_on.isoformat()))
    if suspension.effect == SuspensionEffect.EXTEND_TO and suspension.extend_to and \
            suspension.extend_to < on:
        raise ValueError(_("The lift date is after the date certificates are extended to "
                           "(%(date)s).", date=suspension.extend_to.isoformat()))
    before = suspension.as_dict()
    old_reach = Reach.of(suspension)
    suspension.lift_on = on
    suspension.updated_at = utcnow()
    db.session.flush()
    changed_before, changed_after = audit.changes(before, suspension.as_dict())
    audit.record(actor, "suspension.lift", "suspension", suspension.id, before=changed_before,
                 after=changed_after)
    return refresh_for(suspension.id, old_reach, Reach.of(suspension))


def delete(suspension: Suspension, actor: Any | None) -> tuple[int, int]:
    reach = Reach.of(suspension)
    audit.record(actor, "suspension.delete", "suspension", suspension.id, before=suspension.as_dict())
    # Certificates it applied to (possibly through a chain, with a due date elsewhere) keep
    # "covered" and lose the reference: that pair marks them for the refresh below.
    db.session.execute(sa.update(Certificate).where(Certificate.suspension_id == suspension.id)
                       .values(suspension_id=None))
    db.session.delete(suspension)
    db.session.flush()
    where = sa.or_(reach.condition(),
                   sa.and_(Certificate.covered, Certificate.suspension_id.is_(None)))
    return refresh_where(where)


def find(name: str) -> Suspension | None:
    return db.session.scalar(sa.select(Suspension).where(Suspension.name == name.strip()))


def all_suspensions() -> list[Suspension]:
    return list(db.session.scalars(sa.select(Suspension).order_by(Suspension.start_on.desc(),
                                                                  Suspension.id.desc())))
