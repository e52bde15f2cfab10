"""Exam use cases: define exams, start attempts, save answers, finalise, the wrong-answer book.

Services flush, never commit (the view or command commits). Concurrency, on every database:

- one attempt in progress per worker and exam: the unique ``active_key`` column;
- finalising is a compare-and-set (``UPDATE ... WHERE status = 'in_progress'``) after a row lock
  (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so two submits finalise
  once, grade once and send ``exam_passed`` once;
- a save holds a share lock on the attempt row (PostgreSQL) and writes with
  ``UPDATE ... WHERE client_seq < :seq AND attempt still in progress``, so an out-of-order save
  never overwrites a newer answer and no save lands after the paper was graded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from trainer.accounts.models import User
from trainer.accounts.rules import Role
from trainer.audit import services as audit
from trainer.clock import local_zone
from trainer.db import db
from trainer.exams import rules
from trainer.exams.models import (
    EXPIRED,
    FORMAL,
    IN_PROGRESS,
    PRACTICE,
    SUBMITTED,
    AttemptQuestion,
    Exam,
    ExamAttempt,
    WrongAnswer,
    exam_banks,
)
from trainer.questions.models import (
    CONTENT_COLUMNS,
    Question,
    QuestionBank,
    QuestionVersion,
    version_content,
)
from trainer.questions.types import UnknownQuestionType, get_type
from trainer.signals import exam_passed

READY = "ready"


class ExamProblem(Exception):
    """A refusal with an HTTP status, a stable code and a translatable message."""

    status = 409
    code = "conflict"

    def __init__(self, message: LazyString | str, details: dict[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.details = details or {}


class NotEligible(ExamProblem):
    code = "not_eligible"


class NoPaper(ExamProblem):
    code = "not_enough_questions"


class AttemptClosed(ExamProblem):
    code = "attempt_closed"


class DeadlinePassed(ExamProblem):
    """The save came after deadline + grace; the caller closes the attempt and commits."""

    code = "deadline_passed"


class NotInAttempt(ExamProblem):
    status = 404
    code = "not_found"


class InvalidResponse(ExamProblem):
    status = 422
    code = "invalid"


# --- exam definitions --------------------------------------------------------------------


@dataclass
class ExamInput:
    title: str
    bank_ids: list[int]
    question_count: int
    time_limit_seconds: int
    blueprint: list[rules.BlueprintRow] = field(default_factory=list)
    certificate_type: str = ""
    grace_seconds: int = 30
    pass_mark: int = 80
    max_attempts: int = 2
    mode: str = FORMAL
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    prerequisite_course: str | None = None
    review_allowed: bool = True


def exam_input_errors(data: ExamInput) -> dict[str, LazyString]:
    """Field -> problem, for everything the rules can check without the database."""
    errors: dict[str, LazyString] = {}
    if not data.title.strip() or len(data.title) > 200:
        errors["title"] = _l("Give the exam a title (at most 200 characters).")
    if not data.bank_ids:
        errors["banks"] = _l("Choose at least one question bank.")
    if data.time_limit_seconds < 1 or data.time_limit_seconds > 24 * 3600:
        errors["time_limit_seconds"] = _l("The time limit must be from 1 second to 24 hours.")
    if not 0 <= data.grace_seconds <= 600:
        errors["grace_seconds"] = _l("The grace period must be from 0 to 600 seconds.")
    if not 1 <= data.pass_mark <= rules.TOTAL_POINTS:
        errors["pass_mark"] = _l("The pass mark must be from 1 to 100.")
    if not 1 <= data.max_attempts <= 10:
        errors["max_attempts"] = _l("Attempts per sitting must be from 1 to 10.")
    if data.mode not in (FORMAL, PRACTICE):
        errors["mode"] = _l("The mode must be formal or practice.")
    if len(data.certificate_type) > 10:
        errors["certificate_type"] = _l("The certificate type is a catalogue code such as 1.2.")
    if data.prerequisite_course is not None and len(data.prerequisite_course) > 100:
        errors["prerequisite_course"] = _l("The course key is too long.")
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        errors["closes_at"] = _l("The exam must close after it opens.")
    problems = rules.blueprint_errors(data.blueprint, data.question_count)
    if problems:
        errors["blueprint" if data.blueprint else "question_count"] = problems[0]
    return errors


def paper_problem(bank_ids: Sequence[int], blueprint: Sequence[rules.BlueprintRow],
                  question_count: int) -> LazyString | None:
    """Why the banks cannot fill this paper now (None when they can)."""
    try:
        rules.draw_paper(ready_pool(bank_ids), blueprint, question_count, random.Random(0))
    except rules.NotEnoughQuestions as exc:
        return exc.message()
    return None


def _apply(exam: Exam, data: ExamInput) -> None:
    exam.title = data.title.strip()
    exam.certificate_type = data.certificate_type.strip()
    exam.blueprint = [row.as_json() for row in data.blueprint]
    exam.question_count = rules.question_total(data.blueprint, data.question_count)
    exam.time_limit_seconds = data.time_limit_seconds
    exam.grace_seconds = data.grace_seconds
    exam.pass_mark = data.pass_mark
    exam.max_attempts = data.max_attempts
    exam.mode = data.mode
    exam.opens_at, exam.closes_at = data.opens_at, data.closes_at
    exam.prerequisite_course = (data.prerequisite_course or "").strip() or None
    exam.review_allowed = data.review_allowed
    exam.banks = list(db.session.scalars(
        sa.select(QuestionBank).where(QuestionBank.id.in_(data.bank_ids))))


def create_exam(data: ExamInput, actor: User | None) -> Exam:
    exam = Exam(created_by_id=actor.id if actor else None)
    _apply(exam, data)
    db.session.add(exam)
    db.session.flush()
    audit.record(actor, "exam.create", "exam", exam.id, after=exam_summary(exam))
    return exam


def update_exam(exam: Exam, data: ExamInput, actor: User) -> None:
    before = exam_summary(exam)
    _apply(exam, data)
    db.session.flush()
    audit.record(actor, "exam.edit", "exam", exam.id, before=before, after=exam_summary(exam))


def exam_summary(exam: Exam) -> dict[str, Any]:
    return {"title": exam.title, "mode": exam.mode, "question_count": exam.question_count,
            "time_limit_seconds": exam.time_limit_seconds, "pass_mark": exam.pass_mark,
            "max_attempts": exam.max_attempts, "blueprint": exam.blueprint,
            "banks": [b.name for b in exam.banks]}


def mock_of(exam: Exam, actor: User | None) -> Exam:
    """A practice exam with the same banks and blueprint (a mock exam)."""
    data = input_from(exam)
    data.mode, data.title = PRACTICE, str(_l("Mock exam: %(title)s", title=exam.title))[:200]
    data.opens_at = data.closes_at = None
    data.prerequisite_course, data.review_allowed = None, True
    return create_exam(data, actor)


def input_from(exam: Exam) -> ExamInput:
    return ExamInput(
        title=exam.title, bank_ids=[b.id for b in exam.banks],
        question_count=exam.question_count, time_limit_seconds=exam.time_limit_seconds,
        blueprint=rules.parse_blueprint(exam.blueprint), certificate_type=exam.certificate_type,
        grace_seconds=exam.grace_seconds, pass_mark=exam.pass_mark,
        max_attempts=exam.max_attempts, mode=exam.mode, opens_at=exam.opens_at,
        closes_at=exam.closes_at, prerequisite_course=exam.prerequisite_course,
        review_allowed=exam.review_allowed)


def can_manage(user: User) -> bool:
    return user.role in (Role.INSTRUCTOR, Role.ADMIN)


def blueprint_rows(exam: Exam) -> list[rules.BlueprintRow]:
    try:
        return rules.parse_blueprint(exam.blueprint)
    except rules.BlueprintError:
        return []


# --- papers ------------------------------------------------------------------------------


def ready_pool(bank_ids: Sequence[int]) -> list[rules.Candidate]:
    """Ready questions of these banks, with their current versions."""
    if not bank_ids:
        return []
    rows = db.session.execute(
        sa.select(Question.id, QuestionVersion.id, Question.type, Question.category,
                  QuestionVersion.options)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.bank_id.in_(list(bank_ids)), Question.status == READY))
    pool = []
    for qid, vid, kind, category, options in rows:
        try:
            get_type(kind)
        except UnknownQuestionType:
            continue
        pool.append(rules.Candidate(qid, vid, kind, category or "", len(options or [])))
    return pool


def exam_bank_ids(exam: Exam) -> list[int]:
    return list(db.session.scalars(sa.select(exam_banks.c.bank_id)
                                   .where(exam_banks.c.exam_id == exam.id)))


# --- eligibility -------------------------------------------------------------------------


def user_attempts(exam_id: int, user_id: int) -> list[ExamAttempt]:
    return list(db.session.scalars(
        sa.select(ExamAttempt).where(ExamAttempt.exam_id == exam_id,
                                     ExamAttempt.user_id == user_id)
        .order_by(ExamAttempt.number)))


def course_completions(user_id: int, course_key: str | None,
                       attempts: Sequence[ExamAttempt] = ()) -> list[dt.datetime]:
    """Moments the rules can compare with attempts: one entry when the worker completed the
    course at all, and one just after the last closed attempt when they completed it (every
    lesson) again since then. The courses area answers (trainer.courses.hours)."""
    if not course_key:
        return []
    from trainer.courses.hours import course_completed

    closed = [a for a in attempts if a.status != IN_PROGRESS]
    # A failed sitting starts a new training round (progress reset), so a worker who has taken
    # the exam counts as having completed the course once, whatever their progress shows now.
    if not closed and not course_completed(user_id, course_key):
        return []
    marks = [dt.datetime.min.replace(tzinfo=dt.UTC)]
    if closed:
        last = closed[-1].submitted_at or closed[-1].effective_deadline
        if course_completed(user_id, course_key, since=last):
            marks.append(last + dt.timedelta(microseconds=1))
    return marks


def check_eligibility(exam: Exam, user_id: int, now: dt.datetime,
                      attempts: Sequence[ExamAttempt] | None = None) -> rules.Eligibility:
    if attempts is None:
        attempts = user_attempts(exam.id, user_id)
    past = [rules.PastAttempt(a.number, a.status, a.passed,
                              a.submitted_at or a.effective_deadline) for a in attempts]
    decision = rules.eligibility(
        mode=exam.mode, max_attempts=exam.max_attempts, attempts=past, now=now,
        opens_at=exam.opens_at, closes_at=exam.closes_at,
        prerequisite_course=exam.prerequisite_course,
        course_completions=(course_completions(user_id, exam.prerequisite_course, attempts)
                            if exam.prerequisite_course and exam.mode == FORMAL else []))
    if exam.prerequisite_course and decision.reason in ("retrain", "prerequisite"):
        from trainer.courses.hours import course_title

        decision = dataclasses.replace(
            decision, course=course_title(exam.prerequisite_course) or exam.prerequisite_course)
    return decision


# --- attempts ----------------------------------------------------------------------------


def active_attempt(exam_id: int, user_id: int) -> ExamAttempt | None:
    return db.session.scalar(sa.select(ExamAttempt).where(
        ExamAttempt.active_key == f"{exam_id}:{user_id}"))


def start_attempt(exam: Exam, user: User, now: dt.datetime,
                  rng: random.Random | None = None) -> tuple[ExamAttempt, bool]:
    """The worker's attempt in progress, or a new one with its own paper: (attempt, created).

    Raises NotEligible or NoPaper. Two simultaneous starts create one attempt: the loser's
    transaction is rolled back and it resumes the winner's attempt.
    """
    current = active_attempt(exam.id, user.id)
    if current is not None and close_if_overdue(current, now):
        current = None
    if current is not None:
        return current, False
    attempts = user_attempts(exam.id, user.id)
    decision = check_eligibility(exam, user.id, now, attempts)
    if not decision.allowed:
        raise NotEligible(decision.message(), {"reason": decision.reason})
    try:
        paper = rules.draw_paper(ready_pool(exam_bank_ids(exam)), blueprint_rows(exam),
                                 exam.question_count, rng or random.SystemRandom())
    except rules.NotEnoughQuestions as exc:
        raise NoPaper(exc.message()) from exc
    attempt = ExamAttempt(
        exam_id=exam.id, user_id=user.id, number=max((a.number for a in attempts), default=0) + 1,
        started_at=now, deadline=rules.deadline_for(now, exam.time_limit_seconds),
        extra_seconds=0, status=IN_PROGRESS, active_key=f"{exam.id}:{user.id}")
    db.session.add(attempt)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        winner = active_attempt(exam.id, user.id)
        if winner is None:
            raise
        return winner, False
    # The paper in one executemany (Core): fifty ORM objects cost a start more than the rest.
    db.session.execute(sa.insert(_ITEMS), [
        {"attempt_id": attempt.id, "question_id": item.question_id,
         "question_version_id": item.version_id, "position": item.position,
         "option_order": item.option_order, "max_points": item.points}
        for item in paper])
    return attempt, True


def visible_attempt(attempt_id: int, user: User) -> ExamAttempt | None:
    """The attempt if it is the user's own (admins see all); None otherwise (a 404)."""
    attempt = db.session.get(ExamAttempt, attempt_id)
    if attempt is None:
        return None
    if attempt.user_id != user.id and user.role != Role.ADMIN:
        return None
    return attempt


