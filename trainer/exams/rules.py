"""The rules of exams, as pure functions: no Flask, no database, and the clock passed in.

- A paper is drawn from the exam's blueprint (or ``question_count`` questions of any type) with a
  ``random.Random`` the caller passes in, options shuffled per attempt.
- The deadline is fixed at the start; saves are accepted until deadline + extra time + grace.
- Formal exams: one attempt and ``max_attempts - 1`` make-ups, a make-up only after a fail; when
  the whole sitting (the "pair") is failed, the worker must complete the prerequisite course again
  (a completion after the last failed attempt) before a new sitting. Practice is unlimited.
- Scoring goes through the question-type registry; the score is out of 100.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from trainer.questions.types import QuestionContent, UnknownQuestionType, get_type, grade

TOTAL_POINTS = 100
MAX_QUESTIONS = 500
#: Right answers in a row that take a question out of the wrong-answer book.
CLEAR_AFTER = 2
_EPSILON = 1e-6


# --- blueprint ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BlueprintRow:
    """``count`` questions of ``type`` (in ``category`` and its sub-categories; "" = any),
    each worth ``points``."""

    type: str
    category: str
    count: int
    points: float

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "category": self.category, "count": self.count,
                "points": self.points}


class BlueprintError(ValueError):
    def __init__(self, messages: list[LazyString]) -> None:
        super().__init__("; ".join(str(m) for m in messages))
        self.messages = messages


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    return float(value)


def parse_blueprint(raw: object) -> list[BlueprintRow]:
    """Rows from JSON (a list of objects). Raises BlueprintError listing every problem."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BlueprintError([_l("The blueprint must be a list of rows.")])
    rows: list[BlueprintRow] = []
    problems: list[LazyString] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(_l("Blueprint row %(row)s is not an object.", row=number))
            continue
        kind = item.get("type")
        category = item.get("category") or ""
        count = item.get("count")
        points = _number(item.get("points"))
        try:
            if not isinstance(kind, str):
                raise UnknownQuestionType(kind)
            get_type(kind)
        except UnknownQuestionType:
            problems.append(_l("Blueprint row %(row)s: unknown question type.", row=number))
            continue
        if not isinstance(category, str) or len(category) > 255:
            problems.append(_l("Blueprint row %(row)s: the category must be text.", row=number))
            continue
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_QUESTIONS:
            problems.append(_l("Blueprint row %(row)s: the number of questions must be a whole "
                               "number from 1 to %(max)s.", row=number, max=MAX_QUESTIONS))
            continue
        if points is None or not 0 < points <= TOTAL_POINTS:
            problems.append(_l("Blueprint row %(row)s: points per question must be a number "
                               "above 0.", row=number))
            continue
        rows.append(BlueprintRow(kind, category.strip(), count, points))
    if problems:
        raise BlueprintError(problems)
    return rows


def total_points(rows: Sequence[BlueprintRow]) -> float:
    return sum(row.count * row.points for row in rows)


def blueprint_errors(rows: Sequence[BlueprintRow], question_count: int) -> list[LazyString]:
    """Problems with a parsed blueprint as a whole (empty list = fine)."""
    if not rows:
        if not 1 <= question_count <= MAX_QUESTIONS:
            return [_l("The number of questions must be from 1 to %(max)s.", max=MAX_QUESTIONS)]
        return []
    errors: list[LazyString] = []
    total = total_points(rows)
    if abs(total - TOTAL_POINTS) > _EPSILON:
        errors.append(_l("The blueprint totals %(total)s points; it must total exactly "
                         "%(wanted)s.", total=_format_points(total), wanted=TOTAL_POINTS))
    count = sum(row.count for row in rows)
    if count > MAX_QUESTIONS:
        errors.append(_l("The number of questions must be from 1 to %(max)s.", max=MAX_QUESTIONS))
    return errors


def _format_points(value: float) -> str:
    return f"{value:g}"


def question_total(rows: Sequence[BlueprintRow], question_count: int) -> int:
    """Questions on a paper: the blueprint's sum, or ``question_count`` without one."""
    return sum(row.count for row in rows) if rows else question_count


# --- drawing a paper ---------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A ready question that can be drawn, with its current version."""

    question_id: int
    version_id: int
    type: str
    category: str
    option_count: int


@dataclass(frozen=True)
class PaperItem:
    question_id: int
    version_id: int
    position: int
    option_order: list[int]
    points: float


