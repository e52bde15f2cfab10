"""Certificate status and suspension-period rules (docs/domain.md, "Suspension periods").

Pure: no Flask, no database, no clock. Every number (renewal window, deadlines, extensions)
arrives as data.

Two steps, for scale
--------------------
1. ``timeline(facts, suspensions, calendar)`` does the expensive part once per certificate and
   does not depend on the day asked about: due date D, the suspension that applies, the last
   valid day V, holder deadline T, exam deadline E. Recompute it when the certificate, a
   suspension or the calendar changes, never because time passed.
2. ``status_on(timeline, x, revoked=..., renewal_window_days=...)`` is a few comparisons, so
   the same rule can run in SQL over stored timeline columns (see ``status_on``).

Why V does not depend on X
--------------------------
The contract says that, under ``deemed_valid`` with a lift recorded, V is T unless the holder
applied on or before both X and T, in which case V is open-ended. We store V open-ended as
soon as the application date A satisfies A ≤ T. The two readings differ only for X < A, and
there X < A ≤ T = "V as the contract reads it", so both say ``deemed_valid`` (X ≤ V). While
the suspension is ongoing V is open-ended whatever X is. Under ``extend_by``/``extend_to`` V
is a fixed date. Hence V, T and E are functions of the facts and the recorded suspensions
alone.
"""

from __future__ import annotations

import calendar as gregorian
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from trainer.certificates.calendar import (
    WorkCalendar,
    check_region_code,
    normalize_region_selector,
    region_matches,
)


class DeadlineUnit(StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"


_UNIT_SUFFIX = {
    DeadlineUnit.WORKING_DAYS: "wd",
    DeadlineUnit.CALENDAR_DAYS: "d",
    DeadlineUnit.MONTHS: "m",
}
_SUFFIX_UNIT = {suffix: unit for unit, suffix in _UNIT_SUFFIX.items()}
_DEADLINE = re.compile(r"(\d+)(wd|d|m)")


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """ "N units after the lift": ``30wd``, ``60d`` or ``3m``."""

    n: int
    unit: DeadlineUnit

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", DeadlineUnit(self.unit))
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"deadline must be a whole number of at least 1, got {self.n!r}")

    def __str__(self) -> str:
        return f"{self.n}{_UNIT_SUFFIX[self.unit]}"


def parse_deadline(text: str) -> DeadlineSpec:
    """Parse ``30wd`` (working days), ``60d`` (calendar days) or ``3m`` (months)."""
    match = _DEADLINE.fullmatch(text.strip().lower()) if isinstance(text, str) else None
    if match is None or int(match.group(1)) < 1:
        raise ValueError(
            f"invalid deadline {text!r}: expected a whole number of at least 1 followed by "
            "'wd' (working days), 'd' (calendar days) or 'm' (months), e.g. '30wd', '60d', '3m'"
        )
    return DeadlineSpec(int(match.group(1)), _SUFFIX_UNIT[match.group(2)])


