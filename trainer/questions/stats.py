"""Per-question statistics over exam responses, as in Moodle's quiz item analysis.

``item_analysis(records)`` is pure: it takes response records and returns, per question,

* **facility index**: the mean score on the question as a fraction of its marks (0..1; the
  share who got it right, for all-or-nothing questions). Moodle shows it as a percentage.
* **discrimination index**: Pearson's correlation between the score on the question and the
  score on the rest of the paper (the attempt's score minus this question's), over the
  attempts that showed the question; -1..1, None when either side does not vary. Moodle
  shows it ×100. Low or negative values mean strong candidates did no better on it than weak
  ones: a wrong key, an ambiguous stem or a trick question.
* **share choosing each option** (original option order, whatever order the paper showed),
  or true/false, and the share who gave no answer.
* **needs checking**: with at least ``min_responses`` responses, facility < 0.2 (almost nobody
  gets it: wrong key?) or > 0.95 (everybody does: too easy to tell anyone apart), or
  discrimination < 0.2 (when it can be computed: both sides vary).

``load_responses(bank_id)`` is the adapter reading the exams area's tables
(``attempt_questions``: response in original option indexes or true/false, ``correct``,
``points`` awarded out of ``max_points``; joined to ``exam_attempts``: ``score``, ``status``;
submitted or expired attempts only); it returns no records while those tables do not exist.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_RESPONSES = 10
LOW_FACILITY = 0.2
HIGH_FACILITY = 0.95
LOW_DISCRIMINATION = 0.2
FINISHED = ("submitted", "expired")


@dataclass(frozen=True)
class ResponseRecord:
    """One question as answered in one finished attempt.

    ``fraction`` is the score on the question as a share of its marks (0..1);
    ``points`` what it earned and ``attempt_score`` the attempt's total, in the same unit;
    ``response`` the original option indexes chosen, True/False, or None when unanswered.
    """

    attempt_id: int
    question_id: int
    fraction: float
    points: float
    attempt_score: float
    response: list[int] | bool | None


@dataclass
class ItemStats:
    question_id: int
    responses: int
    facility: float | None
    discrimination: float | None
    option_shares: dict[int, float] = field(default_factory=dict)
    true_share: float | None = None
    false_share: float | None = None
    unanswered_share: float = 0.0
    reasons: list[str] = field(default_factory=list)

    @property
    def needs_checking(self) -> bool:
        return bool(self.reasons)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when there are fewer than two pairs or either side is constant."""
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def analyse_item(question_id: int, records: Sequence[ResponseRecord],
                 min_responses: int = MIN_RESPONSES) -> ItemStats:
    n = len(records)
    if n == 0:
        return ItemStats(question_id, 0, None, None)
    fractions = [min(1.0, max(0.0, r.fraction)) for r in records]
    facility = sum(fractions) / n
    rest = [r.attempt_score - r.points for r in records]
    discrimination = pearson(fractions, rest)
    chosen: dict[int, int] = {}
    trues = falses = unanswered = 0
    for record in records:
        response = record.response
        if response is None or response == []:
            unanswered += 1
        elif isinstance(response, bool):
            if response:
                trues += 1
            else:
                falses += 1
        else:
            for index in set(response):
                chosen[index] = chosen.get(index, 0) + 1
    stats = ItemStats(question_id, n, facility, discrimination,
                      option_shares={i: c / n for i, c in sorted(chosen.items())},
                      unanswered_share=unanswered / n)
    if trues or falses:
        stats.true_share, stats.false_share = trues / n, falses / n
    if n >= min_responses:
        if facility < LOW_FACILITY:
            stats.reasons.append("hard")
        elif facility > HIGH_FACILITY:
            stats.reasons.append("easy")
        if discrimination is not None and discrimination < LOW_DISCRIMINATION:
            stats.reasons.append("discrimination")
    return stats


def item_analysis(records: Iterable[ResponseRecord],
                  min_responses: int = MIN_RESPONSES) -> dict[int, ItemStats]:
    """Statistics per question id. An attempt counts once per question (the last record)."""
    by_question: dict[int, dict[int, ResponseRecord]] = {}
    for record in records:
        by_question.setdefault(record.question_id, {})[record.attempt_id] = record
    return {qid: analyse_item(qid, list(rows.values()), min_responses)
            for qid, rows in sorted(by_question.items())}


def parse_response(raw: Any) -> list[int] | bool | None:
    """A stored response (JSON text or value) as original option indexes or a bool."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return [raw]
    if isinstance(raw, list):
        return [int(x) for x in raw if isinstance(x, int) and not isinstance(x, bool)]
    if isinstance(raw, dict):  # {"answer": ...} shapes
        for key in ("answer", "response", "selected"):
            if key in raw:
                return parse_response(raw[key])
    return None


# --- the adapter over the exams area's tables ------------------------------------------------


def load_responses(bank_id: int) -> list[ResponseRecord]:
    """Response records of finished attempts for the questions of one bank."""
    import sqlalchemy as sa

    from trainer.db import db
    from trainer.questions.models import Question

    inspector = sa.inspect(db.engine)
    if not (inspector.has_table("attempt_questions") and inspector.has_table("exam_attempts")):
        return []
    has_max = any(c["name"] == "max_points" for c in inspector.get_columns("attempt_questions"))
    # Lightweight table clauses: the exams area owns these tables (its models need not load).
    columns = [sa.column("attempt_id"), sa.column("question_id"), sa.column("response", sa.JSON),
               sa.column("correct"), sa.column("points")]
    if has_max:
        columns.append(sa.column("max_points"))
    aq = sa.table("attempt_questions", *columns)
    ea = sa.table("exam_attempts", sa.column("id"), sa.column("score"), sa.column("status"))
    rows = db.session.execute(
        sa.select(aq.c.attempt_id, aq.c.question_id, aq.c.response, aq.c.correct,
                  aq.c.points, aq.c.max_points if has_max else sa.null(), ea.c.score)
        .join(ea, ea.c.id == aq.c.attempt_id)
        .join(Question, Question.id == aq.c.question_id)
        .where(Question.bank_id == bank_id, ea.c.status.in_(FINISHED)))
    records = []
    for attempt_id, question_id, response, correct, points, max_points, score in rows:
        earned = float(points or 0)
        fraction = earned / float(max_points) if max_points else (1.0 if correct else 0.0)
        records.append(ResponseRecord(
            attempt_id=int(attempt_id), question_id=int(question_id), fraction=fraction,
            points=earned, attempt_score=float(score or 0), response=parse_response(response)))
    return records