def close_if_overdue(attempt: ExamAttempt, now: dt.datetime) -> bool:
    """Close an attempt left open past deadline + grace with what was saved by then."""
    if attempt.status != IN_PROGRESS:
        return False
    if not rules.is_overdue(attempt.effective_deadline, attempt.exam.grace_seconds, now):
        return False
    return finalise(attempt, EXPIRED, now)


def submit(attempt: ExamAttempt, now: dt.datetime) -> ExamAttempt:
    """Finalise (once); a repeated or simultaneous submit returns the same result."""
    if attempt.status == IN_PROGRESS:
        late = rules.is_overdue(attempt.effective_deadline, attempt.exam.grace_seconds, now)
        finalise(attempt, EXPIRED if late else SUBMITTED, now)
    return attempt


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _lock(attempt_id: int) -> None:
    """Row lock on PostgreSQL (FOR UPDATE); SQLite serialises writers instead."""
    if _is_postgresql():
        db.session.execute(sa.select(ExamAttempt.id).where(ExamAttempt.id == attempt_id)
                           .with_for_update())


def finalise(attempt: ExamAttempt, status: str, now: dt.datetime) -> bool:
    """Close and grade the attempt. True when this call closed it, False when it was closed
    already (by a simultaneous submit, the overdue sweep, ...)."""
    _lock(attempt.id)
    cutoff = attempt.effective_deadline + dt.timedelta(seconds=attempt.exam.grace_seconds)
    closed_at = now if status == SUBMITTED else min(now, cutoff)
    result = db.session.execute(
        sa.update(ExamAttempt)
        .where(ExamAttempt.id == attempt.id, ExamAttempt.status == IN_PROGRESS)
        .values(status=status, active_key=None, submitted_at=closed_at)
        .execution_options(synchronize_session=False))
    won = result.rowcount == 1  # type: ignore[attr-defined]
    db.session.refresh(attempt)
    if not won:
        return False
    # Grading reads the paper and its versions in one Core query and writes the marks in one
    # executemany: a crowd submits in the last seconds of a sitting.
    rows = db.session.execute(
        sa.select(_Q.id, _Q.question_id, _Q.response, _Q.max_points,
                  *(_V[name] for name in CONTENT_COLUMNS))
        .select_from(_ITEMS.join(_VERSIONS, _V.id == _Q.question_version_id))
        .where(_Q.attempt_id == attempt.id).order_by(_Q.position)).all()
    marks = []
    for row in rows:
        graded = rules.grade_item(version_content(row), row.response, row.max_points)
        marks.append({"item_id": row.id, "mark_correct": graded.correct,
                      "mark_points": graded.points})
    if marks:
        db.session.execute(
            sa.update(_ITEMS).where(_Q.id == sa.bindparam("item_id"))
            .values(correct=sa.bindparam("mark_correct"), points=sa.bindparam("mark_points")),
            marks)
    _expire_loaded_paper(attempt)
    attempt.score = rules.score_of(m["mark_points"] for m in marks)
    attempt.passed = rules.has_passed(attempt.score, attempt.exam.pass_mark)
    db.session.flush()
    record_wrong_answers(attempt.user_id, [
        (row.question_id, bool(mark["mark_correct"]))
        for row, mark in zip(rows, marks, strict=True) if row.response is not None], now)
    if attempt.passed and attempt.exam.mode == FORMAL:
        announce_pass(attempt, closed_at)
    elif ends_failed_sitting(attempt):
        restart_training(attempt)
    return True