def add_months(day: date, months: int) -> date:
    """Same day of month ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, gregorian.monthrange(year, month)[1]))


def deadline_after(
    lift: date, spec: DeadlineSpec, calendar: WorkCalendar, region_code: str | None = None
) -> date:
    """The deadline ``spec`` after the lift day L (L itself never counts).

    Working days: the N-th working day strictly after L. Calendar days: L + N, months: same day
    of month N months on (clamped to month end); both rolled forward to a working day.
    """
    if spec.unit is DeadlineUnit.WORKING_DAYS:
        return calendar.add_working_days(lift, spec.n, region_code)
    if spec.unit is DeadlineUnit.CALENDAR_DAYS:
        return calendar.roll_forward(lift + timedelta(days=spec.n), region_code)
    return calendar.roll_forward(add_months(lift, spec.n), region_code)


class SuspensionEffect(StrEnum):
    DEEMED_VALID = "deemed_valid"
    EXTEND_BY = "extend_by"
    EXTEND_TO = "extend_to"


def type_matches(selector: str, type_code: str) -> bool:
    """``1`` covers ``1`` and ``1.x`` (at any depth) but not ``10.1``; ``SM`` covers ``SM``."""
    return type_code == selector or type_code.startswith(selector + ".")


@dataclass(frozen=True, slots=True)
class Suspension:
    """A period when exams and certificate issuing stop (docs/domain.md, "Suspension periods").

    ``lift`` is the last day of the suspension; None while ongoing. Under ``deemed_valid`` a
    missing ``holder_deadline`` means "open-ended until an admin sets one" (Shenzhen 2020).
    """

    name: str
    region_selectors: tuple[str, ...]
    type_selectors: tuple[str, ...]
    start: date
    lift: date | None
    effect: SuspensionEffect
    holder_deadline: DeadlineSpec | None = None
    exam_deadline: DeadlineSpec | None = None
    extend_by_days: int | None = None
    extend_to: date | None = None
    _regions: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # Memoised scope answers: a batch asks about the same few thousand regions and the same
    # catalogue codes for a million certificates. Both are pure, so the caches are invisible.
    _region_answers: dict[str, bool] = field(init=False, repr=False, compare=False)
    _type_answers: dict[str, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"suspension {self.name!r}"
        object.__setattr__(self, "effect", SuspensionEffect(self.effect))
        object.__setattr__(self, "region_selectors", tuple(self.region_selectors))
        object.__setattr__(self, "type_selectors", tuple(self.type_selectors))
        try:
            regions = tuple(normalize_region_selector(s) for s in self.region_selectors)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        object.__setattr__(self, "_regions", regions)
        object.__setattr__(self, "_region_answers", {})
        object.__setattr__(self, "_type_answers", {})
        for selector in self.type_selectors:
            if not selector or selector != selector.strip() or selector.endswith("."):
                raise ValueError(f"{where}: invalid certificate type selector {selector!r}")
        if self.lift is not None and self.lift < self.start:
            raise ValueError(f"{where}: lift {self.lift} is before start {self.start}")
        deemed = self.effect is SuspensionEffect.DEEMED_VALID
        if not deemed and (self.holder_deadline or self.exam_deadline):
            raise ValueError(f"{where}: holder/exam deadlines only apply to deemed_valid")
        if (self.effect is SuspensionEffect.EXTEND_BY) != (self.extend_by_days is not None):
            raise ValueError(f"{where}: extend_by_days is required for extend_by, and only there")
        if (self.effect is SuspensionEffect.EXTEND_TO) != (self.extend_to is not None):
            raise ValueError(f"{where}: extend_to is required for extend_to, and only there")
        if self.extend_by_days is not None and (
            isinstance(self.extend_by_days, bool) or self.extend_by_days < 1
        ):
            raise ValueError(f"{where}: extend_by_days must be at least 1")
        if self.extend_to is not None and self.lift is not None and self.extend_to < self.lift:
            raise ValueError(
                f"{where}: extend_to {self.extend_to} is before the end of its window "
                f"{self.lift}, so it would shorten certificates it covers"
            )

    def applies_to(self, type_code: str, region_code: str) -> bool:
        """Both scopes match; an empty selector list means all."""
        region_ok = self._region_answers.get(region_code)
        if region_ok is None:
            region_ok = not self._regions or any(
                region_matches(r, region_code) for r in self._regions
            )
            self._region_answers[region_code] = region_ok
        type_ok = self._type_answers.get(type_code)
        if type_ok is None:
            type_ok = not self.type_selectors or any(
                type_matches(t, type_code) for t in self.type_selectors
            )
            self._type_answers[type_code] = type_ok
        return region_ok and type_ok

    def spans(self, day: date) -> bool:
        """start ≤ day ≤ lift, or start ≤ day while ongoing."""
        return self.start <= day and (self.lift is None or day <= self.lift)


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What the rules need to know about one certificate.

    ``applied_on`` is the day the holder had completed the refresher training and requested
    the exam for the current renewal (None if not yet); clear it when the renewal concludes.
    """

    type_code: str
    region_code: str
    expires_on: date
    review_due_on: date | None = None
    revoked: bool = False
    applied_on: date | None = None

    def __post_init__(self) -> None:
        check_region_code(self.region_code)


def due_date(facts: CertificateFacts) -> date:
    """D: the pending review date when it comes before expiry, else the expiry date."""
    if facts.review_due_on is not None and facts.review_due_on < facts.expires_on:
        return facts.review_due_on
    return facts.expires_on