class NotEnoughQuestions(ValueError):
    """The banks have fewer ready questions than a blueprint row (or the paper) needs."""

    def __init__(self, row: BlueprintRow | None, wanted: int, available: int) -> None:
        super().__init__(f"{row}: wanted {wanted}, available {available}")
        self.row, self.wanted, self.available = row, wanted, available

    def message(self) -> LazyString:
        if self.row is None:
            return _l("The question banks have %(available)s ready questions; the exam needs "
                      "%(wanted)s.", available=self.available, wanted=self.wanted)
        return _l("The question banks have %(available)s ready questions of type %(type)s in "
                  "“%(category)s”; the exam needs %(wanted)s.", available=self.available,
                  type=get_type(self.row.type).label, category=self.row.category or "*",
                  wanted=self.wanted)


def category_matches(wanted: str, category: str) -> bool:
    """"" matches everything; "电工" matches "电工" and "电工/低压", not "电工作业"."""
    return not wanted or category == wanted or category.startswith(wanted + "/")


def shuffled_options(option_count: int, rng: random.Random) -> list[int]:
    order = list(range(option_count))
    rng.shuffle(order)
    return order


def draw_paper(pool: Iterable[Candidate], rows: Sequence[BlueprintRow], question_count: int,
               rng: random.Random) -> list[PaperItem]:
    """Pick the paper's questions and shuffle each one's options.

    Rows naming a category are drawn before broader rows of the same type, so a catch-all row
    cannot use up the questions a specific row needs; the paper keeps the blueprint's order,
    questions shuffled within a row. Raises NotEnoughQuestions.
    """
    candidates = sorted(pool, key=lambda c: c.question_id)
    picked: dict[int, list[Candidate]] = {}
    used: set[int] = set()
    if rows:
        order = sorted(range(len(rows)), key=lambda i: (-len(rows[i].category), i))
        for index in order:
            row = rows[index]
            fits = [c for c in candidates if c.type == row.type and c.question_id not in used
                    and category_matches(row.category, c.category)]
            if len(fits) < row.count:
                raise NotEnoughQuestions(row, row.count, len(fits))
            chosen = rng.sample(fits, row.count)
            used.update(c.question_id for c in chosen)
            picked[index] = chosen
        plan = [(c, row.points) for i, row in enumerate(rows) for c in picked[i]]
    else:
        if len(candidates) < question_count:
            raise NotEnoughQuestions(None, question_count, len(candidates))
        points = TOTAL_POINTS / question_count
        plan = [(c, points) for c in rng.sample(candidates, question_count)]
    return [PaperItem(c.question_id, c.version_id, position, shuffled_options(c.option_count, rng),
                      points)
            for position, (c, points) in enumerate(plan, start=1)]


# --- responses in shown and original option order ----------------------------------------


def to_original(option_order: Sequence[int], response: Any) -> Any:
    """A response in shown option indexes -> original indexes (bools pass through)."""
    if not isinstance(response, list) or not option_order:
        return response
    original: list[int] = []
    for index in response:
        if isinstance(index, bool) or not isinstance(index, int) or not (
                0 <= index < len(option_order)):
            raise ValueError(f"option index out of range: {index!r}")
        original.append(option_order[index])
    return sorted(original)


def to_shown(option_order: Sequence[int], response: Any) -> Any:
    """A response (or answer) in original indexes -> the indexes the taker saw."""
    if not isinstance(response, list) or not option_order:
        return response
    where = {original: shown for shown, original in enumerate(option_order)}
    return sorted(where[i] for i in response if i in where)


# --- time --------------------------------------------------------------------------------


def deadline_for(started_at: dt.datetime, time_limit_seconds: int) -> dt.datetime:
    return started_at + dt.timedelta(seconds=time_limit_seconds)


def seconds_left(deadline: dt.datetime, now: dt.datetime) -> float:
    """Seconds until ``deadline`` (never negative), to the millisecond."""
    return max(0.0, round((deadline - now).total_seconds(), 3))


def can_save(deadline: dt.datetime, grace_seconds: int, now: dt.datetime) -> bool:
    """Saves are accepted until the deadline plus the grace period (for the last save)."""
    return now <= deadline + dt.timedelta(seconds=grace_seconds)


def is_overdue(deadline: dt.datetime, grace_seconds: int, now: dt.datetime) -> bool:
    return not can_save(deadline, grace_seconds, now)


# --- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemGrade:
    correct: bool
    points: float


def grade_item(content: QuestionContent, response: Any, max_points: float) -> ItemGrade:
    """Grade one saved response (original option indexes); unanswered scores 0."""
    if response is None:
        return ItemGrade(False, 0.0)
    fraction = grade(content, response)
    return ItemGrade(fraction >= 1.0 - _EPSILON, round(fraction * max_points, 4))


def score_of(points: Iterable[float]) -> float:
    """The paper's score out of 100, to two decimals."""
    return min(float(TOTAL_POINTS), round(sum(points), 2))


