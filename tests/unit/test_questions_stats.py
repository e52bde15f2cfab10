"""Item analysis (facility, discrimination, option shares, flags) as a pure function."""

from __future__ import annotations

import math

import pytest

from trainer.questions.stats import (
    MIN_RESPONSES,
    ResponseRecord,
    analyse_item,
    item_analysis,
    parse_response,
    pearson,
)


def record(attempt: int, question: int, correct: bool, total: float,
           response: list[int] | bool | None, points: float = 1.0) -> ResponseRecord:
    return ResponseRecord(attempt, question, 1.0 if correct else 0.0,
                          points if correct else 0.0, total, response)


def test_pearson_known_values() -> None:
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) is None
    assert pearson([1], [1]) is None
    # By hand: sxy = 3.2, sxx = 1.2, syy = 23.2; r = 3.2 / sqrt(27.84)
    assert pearson([1, 0, 1, 0, 1], [9, 3, 7, 5, 4]) == pytest.approx(0.60648, abs=1e-4)


def test_a_good_question() -> None:
    # Strong candidates (high rest-of-paper scores) get it right, weak ones do not.
    records = [record(i, 1, i >= 6, total=i * 10 + (1 if i >= 6 else 0),
                      response=[0] if i >= 6 else [1 + i % 3]) for i in range(12)]
    stats = analyse_item(1, records)
    assert stats.responses == 12
    assert stats.facility == pytest.approx(0.5)
    assert stats.discrimination is not None and stats.discrimination > 0.8
    assert stats.option_shares[0] == pytest.approx(0.5)
    assert sum(stats.option_shares.values()) == pytest.approx(1.0)
    assert not stats.needs_checking


def test_discrimination_uses_the_rest_of_the_paper() -> None:
    # Totals equal the item score alone: nothing else on the paper varies → no correlation.
    records = [record(i, 1, i % 2 == 0, total=1.0 if i % 2 == 0 else 0.0, response=[0])
               for i in range(10)]
    assert analyse_item(1, records).discrimination is None


def test_flags_too_hard_too_easy_and_poorly_discriminating() -> None:
    hard = [record(i, 1, i == 0, total=i, response=[1]) for i in range(20)]
    assert analyse_item(1, hard).reasons[0] == "hard"
    easy = [record(i, 2, True, total=50 + i, response=[0]) for i in range(20)]
    stats = analyse_item(2, easy)
    assert "easy" in stats.reasons and stats.facility == 1.0
    # Weak candidates get it right, strong ones wrong: negative discrimination.
    upside_down = [record(i, 3, i < 10, total=i * 5, response=[0]) for i in range(20)]
    stats = analyse_item(3, upside_down)
    assert stats.discrimination is not None and stats.discrimination < 0
    assert stats.reasons == ["discrimination"]


def test_no_flag_below_the_minimum_number_of_responses() -> None:
    few = [record(i, 1, False, total=i, response=[1]) for i in range(MIN_RESPONSES - 1)]
    assert not analyse_item(1, few).needs_checking
    assert analyse_item(1, few, min_responses=5).needs_checking


def test_true_false_and_unanswered_shares() -> None:
    records = [record(0, 7, True, 10, True), record(1, 7, False, 5, False),
               record(2, 7, False, 3, None), record(3, 7, True, 9, True)]
    stats = analyse_item(7, records)
    assert (stats.true_share, stats.false_share) == (0.5, 0.25)
    assert stats.unanswered_share == 0.25
    assert stats.option_shares == {}


def test_multiple_choice_shares_count_each_option_once_per_response() -> None:
    records = [record(0, 1, True, 10, [0, 2, 2]), record(1, 1, False, 5, [0])]
    stats = analyse_item(1, records)
    assert stats.option_shares == {0: 1.0, 2: 0.5}


def test_item_analysis_groups_by_question_and_counts_an_attempt_once() -> None:
    records = [record(1, 10, True, 5, [0]), record(1, 10, False, 5, [1]),  # re-saved
               record(2, 10, True, 8, [0]), record(1, 11, False, 5, [2])]
    result = item_analysis(records)
    assert sorted(result) == [10, 11]
    assert result[10].responses == 2
    assert result[10].facility == pytest.approx(0.5)
    assert result[11].facility == 0.0
    assert item_analysis([]) == {}


def test_partial_fractions_are_clamped() -> None:
    records = [ResponseRecord(i, 1, f, f, 10 * f, [0]) for i, f in
               enumerate([-1.0, 0.5, 2.0])]
    stats = analyse_item(1, records)
    assert stats.facility == pytest.approx(0.5)
    assert not math.isnan(stats.discrimination or 0.0)


@pytest.mark.parametrize(("raw", "expected"), [
    ("[0, 2]", [0, 2]), ([1], [1]), ("true", True), (False, False), (3, [3]),
    ("null", None), ("not json", None), ({"answer": [2]}, [2]), ([True, 1], [1]),
    (None, None), ("[]", []),
])
def test_parse_response(raw, expected) -> None:
    assert parse_response(raw) == expected