class Status(StrEnum):
    VALID = "valid"
    DUE_SOON = "due_soon"
    DEEMED_VALID = "deemed_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Timeline:
    """Everything about a certificate's validity that does not depend on the day asked about.

    - ``due_on``: D, the last valid day on the certificate's own terms.
    - ``covered``: a suspension covers D; ``suspension`` names the one that applies (after
      chaining), else None.
    - ``valid_until``: V, the last valid day; None = open-ended. D when nothing covers D.
    - ``holder_deadline`` T / ``exam_deadline`` E: under ``deemed_valid`` once lifted.
    - ``awaiting_exam_since``: the holder applied on this day, in time (on or before T), and
      waits for the exam; None otherwise.
    - ``provisional``: a deadline computed on the way lies past the published official
      calendar, so it may move when next year's holiday notice comes out.
    """

    due_on: date
    covered: bool = False
    suspension: str | None = None
    valid_until: date | None = None
    holder_deadline: date | None = None
    exam_deadline: date | None = None
    awaiting_exam_since: date | None = None
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class _Outcome:
    suspension: Suspension
    valid_until: date | None
    holder_deadline: date | None = None
    exam_deadline: date | None = None
    awaiting_exam_since: date | None = None
    provisional: bool = False


def _latest_first_key(day: date | None) -> tuple[int, date]:
    # Open-ended sorts after every date.
    return (1, date.min) if day is None else (0, day)


def _outcome_key(outcome: _Outcome) -> tuple[tuple[int, date], ...]:
    # Latest V wins; ties go to the later T, then the later E, then input order.
    return (
        _latest_first_key(outcome.valid_until),
        _latest_first_key(outcome.holder_deadline),
        _latest_first_key(outcome.exam_deadline),
    )


def _best(outcomes: Sequence[_Outcome]) -> _Outcome | None:
    best: _Outcome | None = None
    for outcome in outcomes:
        if best is None or _outcome_key(outcome) > _outcome_key(best):
            best = outcome
    return best


class _Resolver:
    """Resolves which suspension applies to one certificate, following chains."""

    def __init__(
        self,
        facts: CertificateFacts,
        suspensions: Sequence[Suspension],
        calendar: WorkCalendar,
    ) -> None:
        self.facts = facts
        self.calendar = calendar
        self.deemed = [
            s
            for s in suspensions
            if s.effect is SuspensionEffect.DEEMED_VALID
            and s.applies_to(facts.type_code, facts.region_code)
        ]
        self._chained: dict[date, _Outcome | None] = {}

    def resolve(self, due: date, covering: Sequence[Suspension]) -> _Outcome | None:
        return _best([self._apply(s, due) for s in covering])

    def _apply(self, suspension: Suspension, due: date) -> _Outcome:
        if suspension.effect is SuspensionEffect.EXTEND_BY:
            assert suspension.extend_by_days is not None
            # Not rolled to a working day: the notice extends validity, not a deadline to act.
            return _Outcome(suspension, due + timedelta(days=suspension.extend_by_days))
        if suspension.effect is SuspensionEffect.EXTEND_TO:
            assert suspension.extend_to is not None
            # max(): extending never shortens, even for an ongoing window past extend_to.
            return _Outcome(suspension, max(suspension.extend_to, due))
        return self._deemed_valid(suspension)

    def _deemed_valid(self, suspension: Suspension) -> _Outcome:
        applied_on = self.facts.applied_on
        if suspension.lift is None:
            return _Outcome(suspension, None, awaiting_exam_since=applied_on)
        region = self.facts.region_code
        exam_deadline = (
            None
            if suspension.exam_deadline is None
            else deadline_after(suspension.lift, suspension.exam_deadline, self.calendar, region)
        )
        exam_provisional = exam_deadline is not None and self.calendar.is_provisional(exam_deadline)
        if suspension.holder_deadline is None:
            return _Outcome(
                suspension,
                None,
                exam_deadline=exam_deadline,
                awaiting_exam_since=applied_on,
                provisional=exam_provisional,
            )
        holder_deadline = deadline_after(
            suspension.lift, suspension.holder_deadline, self.calendar, region
        )
        holder_provisional = self.calendar.is_provisional(holder_deadline)
        # A deadline falling inside a later deemed_valid suspension is pushed past it, as if
        # the certificate fell due on that deadline.
        pushed = self._chain(holder_deadline)
        if pushed is not None:
            # This T decided the chain, so it counts; this E was replaced, so it does not.
            return _Outcome(
                pushed.suspension,
                pushed.valid_until,
                pushed.holder_deadline,
                pushed.exam_deadline,
                pushed.awaiting_exam_since,
                holder_provisional or pushed.provisional,
            )
        applied_in_time = applied_on is not None and applied_on <= holder_deadline
        return _Outcome(
            suspension,
            None if applied_in_time else holder_deadline,
            holder_deadline,
            exam_deadline,
            applied_on if applied_in_time else None,
            exam_provisional or holder_provisional,
        )

    def _chain(self, due: date) -> _Outcome | None:
        # Every hop lands strictly after the lift of the suspension it leaves (T > lift ≥ due),
        # and an ongoing suspension ends the chain (no T), so chains are finite; memoising by
        # date also keeps overlapping branches from being recomputed.
        if due not in self._chained:
            self._chained[due] = None  # guards against re-entry on the same date
            self._chained[due] = _best([self._deemed_valid(s) for s in self.deemed if s.spans(due)])
        return self._chained[due]


