"""Which reminders are due: pure, ``today`` is an argument (docs/domain.md; issue 5).

A certificate has up to three dates a holder must act by, each a reminder *kind*:

- ``due``: the due date D (review or expiry), while it is ahead, the certificate not revoked
  and no renewal applied for;
- ``holder_deadline``: the backlog's holder deadline T (train and apply for the exam), while
  the holder has not applied;
- ``exam_deadline``: the backlog's exam deadline E, once the holder has applied (before that
  the holder deadline is what they must act on; after a missed T the certificate has lapsed)
  and while the exam is not passed.

Each kind is reminded at *stages* (days before the date: 90, 60, 30 and 7 by default, a
setting, never a constant in the rules). A stage is due on or after ``date - stage`` and up to
the date itself (Lemur's rule: due on or before today, not yet sent).

Catch-up policy: only the most recent due stage
-----------------------------------------------
When runs were missed, several stages may be due at once (the cron was down from 95 to 40
days before D: 90 and 60 are both due). We send **only the most recent one** (60 here): it
carries the right "days left", and a burst of stale reminders would say "90 days left" when
40 remain. Older stages are then never sent: the most recent due stage only gets smaller as
days pass, so once stage s is current no older stage can become current again.

"Never twice" is the outbox's unique key (certificate, kind, date, stage, recipient, channel):
a reminder for stage s of a date is recorded once, whatever the number of runs. The date is
in the key so the next review cycle (a new D) is reminded again, and a deadline moved by an
admin (a new T) gets its own reminders.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

DEFAULT_STAGES: tuple[int, ...] = (90, 60, 30, 7)


class ReminderKind(StrEnum):
    DUE = "due"
    HOLDER_DEADLINE = "holder_deadline"
    EXAM_DEADLINE = "exam_deadline"


def parse_stages(text: str | Iterable[int]) -> tuple[int, ...]:
    """``"90,60,30,7"`` (or integers) → (90, 60, 30, 7), largest first; each at least 0."""
    raw = text.split(",") if isinstance(text, str) else list(text)
    stages: set[int] = set()
    for part in raw:
        try:
            value = int(str(part).strip())
        except ValueError:
            raise ValueError(
                f"invalid reminder stage {part!r}: expected whole numbers of days, e.g. 90,60,30,7"
            ) from None
        if value < 0:
            raise ValueError(f"invalid reminder stage {value}: days before must be 0 or more")
        stages.add(value)
    if not stages:
        raise ValueError("at least one reminder stage is needed, e.g. 90,60,30,7")
    return tuple(sorted(stages, reverse=True))


def current_stage(deadline: date, today: date, stages: Collection[int] = DEFAULT_STAGES) -> int | None:
    """The most recent stage due on ``today`` for ``deadline``: the smallest s with
    today ≥ deadline − s days. None before the first stage and after the deadline."""
    days_left = (deadline - today).days
    if days_left < 0:
        return None
    due = [s for s in stages if days_left <= s]
    return min(due) if due else None


@dataclass(frozen=True, slots=True)
class ReminderSubject:
    """What decides a certificate's reminders, as of today."""

    certificate_id: int
    due_on: date
    revoked: bool = False
    renewal_applied: bool = False  # the holder applied for the review/renewal of D
    holder_deadline: date | None = None  # backlog T
    applied: bool = False  # training done and exam requested (T met)
    exam_deadline: date | None = None  # backlog E
    exam_passed: bool = False


@dataclass(frozen=True, slots=True)
class DueReminder:
    certificate_id: int
    kind: ReminderKind
    deadline: date
    stage: int

    @property
    def key(self) -> tuple[ReminderKind, date, int]:
        return (self.kind, self.deadline, self.stage)


def reminders_due(
    subject: ReminderSubject,
    today: date,
    stages: Collection[int] = DEFAULT_STAGES,
    sent: Collection[tuple[ReminderKind, date, int]] = (),
) -> list[DueReminder]:
    """The reminders to send today for one certificate (at most one per kind), leaving out
    those already in ``sent`` as (kind, date, stage)."""
    if subject.revoked:
        return []
    dates: list[tuple[ReminderKind, date]] = []
    if not subject.renewal_applied:
        dates.append((ReminderKind.DUE, subject.due_on))
    if subject.holder_deadline is not None and not subject.applied and not subject.exam_passed:
        dates.append((ReminderKind.HOLDER_DEADLINE, subject.holder_deadline))
    if subject.exam_deadline is not None and subject.applied and not subject.exam_passed:
        dates.append((ReminderKind.EXAM_DEADLINE, subject.exam_deadline))
    found: list[DueReminder] = []
    for kind, deadline in dates:
        stage = current_stage(deadline, today, stages)
        if stage is None:
            continue
        reminder = DueReminder(subject.certificate_id, kind, deadline, stage)
        if reminder.key not in sent:
            found.append(reminder)
    return found


def window_end(today: date, stages: Collection[int] = DEFAULT_STAGES) -> date:
    """Only dates in [today, window_end] can have a stage due today: the SQL pre-filter."""
    return today + timedelta(days=max(stages))