def _expire_loaded_paper(attempt: ExamAttempt) -> None:
    """Paper rows this session loaded before a Core update reload with the new marks."""
    if "questions" not in sa.inspect(attempt).unloaded:
        for item in attempt.questions:
            db.session.expire(item)


def ends_failed_sitting(attempt: ExamAttempt) -> bool:
    """A failed formal attempt that used up its sitting (the make-up, with two attempts) of an
    exam with a prerequisite course: the worker must train again (see rules.eligibility)."""
    exam = attempt.exam
    return (not attempt.passed and exam.mode == FORMAL and bool(exam.prerequisite_course)
            and attempt.number % max(1, exam.max_attempts) == 0)


def restart_training(attempt: ExamAttempt) -> None:
    """Clear the worker's progress on the prerequisite course so they watch it again (a new
    training round; the hours ledger is kept). The courses area does it."""
    from trainer.courses.services import restart_course

    restart_course(attempt.user_id, attempt.exam.prerequisite_course or "",
                   reason=f"exam {attempt.exam_id} attempt {attempt.id} failed the sitting",
                   actor=attempt.user)


def announce_pass(attempt: ExamAttempt, passed_at: dt.datetime) -> None:
    """Send ``exam_passed`` in a savepoint: what receivers write commits with the result, but a
    failing receiver never blocks the result itself (it is logged; the pass stays recorded on
    the attempt, so the certificate can be issued later)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with db.session.begin_nested():
            exam_passed.send(app, user_id=attempt.user_id,
                             certificate_type=attempt.exam.certificate_type,
                             passed_on=passed_at.astimezone(local_zone()).date(),
                             attempt_id=attempt.id, score=int(round(attempt.score or 0)))
    except Exception:
        app.logger.exception("exam_passed receiver failed for attempt %s", attempt.id)


def close_overdue(now: dt.datetime) -> int:
    """Close every attempt past deadline + extra time + grace (the cron sweep)."""
    candidates = db.session.scalars(sa.select(ExamAttempt).where(
        ExamAttempt.status == IN_PROGRESS, ExamAttempt.deadline < now)
        .order_by(ExamAttempt.id)).all()
    return sum(1 for attempt in candidates if close_if_overdue(attempt, now))


def grant_extra_time(attempt: ExamAttempt, seconds: int, actor: User, reason: str = "") -> None:
    """Give one worker more time on an attempt in progress (audited)."""
    if attempt.status != IN_PROGRESS:
        raise AttemptClosed(_l("This attempt is closed."))
    before = attempt.extra_seconds
    attempt.extra_seconds = max(0, before + seconds)
    db.session.flush()
    audit.record(actor, "exam.extra_time", "exam_attempt", attempt.id,
                 before={"extra_seconds": before},
                 after={"extra_seconds": attempt.extra_seconds, "reason": reason},
                 employer_id=attempt.user.employer_id)  # the worker's safety officer sees it


# --- saving answers ----------------------------------------------------------------------


@dataclass
class SaveResult:
    """What a save left in the database for one question of an attempt."""

    item_id: int
    question_id: int
    applied: bool  # False: a newer answer (higher seq) was there already and was kept
    response: Any  # as stored: original option indexes, true/false or None
    option_order: list[int]
    client_seq: int | None
    saved_at: dt.datetime | None
    deadline: dt.datetime  # the attempt's effective deadline (extra time included)
    mode: str

    @property
    def shown_response(self) -> Any:
        return rules.to_shown(self.option_order, self.response)


def _normalise(kind: str, option_count: int, option_order: list[int], raw: Any) -> Any:
    """A response as sent (shown option indexes) -> stored form (original indexes)."""
    if raw is None:
        return None
    try:
        shown = get_type(kind).normalise_response(raw, option_count=option_count or None)
    except (ValueError, TypeError, UnknownQuestionType) as exc:
        raise InvalidResponse(_l("That is not an answer to this question.")) from exc
    if isinstance(shown, list) and kind == "true_false":
        raise InvalidResponse(_l("That is not an answer to this question."))
    try:
        return rules.to_original(option_order, shown)
    except ValueError as exc:
        raise InvalidResponse(_l("That is not an answer to this question.")) from exc


_ATTEMPTS = cast(sa.Table, ExamAttempt.__table__)
_EXAMS = cast(sa.Table, Exam.__table__)
_ITEMS = cast(sa.Table, AttemptQuestion.__table__)
_VERSIONS = cast(sa.Table, QuestionVersion.__table__)
_A, _E, _Q, _V = _ATTEMPTS.c, _EXAMS.c, _ITEMS.c, _VERSIONS.c
_ITEM_COLUMNS = (_Q.id.label("item_id"), _Q.option_order, _Q.response, _Q.client_seq,
                 _Q.saved_at)


@dataclass(frozen=True)
class _PaperItem:
    item_id: int
    version_id: int
    option_order: list[int]
    type: str
    option_count: int


@dataclass(frozen=True)
class _Paper:
    """What a save needs to know of an attempt that never changes once it has started (the
    extra time and the exam's grace period are re-checked by the save's own statement, and so
    is the start time: on SQLite a deleted attempt's id can be given to a new one)."""

    user_id: int
    started_at: dt.datetime
    deadline: dt.datetime
    extra_seconds: int
    grace_seconds: int
    mode: str
    items: dict[int, _PaperItem]  # by question id


class _PaperCache:
    """Papers of attempts this process has saved answers to, most recent first, per engine
    (the tests run many databases in one process). Bounded: about 10 KB a paper."""

    size = 1000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary[Any, OrderedDict[int, _Paper]] = (
            weakref.WeakKeyDictionary())

    def get(self, engine: Any, attempt_id: int) -> _Paper | None:
        with self._lock:
            papers = self._by_engine.get(engine)
            paper = papers.get(attempt_id) if papers is not None else None
            if paper is not None and papers is not None:
                papers.move_to_end(attempt_id)
            return paper

    def clear(self) -> None:
        with self._lock:
            self._by_engine.clear()

    def put(self, engine: Any, attempt_id: int, paper: _Paper) -> None:
        with self._lock:
            papers = self._by_engine.setdefault(engine, OrderedDict())
            papers[attempt_id] = paper
            papers.move_to_end(attempt_id)
            while len(papers) > self.size:
                papers.popitem(last=False)


_papers = _PaperCache()


def forget_papers() -> None:
    """Empty this process's paper cache (the tests do, when they empty the database)."""
    _papers.clear()


def save_answer(attempt_id: int, user_id: int, question_id: int, raw: Any, seq: int | None,
                now: dt.datetime) -> SaveResult | None:
    """Store one answer of ``user_id``'s attempt; None when there is no such attempt of theirs.

    The hot path of an exam (every tap on a phone), so it is written in Core. Once this process
    knows the attempt's paper, a save with a sequence number is one conditional update that
    also checks, under a share lock on the attempt (PostgreSQL), that the attempt is still
    open and its extra time and grace period are the ones the deadline was checked against.
    Anything else (first save of an attempt here, closed attempt, newer answer kept, extra
    time granted) takes the full path: a read of attempt, exam, paper row and version under
    the share lock, then the update. A submit's FOR UPDATE waits for a save's share lock, and
    a save waits for a submit in progress; SQLite serialises writers, and the update itself
    re-checks that the attempt is open.

    Raises AttemptClosed, DeadlinePassed (the caller rolls back, closes the attempt with
    close_if_overdue and commits), NotInAttempt, InvalidResponse."""
    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    paper = _papers.get(connection.engine, attempt_id)
    item = paper.items.get(question_id) if paper is not None else None
    if (paper is not None and item is not None and paper.user_id == user_id and seq is not None
            and not rules.is_overdue(paper.deadline + dt.timedelta(seconds=paper.extra_seconds),
                                     paper.grace_seconds, now)):
        response = _normalise(item.type, item.option_count, item.option_order, raw)
        if connection.execute(_known_paper_update(postgresql), {
                "a_id": attempt_id, "a_user": user_id, "a_started": paper.started_at,
                "a_extra": paper.extra_seconds, "e_grace": paper.grace_seconds,
                "q_item": item.item_id, "q_question": question_id,
                "q_version": item.version_id, "q_seq": seq, "q_response": response,
                "q_saved_at": now}).rowcount == 1:
            return SaveResult(item.item_id, question_id, True, response, item.option_order,
                              seq, now, paper.deadline
                              + dt.timedelta(seconds=paper.extra_seconds), paper.mode)
    return _save_answer_in_full(connection, postgresql, attempt_id, user_id, question_id, raw,
                                seq, now)


@functools.cache
def _known_paper_update(postgresql: bool) -> Any:
    """The one-statement save, built once (building it per call cost a tenth of a save)."""
    unchanged = (sa.select(_A.id).select_from(_ATTEMPTS.join(_EXAMS, _E.id == _A.exam_id))
                 .where(_A.id == sa.bindparam("a_id"), _A.user_id == sa.bindparam("a_user"),
                        _A.started_at == sa.bindparam("a_started"), _A.status == IN_PROGRESS,
                        _A.extra_seconds == sa.bindparam("a_extra"),
                        _E.grace_seconds == sa.bindparam("e_grace")))
    if postgresql:
        unchanged = unchanged.with_for_update(read=True, of=_ATTEMPTS)
    return (sa.update(_ITEMS)
            .where(_Q.id == sa.bindparam("q_item"), _Q.attempt_id == sa.bindparam("a_id"),
                   _Q.question_id == sa.bindparam("q_question"),
                   _Q.question_version_id == sa.bindparam("q_version"),
                   sa.or_(_Q.client_seq.is_(None), _Q.client_seq < sa.bindparam("q_seq")),
                   unchanged.exists())
            .values(response=sa.bindparam("q_response", type_=_Q.response.type),
                    saved_at=sa.bindparam("q_saved_at", type_=_Q.saved_at.type),
                    client_seq=sa.bindparam("q_seq")))


def _answer_update(item_id: int, response: Any, seq: int | None, now: dt.datetime) -> Any:
    """Store the response unless an answer with a newer sequence number is there."""
    statement = sa.update(_ITEMS).where(_Q.id == item_id)
    values: dict[str, Any] = {"response": response, "saved_at": now}
    if seq is not None:
        statement = statement.where(sa.or_(_Q.client_seq.is_(None), _Q.client_seq < seq))
        values["client_seq"] = seq
    return statement.values(**values)


def _save_answer_in_full(connection: Any, postgresql: bool, attempt_id: int, user_id: int,
                         question_id: int, raw: Any, seq: int | None,
                         now: dt.datetime) -> SaveResult | None:
    query = (sa.select(_A.user_id, _A.started_at, _A.status, _A.deadline, _A.extra_seconds,
                       _E.grace_seconds, _E.mode, *_ITEM_COLUMNS, _V.type, _V.options)
             .select_from(_ATTEMPTS.join(_EXAMS, _E.id == _A.exam_id)
                          .outerjoin(_ITEMS, sa.and_(_Q.attempt_id == _A.id,
                                                     _Q.question_id == question_id))
                          .outerjoin(_VERSIONS, _V.id == _Q.question_version_id))
             .where(_A.id == attempt_id))
    if postgresql:
        query = query.with_for_update(read=True, of=_ATTEMPTS)
    row = connection.execute(query).first()
    if row is None or row.user_id != user_id:
        return None
    if row.status != IN_PROGRESS:
        raise AttemptClosed(_l("This attempt is closed; the answer was not saved."))
    deadline = row.deadline + dt.timedelta(seconds=row.extra_seconds or 0)
    if rules.is_overdue(deadline, row.grace_seconds, now):
        raise DeadlinePassed(_l("The time is up; the answer was not saved."))
    if row.item_id is None:
        raise NotInAttempt(_l("This question is not part of the attempt."))
    option_order = list(row.option_order or [])
    response = _normalise(row.type, len(row.options or []), option_order, raw)
    _remember_paper(connection, attempt_id, row)
    still_open = sa.exists().where(_A.id == attempt_id, _A.status == IN_PROGRESS)
    if connection.execute(_answer_update(row.item_id, response, seq, now)
                          .where(still_open)).rowcount == 1:
        return SaveResult(row.item_id, question_id, True, response, option_order,
                          seq if seq is not None else row.client_seq, now, deadline, row.mode)
    # Not applied: the attempt closed in between (SQLite), or a newer answer is kept.
    if connection.execute(sa.select(_A.status).where(_A.id == attempt_id)).scalar() \
            != IN_PROGRESS:
        raise AttemptClosed(_l("This attempt is closed; the answer was not saved."))
    kept = connection.execute(sa.select(*_ITEM_COLUMNS).where(_Q.id == row.item_id)).one()
    return SaveResult(row.item_id, question_id, False, kept.response, option_order,
                      kept.client_seq, kept.saved_at, deadline, row.mode)


def _remember_paper(connection: Any, attempt_id: int, row: Any) -> None:
    """Cache the attempt's paper for the one-statement save (its rows and versions never
    change; extra time and grace are re-checked by every save)."""
    if row.extra_seconds is None:
        return
    known = _papers.get(connection.engine, attempt_id)
    if known is not None and (known.user_id, known.started_at) == (row.user_id, row.started_at):
        # The same attempt (saves without a seq, extra time granted): its rows are known.
        _papers.put(connection.engine, attempt_id, dataclasses.replace(
            known, extra_seconds=row.extra_seconds, grace_seconds=row.grace_seconds))
        return
    items = {r.question_id: _PaperItem(r.id, r.question_version_id, list(r.option_order or []),
                                       r.type, len(r.options or []))
             for r in connection.execute(
                 sa.select(_Q.question_id, _Q.id, _Q.question_version_id, _Q.option_order,
                           _V.type, _V.options)
                 .select_from(_ITEMS.join(_VERSIONS, _V.id == _Q.question_version_id))
                 .where(_Q.attempt_id == attempt_id))}
    _papers.put(connection.engine, attempt_id, _Paper(
        row.user_id, row.started_at, row.deadline, row.extra_seconds, row.grace_seconds, row.mode, items))


# --- the wrong-answer book ---------------------------------------------------------------


def record_wrong_answers(user_id: int, results: Sequence[tuple[int, bool]],
                         now: dt.datetime) -> None:
    """Update the book with answered questions: (question_id, correct).

    In a savepoint: when another transaction of the same worker (another exam finishing at the
    same moment) added one of these entries first, the insert fails, and the update is done
    again over the committed rows."""
    if not results:
        return
    for attempt_number in (1, 2):
        try:
            with db.session.begin_nested():
                _record_wrong_answers(user_id, results, now)
            return
        except IntegrityError:
            if attempt_number == 2:
                raise


def _record_wrong_answers(user_id: int, results: Sequence[tuple[int, bool]],
                          now: dt.datetime) -> None:
    book = cast(sa.Table, WrongAnswer.__table__)
    w = book.c
    ids = [qid for qid, _correct in results]
    entries = {row.question_id: row for row in db.session.execute(
        sa.select(w.id, w.question_id, w.times_wrong, w.right_streak, w.cleared,
                  w.last_wrong_at).where(w.user_id == user_id, w.question_id.in_(ids)))}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for question_id, correct in results:
        entry = entries.get(question_id)
        state = (rules.WrongEntry(entry.times_wrong, entry.right_streak, entry.cleared)
                 if entry else None)
        new = rules.after_answer(state, correct)
        if new is None or new == state:
            continue
        values = {"times_wrong": new.times_wrong, "right_streak": new.right_streak,
                  "cleared": new.cleared}
        if entry is None:
            inserts.append({"user_id": user_id, "question_id": question_id,
                            "last_wrong_at": now, **values})
        else:
            updates.append({"entry_id": entry.id,
                            "last_wrong_at_": entry.last_wrong_at if correct else now,
                            **{f"{k}_": v for k, v in values.items()}})
    if inserts:
        db.session.execute(sa.insert(book), inserts)
    if updates:
        db.session.execute(
            sa.update(book).where(w.id == sa.bindparam("entry_id")).values(
                times_wrong=sa.bindparam("times_wrong_"),
                right_streak=sa.bindparam("right_streak_"),
                cleared=sa.bindparam("cleared_"), last_wrong_at=sa.bindparam("last_wrong_at_")),
            updates)
    # Entries this session loaded before (the drill page's) reload with the new counts.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, WrongAnswer) and obj.__dict__.get("user_id") == user_id:
            db.session.expire(obj)


def wrong_book(user_id: int) -> list[WrongAnswer]:
    return list(db.session.scalars(
        sa.select(WrongAnswer).where(WrongAnswer.user_id == user_id,
                                     WrongAnswer.cleared.is_(False))
        .order_by(WrongAnswer.last_wrong_at.desc(), WrongAnswer.id.desc())))


def drill_answer(entry: WrongAnswer, raw: Any, now: dt.datetime) -> tuple[bool, QuestionVersion]:
    """Answer a question from the book (original option order); returns (correct, version)."""
    version = entry.question.current_version
    if version is None:
        raise NotInAttempt(_l("This question no longer exists."))
    if raw is None:
        raise InvalidResponse(_l("Choose an answer."))
    try:
        response = get_type(version.type).normalise_response(
            raw, option_count=len(version.options or []) or None)
    except (ValueError, TypeError, UnknownQuestionType) as exc:
        raise InvalidResponse(_l("That is not an answer to this question.")) from exc
    correct = rules.grade_item(version.content(), response, 1).correct
    record_wrong_answers(entry.user_id, [(entry.question_id, correct)], now)
    return correct, version


# --- what a taker sees -------------------------------------------------------------------


def shown_options(options: Sequence[str] | None, option_order: Sequence[int] | None) -> list[str]:
    """A version's options in the order this paper shows them."""
    options = list(options or [])
    order = option_order or range(len(options))
    return [options[i] for i in order if 0 <= i < len(options)]


def question_json(item: AttemptQuestion) -> dict[str, Any]:
    version = item.version
    return {"id": item.question_id, "position": item.position, "type": version.type,
            "stem": version.stem, "options": shown_options(version.options, item.option_order),
            "points": item.max_points}


def feedback_json(item: AttemptQuestion) -> dict[str, Any]:
    """Whether the saved answer is right, the right answer (shown order) and the explanation."""
    version = item.version
    graded = rules.grade_item(version.content(), item.response, item.max_points)
    return {"correct": graded.correct, "points": graded.points,
            "answer": rules.to_shown(item.option_order or [], version.answer),
            "explanation": version.explanation}


def attempt_json(attempt: ExamAttempt, now: dt.datetime, questions: bool = True) -> dict[str, Any]:
    exam = attempt.exam
    data: dict[str, Any] = {
        "attempt_id": attempt.id, "exam_id": exam.id, "exam_title": exam.title,
        "mode": exam.mode, "number": attempt.number, "status": attempt.status,
        "started_at": iso(attempt.started_at), "deadline": iso(attempt.effective_deadline),
        "seconds_left": (rules.seconds_left(attempt.effective_deadline, now)
                         if attempt.status == IN_PROGRESS else 0),
        "grace_seconds": exam.grace_seconds, "server_time": iso(now),
        "server_time_ms": int(now.timestamp() * 1000),
        "score": attempt.score, "passed": attempt.passed, "pass_mark": exam.pass_mark,
        "submitted_at": iso(attempt.submitted_at),
    }
    if not questions:
        return data
    if attempt.status == IN_PROGRESS and not exam.is_practice:
        # Starting and resuming (a crowd at the start of a sitting): no feedback or review to
        # show, so the paper comes from one Core query.
        rows = _paper_in_progress(attempt.id)
    else:
        rows = _paper_with_results(attempt)
    data["questions"] = rows
    data["answers"] = {str(row["id"]): row["response"] for row in rows
                       if row["response"] is not None}
    return data


def _paper_in_progress(attempt_id: int) -> list[dict[str, Any]]:
    query = (sa.select(_Q.question_id, _Q.position, _Q.option_order, _Q.max_points, _Q.response,
                       _Q.client_seq, _Q.saved_at, _V.type, _V.stem, _V.options)
             .select_from(_ITEMS.join(_VERSIONS, _V.id == _Q.question_version_id))
             .where(_Q.attempt_id == attempt_id).order_by(_Q.position))
    rows = []
    for row in db.session.execute(query):
        rows.append({"id": row.question_id, "position": row.position, "type": row.type,
                     "stem": row.stem, "options": shown_options(row.options, row.option_order),
                     "points": row.max_points,
                     "response": rules.to_shown(row.option_order or [], row.response),
                     "seq": row.client_seq, "saved_at": iso(row.saved_at)})
    return rows


def _paper_with_results(attempt: ExamAttempt) -> list[dict[str, Any]]:
    exam = attempt.exam
    loaded = preload_versions(attempt)  # noqa: F841  (kept alive while serialising)
    review = attempt.status != IN_PROGRESS and (exam.review_allowed or exam.is_practice)
    rows = []
    for item in attempt.questions:
        row = question_json(item)
        row["response"] = rules.to_shown(item.option_order or [], item.response)
        row["seq"] = item.client_seq
        row["saved_at"] = iso(item.saved_at)
        if exam.is_practice and item.response is not None:
            row["feedback"] = feedback_json(item)
        if review:
            row["correct"] = item.correct
            row["points_awarded"] = item.points
            row["answer"] = rules.to_shown(item.option_order or [], item.version.answer)
            row["explanation"] = item.version.explanation
        rows.append(row)
    return rows


def preload_versions(attempt: ExamAttempt) -> list[QuestionVersion]:
    """Load the paper's question versions in one query; while the caller holds the returned
    list, item.version comes from the session's (weak) identity map, not one query each."""
    ids = [item.question_version_id for item in attempt.questions]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(QuestionVersion)
                                   .where(QuestionVersion.id.in_(ids))))


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