def timeline(
    facts: CertificateFacts, suspensions: Sequence[Suspension], calendar: WorkCalendar
) -> Timeline:
    """Compute the X-independent timeline of one certificate (docs/domain.md semantics).

    A suspension covers the certificate when both scopes match and start ≤ D ≤ lift (or start ≤
    D while ongoing). When several cover D, the one giving the latest V applies (open-ended is
    latest). Deadlines are counted in the certificate's region's calendar.
    """
    due_on = due_date(facts)
    # The window test is a date comparison, so it goes first: most certificates fall due
    # outside every suspension and leave here.
    covering = [
        s
        for s in suspensions
        if s.spans(due_on) and s.applies_to(facts.type_code, facts.region_code)
    ]
    outcome = (
        _Resolver(facts, suspensions, calendar).resolve(due_on, covering) if covering else None
    )
    if outcome is None:
        return Timeline(due_on=due_on, valid_until=due_on)
    return Timeline(
        due_on=due_on,
        covered=True,
        suspension=outcome.suspension.name,
        valid_until=outcome.valid_until,
        holder_deadline=outcome.holder_deadline,
        exam_deadline=outcome.exam_deadline,
        awaiting_exam_since=outcome.awaiting_exam_since,
        provisional=outcome.provisional,
    )


def status_on(timeline: Timeline, x: date, *, revoked: bool, renewal_window_days: int) -> Status:
    """Status as of day ``x``.

    The same rule as SQL over stored timeline columns (``:x`` the day asked about,
    ``:window`` the renewal window in days; date subtraction in the dialect's own form)::

        CASE
          WHEN revoked                                 THEN 'revoked'
          WHEN :x <= due_on AND due_on - :x <= :window THEN 'due_soon'
          WHEN :x <= due_on                            THEN 'valid'
          WHEN covered AND (valid_until IS NULL OR :x <= valid_until)
                                                       THEN 'deemed_valid'
          ELSE 'expired'
        END
    """
    if revoked:
        return Status.REVOKED
    if x <= timeline.due_on:
        if (timeline.due_on - x).days <= renewal_window_days:
            return Status.DUE_SOON
        return Status.VALID
    if timeline.covered and (timeline.valid_until is None or x <= timeline.valid_until):
        return Status.DEEMED_VALID
    return Status.EXPIRED


def overdue_backlog(timeline: Timeline, x: date) -> bool:
    """The holder applied in time and is still waiting for the exam after the exam deadline E.

    Not the holder's fault, so status stays ``deemed_valid``; the authority is flagged.
    SQL: ``awaiting_exam_since IS NOT NULL AND exam_deadline < :x
    AND awaiting_exam_since <= :x``.
    """
    return (
        timeline.awaiting_exam_since is not None
        and timeline.exam_deadline is not None
        and x > timeline.exam_deadline
        and x >= timeline.awaiting_exam_since
    )