def has_passed(score: float, pass_mark: float) -> bool:
    return score + _EPSILON >= pass_mark


# --- who may start an attempt ------------------------------------------------------------


@dataclass(frozen=True)
class PastAttempt:
    number: int
    status: str  # in_progress | submitted | expired
    passed: bool | None
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    # resume | practice | first | make_up | new_sitting | passed | retrain | prerequisite |
    # not_open | closed
    reason: str
    attempts_left: int | None  # in the current sitting; None = unlimited (practice)
    # The prerequisite course's title, named in the "retrain" and "prerequisite" messages.
    course: str = ""

    def message(self) -> LazyString:
        if self.course and self.reason == "retrain":
            return _l("You did not pass the make-up exam. Complete the training course "
                      "“%(course)s” again before you can take this exam again.",
                      course=self.course)
        if self.course and self.reason == "prerequisite":
            return _l("Complete the training course “%(course)s” before taking this exam.",
                      course=self.course)
        return REASONS[self.reason]


REASONS: dict[str, LazyString] = {
    "resume": _l("You have an attempt in progress."),
    "practice": _l("Practice: as many attempts as you like."),
    "first": _l("You may take the exam."),
    "make_up": _l("You did not pass; you may take the make-up exam."),
    "new_sitting": _l("You completed the training again; you may take the exam again."),
    "passed": _l("You have passed this exam."),
    "retrain": _l("You did not pass the make-up exam. Complete the training course again "
                  "before you can take this exam again."),
    "prerequisite": _l("Complete the training course before taking this exam."),
    "not_open": _l("This exam is not open yet."),
    "closed": _l("This exam is closed."),
}


def eligibility(*, mode: str, max_attempts: int, attempts: Sequence[PastAttempt],
                now: dt.datetime, opens_at: dt.datetime | None = None,
                closes_at: dt.datetime | None = None, prerequisite_course: str | None = None,
                course_completions: Sequence[dt.datetime] = ()) -> Eligibility:
    """May this worker start (or resume) an attempt now?

    ``attempts`` are the worker's attempts at this exam; ``course_completions`` the times they
    completed the prerequisite course. A formal exam is taken in sittings of ``max_attempts``
    attempts (the exam and its make-ups); a make-up only after a fail; once a whole sitting is
    failed a new one needs a course completion after its last attempt. Without a prerequisite
    course nothing can be redone, so a failed sitting is final.
    """
    ordered = sorted(attempts, key=lambda a: a.number)
    if any(a.status == "in_progress" for a in ordered):
        return Eligibility(True, "resume", _left(mode, max_attempts, ordered))
    if opens_at is not None and now < opens_at:
        return Eligibility(False, "not_open", _left(mode, max_attempts, ordered))
    if closes_at is not None and now >= closes_at:
        return Eligibility(False, "closed", _left(mode, max_attempts, ordered))
    if mode == "practice":
        return Eligibility(True, "practice", None)
    if prerequisite_course and not course_completions:
        return Eligibility(False, "prerequisite", max(1, max_attempts))
    if any(a.passed for a in ordered):
        return Eligibility(False, "passed", 0)
    size = max(1, max_attempts)
    in_sitting = len(ordered) % size
    if not ordered:
        return Eligibility(True, "first", size)
    if in_sitting:
        return Eligibility(True, "make_up", size - in_sitting)
    # The last sitting was used up, every attempt failed: retraining opens a new one.
    last = ordered[-1].finished_at
    if prerequisite_course and last is not None and any(c > last for c in course_completions):
        return Eligibility(True, "new_sitting", size)
    return Eligibility(False, "retrain", 0)


def _left(mode: str, max_attempts: int, ordered: Sequence[PastAttempt]) -> int | None:
    if mode == "practice":
        return None
    size = max(1, max_attempts)
    if any(a.passed for a in ordered):
        return 0
    closed = [a for a in ordered if a.status != "in_progress"]
    return size - len(closed) % size


# --- the wrong-answer book ---------------------------------------------------------------


@dataclass(frozen=True)
class WrongEntry:
    times_wrong: int
    right_streak: int
    cleared: bool


def after_answer(entry: WrongEntry | None, correct: bool) -> WrongEntry | None:
    """The book entry after one more answer. A wrong answer adds (or re-opens) the entry; a
    right one counts towards ``CLEAR_AFTER`` right answers in a row, which clear it. Right
    answers to a question that is not in the book change nothing (None)."""
    if not correct:
        times = entry.times_wrong if entry else 0
        return WrongEntry(times + 1, 0, False)
    if entry is None or entry.cleared:
        return entry
    streak = entry.right_streak + 1
    return WrongEntry(entry.times_wrong, streak, streak >= CLEAR_AFTER)