# --- the worker's exam list --------------------------------------------------------------


@dataclass
class ExamRow:
    exam: Exam
    eligibility: rules.Eligibility
    active: ExamAttempt | None
    last: ExamAttempt | None
    attempts: int


def my_exams(user: User, now: dt.datetime) -> list[ExamRow]:
    """Every exam, with what this worker may do (open exams first)."""
    exams = db.session.scalars(sa.select(Exam).order_by(Exam.mode, Exam.title, Exam.id)).all()
    by_exam: dict[int, list[ExamAttempt]] = {}
    for attempt in db.session.scalars(sa.select(ExamAttempt).where(
            ExamAttempt.user_id == user.id).order_by(ExamAttempt.number)):
        by_exam.setdefault(attempt.exam_id, []).append(attempt)
    rows = []
    for exam in exams:
        attempts = by_exam.get(exam.id, [])
        for attempt in attempts:
            close_if_overdue(attempt, now)
        active = next((a for a in attempts if a.status == IN_PROGRESS), None)
        closed = [a for a in attempts if a.status != IN_PROGRESS]
        rows.append(ExamRow(exam, check_eligibility(exam, user.id, now, attempts), active,
                            closed[-1] if closed else None, len(attempts)))
    rows.sort(key=lambda r: (not r.eligibility.allowed, r.exam.mode != FORMAL, r.exam.title))
    return rows
