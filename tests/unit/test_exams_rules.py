"""Exam rules: blueprints, drawing papers, option order, time, scoring, make-ups, wrong book."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.exams import rules
from trainer.exams.rules import (
    BlueprintError,
    BlueprintRow,
    Candidate,
    NotEnoughQuestions,
    PastAttempt,
    WrongEntry,
)
from trainer.questions.types import QuestionContent

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def pool(kind: str, n: int, start: int = 1, category: str = "", options: int = 4) -> list[Candidate]:
    return [Candidate(i, i * 10, kind, category, 0 if kind == "true_false" else options)
            for i in range(start, start + n)]


# --- blueprint ---------------------------------------------------------------------------


def test_parse_blueprint_reads_rows_and_defaults_the_category():
    rows = rules.parse_blueprint([
        {"type": "true_false", "count": 40, "points": 1},
        {"type": "single", "category": " 电工 ", "count": 20, "points": 2.0},
        {"type": "multiple", "category": None, "count": 10, "points": 2},
    ])
    assert rows == [BlueprintRow("true_false", "", 40, 1.0), BlueprintRow("single", "电工", 20, 2.0),
                    BlueprintRow("multiple", "", 10, 2.0)]
    assert rules.total_points(rows) == 100
    assert rules.blueprint_errors(rows, 0) == []
    assert rules.question_total(rows, 5) == 70
    assert rules.parse_blueprint(None) == []


@pytest.mark.parametrize("raw", [
    "rows", [1], [{"type": "essay", "count": 1, "points": 100}],
    [{"type": "single", "count": 0, "points": 100}],
    [{"type": "single", "count": True, "points": 100}],
    [{"type": "single", "count": 1.5, "points": 100}],
    [{"type": "single", "count": 1, "points": 0}],
    [{"type": "single", "count": 1, "points": "100"}],
    [{"type": "single", "count": 1, "points": float("nan")}],
    [{"type": "single", "count": 1, "points": 100, "category": 5}],
    [{"type": None, "count": 1, "points": 100}],
])
def test_parse_blueprint_refuses_bad_rows(raw):
    with pytest.raises(BlueprintError) as info:
        rules.parse_blueprint(raw)
    assert info.value.messages


def test_parse_blueprint_lists_every_bad_row():
    with pytest.raises(BlueprintError) as info:
        rules.parse_blueprint([{"type": "x", "count": 1, "points": 1},
                               {"type": "single", "count": -1, "points": 1}])
    assert len(info.value.messages) == 2


def test_blueprint_must_total_100_points():
    rows = [BlueprintRow("single", "", 10, 5)]
    errors = rules.blueprint_errors(rows, 0)
    assert len(errors) == 1 and "50" in str(errors[0])
    assert rules.blueprint_errors([BlueprintRow("single", "", 3, 100 / 3)], 0) == []


def test_no_blueprint_needs_a_sane_question_count():
    assert rules.blueprint_errors([], 10) == []
    assert rules.blueprint_errors([], 0)
    assert rules.blueprint_errors([], rules.MAX_QUESTIONS + 1)


# --- drawing -----------------------------------------------------------------------------


def test_draw_follows_the_blueprint_in_order_with_its_points():
    candidates = pool("true_false", 10) + pool("single", 10, start=100) + pool("multiple", 5, 200)
    rows = [BlueprintRow("true_false", "", 4, 10), BlueprintRow("single", "", 3, 10),
            BlueprintRow("multiple", "", 3, 10)]
    paper = rules.draw_paper(candidates, rows, 0, random.Random(1))
    assert [p.position for p in paper] == list(range(1, 11))
    kinds = {c.question_id: c.type for c in candidates}
    assert [kinds[p.question_id] for p in paper] == ["true_false"] * 4 + ["single"] * 3 + [
        "multiple"] * 3
    assert len({p.question_id for p in paper}) == 10
    assert sum(p.points for p in paper) == 100
    for item in paper:
        assert item.version_id == item.question_id * 10
        if kinds[item.question_id] == "true_false":
            assert item.option_order == []
        else:
            assert sorted(item.option_order) == [0, 1, 2, 3]


def test_draw_is_reproducible_with_the_same_seed_and_varies_otherwise():
    candidates = pool("single", 50)
    one = rules.draw_paper(candidates, [], 10, random.Random(7))
    two = rules.draw_paper(list(reversed(candidates)), [], 10, random.Random(7))
    assert one == two  # independent of the order the database returned
    papers = {tuple(p.question_id for p in rules.draw_paper(candidates, [], 10, random.Random(s)))
              for s in range(20)}
    assert len(papers) > 15
    orders = {tuple(rules.draw_paper(candidates, [], 1, random.Random(s))[0].option_order)
              for s in range(40)}
    assert len(orders) > 5  # options are shuffled


def test_without_blueprint_points_are_equal_and_total_100():
    paper = rules.draw_paper(pool("single", 5) + pool("true_false", 5, 10), [], 3,
                             random.Random(0))
    assert len(paper) == 3
    assert sum(p.points for p in paper) == pytest.approx(100)


def test_specific_categories_are_drawn_before_catch_all_rows():
    candidates = pool("single", 3, category="电工/低压") + pool("single", 3, 10, category="焊接")
    rows = [BlueprintRow("single", "", 3, 20), BlueprintRow("single", "电工", 3, 40 / 3)]
    for seed in range(20):
        paper = rules.draw_paper(candidates, rows, 0, random.Random(seed))
        assert [p.question_id for p in paper[3:]] != []
        assert {p.question_id for p in paper[3:]} == {1, 2, 3}
        assert {p.question_id for p in paper[:3]} == {10, 11, 12}


def test_category_matching_is_by_path():
    assert rules.category_matches("", "anything")
    assert rules.category_matches("电工", "电工")
    assert rules.category_matches("电工", "电工/低压")
    assert not rules.category_matches("电工", "电工作业")
    assert not rules.category_matches("电工/低压", "电工")


def test_not_enough_questions_names_the_row():
    rows = [BlueprintRow("multiple", "焊接", 5, 20)]
    with pytest.raises(NotEnoughQuestions) as info:
        rules.draw_paper(pool("multiple", 4, category="焊接"), rows, 0, random.Random(0))
    assert (info.value.wanted, info.value.available) == (5, 4)
    assert "焊接" in str(info.value.message())
    with pytest.raises(NotEnoughQuestions) as info:
        rules.draw_paper(pool("single", 2), [], 3, random.Random(0))
    assert "3" in str(info.value.message())


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 30), st.integers(0, 30))
def test_draw_never_repeats_a_question(seed, singles, extra):
    candidates = pool("single", singles + extra)
    paper = rules.draw_paper(candidates, [BlueprintRow("single", "", singles, 100 / singles)], 0,
                             random.Random(seed))
    ids = [p.question_id for p in paper]
    assert len(ids) == len(set(ids)) == singles


# --- option order ------------------------------------------------------------------------


def test_responses_map_between_shown_and_original_order():
    order = [2, 0, 3, 1]  # shown A is original 2, ...
    assert rules.to_original(order, [0, 3]) == [1, 2]
    assert rules.to_shown(order, [1, 2]) == [0, 3]
    assert rules.to_original([], True) is True
    assert rules.to_shown([], False) is False
    assert rules.to_original(order, None) is None
    for bad in ([4], [-1], [True], ["1"]):
        with pytest.raises(ValueError):
            rules.to_original(order, bad)


@given(st.permutations(list(range(6))), st.sets(st.integers(0, 5)))
def test_shown_and_original_round_trip(order, chosen):
    shown = sorted(chosen)
    assert rules.to_shown(order, rules.to_original(order, shown)) == shown


# --- time --------------------------------------------------------------------------------


def test_seconds_left_and_saving_window():
    deadline = rules.deadline_for(NOW, 600)
    assert deadline == at(10)
    assert rules.seconds_left(deadline, NOW) == 600
    assert rules.seconds_left(deadline, at(9.5)) == 30
    assert rules.seconds_left(deadline, at(11)) == 0
    assert rules.seconds_left(deadline, NOW + dt.timedelta(milliseconds=1500)) == 598.5
    assert rules.can_save(deadline, 30, at(10))
    assert rules.can_save(deadline, 30, at(10.5))
    assert not rules.can_save(deadline, 30, at(10.5) + dt.timedelta(microseconds=1))
    assert rules.is_overdue(deadline, 0, at(10) + dt.timedelta(seconds=1))
    assert not rules.is_overdue(deadline, 0, at(10))


# --- scoring -----------------------------------------------------------------------------


def test_grade_items_through_the_type_registry():
    single = QuestionContent(type="single", stem="?", options=["a", "b", "c"], answer=[1])
    multiple = QuestionContent(type="multiple", stem="?", options=["a", "b", "c"], answer=[0, 2])
    tf = QuestionContent(type="true_false", stem="?", answer=False)
    assert rules.grade_item(single, [1], 2) == rules.ItemGrade(True, 2)
    assert rules.grade_item(single, [0], 2) == rules.ItemGrade(False, 0)
    assert rules.grade_item(single, None, 2) == rules.ItemGrade(False, 0)
    assert rules.grade_item(single, "garbage", 2) == rules.ItemGrade(False, 0)
    assert rules.grade_item(multiple, [0, 2], 2.5).points == 2.5
    assert rules.grade_item(multiple, [0], 2.5) == rules.ItemGrade(False, 0)
    assert rules.grade_item(tf, False, 1) == rules.ItemGrade(True, 1)
    assert rules.grade_item(tf, True, 1) == rules.ItemGrade(False, 0)
    bad_type = QuestionContent(type="essay", stem="?", answer=[0])
    assert rules.grade_item(bad_type, [0], 5) == rules.ItemGrade(False, 0)


def test_score_and_pass_mark():
    assert rules.score_of([100 / 3] * 3) == 100
    assert rules.score_of([40, 39.999]) == 80.0
    assert rules.has_passed(80, 80)
    assert rules.has_passed(79.999999999, 80)
    assert not rules.has_passed(79.99, 80)
    assert rules.score_of([60, 60]) == 100


# --- eligibility -------------------------------------------------------------------------


def failed(number: int, minutes: float = 0) -> PastAttempt:
    return PastAttempt(number, "submitted", False, at(minutes))


def elig(attempts=(), **kwargs):
    values = {"mode": "formal", "max_attempts": 2, "attempts": list(attempts), "now": at(1000)}
    values.update(kwargs)
    return rules.eligibility(**values)


def test_first_attempt_then_make_up_only_after_a_fail():
    first = elig()
    assert (first.allowed, first.reason, first.attempts_left) == (True, "first", 2)
    make_up = elig([failed(1)])
    assert (make_up.allowed, make_up.reason, make_up.attempts_left) == (True, "make_up", 1)
    passed = elig([PastAttempt(1, "submitted", True, at(0))])
    assert (passed.allowed, passed.reason, passed.attempts_left) == (False, "passed", 0)
    expired_fail = elig([PastAttempt(1, "expired", False, at(0))])
    assert expired_fail.reason == "make_up"


def test_an_attempt_in_progress_is_resumed_even_when_the_window_closed():
    result = elig([PastAttempt(1, "in_progress", None, None)], closes_at=at(0))
    assert (result.allowed, result.reason) == (True, "resume")


def test_after_failing_the_make_up_the_course_must_be_completed_again():
    attempts = [failed(1, 10), failed(2, 20)]
    blocked = elig(attempts, prerequisite_course="elec", course_completions=[at(0)])
    assert (blocked.allowed, blocked.reason, blocked.attempts_left) == (False, "retrain", 0)
    assert "course" in str(blocked.message())
    same_time = elig(attempts, prerequisite_course="elec", course_completions=[at(0), at(20)])
    assert not same_time.allowed
    again = elig(attempts, prerequisite_course="elec", course_completions=[at(0), at(30)])
    assert (again.allowed, again.reason, again.attempts_left) == (True, "new_sitting", 2)
    # The new sitting's first attempt failed: its make-up is open without more training.
    third = elig(attempts + [failed(3, 40)], prerequisite_course="elec",
                 course_completions=[at(0), at(30)])
    assert (third.reason, third.attempts_left) == ("make_up", 1)
    # ... and failing that needs a completion after the fourth attempt.
    fourth = attempts + [failed(3, 40), failed(4, 50)]
    assert elig(fourth, prerequisite_course="elec",
                course_completions=[at(0), at(30)]).reason == "retrain"
    assert elig(fourth, prerequisite_course="elec",
                course_completions=[at(0), at(30), at(60)]).reason == "new_sitting"


def test_without_a_course_a_failed_sitting_is_final():
    assert elig([failed(1), failed(2)]).reason == "retrain"


def test_prerequisite_course_is_needed_before_the_first_attempt():
    result = elig(prerequisite_course="elec")
    assert (result.allowed, result.reason) == (False, "prerequisite")
    assert elig(prerequisite_course="elec", course_completions=[at(0)]).reason == "first"


def test_one_attempt_exams_and_larger_sittings():
    assert elig([failed(1)], max_attempts=1).reason == "retrain"
    assert elig([failed(1), failed(2)], max_attempts=3).reason == "make_up"
    assert elig([failed(1), failed(2)], max_attempts=3).attempts_left == 1


def test_window():
    assert elig(opens_at=at(1001)).reason == "not_open"
    assert elig(opens_at=at(1000)).reason == "first"
    assert elig(closes_at=at(1000)).reason == "closed"
    assert elig(closes_at=at(1000.5)).reason == "first"


def test_practice_is_unlimited():
    many = [PastAttempt(i, "submitted", i % 2 == 0, at(i)) for i in range(1, 30)]
    result = elig(many, mode="practice", prerequisite_course="elec")
    assert (result.allowed, result.reason, result.attempts_left) == (True, "practice", None)
    assert elig(many, mode="practice", closes_at=at(0)).reason == "closed"


def test_every_reason_has_a_message():
    for reason in rules.REASONS:
        assert str(rules.Eligibility(False, reason, 0).message())


# --- wrong-answer book -------------------------------------------------------------------


def test_wrong_book_adds_counts_and_clears_after_two_right_in_a_row():
    entry = rules.after_answer(None, correct=False)
    assert entry == WrongEntry(1, 0, False)
    entry = rules.after_answer(entry, correct=True)
    assert entry == WrongEntry(1, 1, False)
    entry = rules.after_answer(entry, correct=False)
    assert entry == WrongEntry(2, 0, False)
    entry = rules.after_answer(rules.after_answer(entry, True), True)
    assert entry == WrongEntry(2, 2, True)
    assert rules.CLEAR_AFTER == 2
    assert rules.after_answer(entry, True) == entry  # cleared stays cleared
    assert rules.after_answer(entry, False) == WrongEntry(3, 0, False)  # and re-opens
    assert rules.after_answer(None, True) is None
