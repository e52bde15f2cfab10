"""Watch-tracking rules: union of segments, the 1× rate limit, no-skip, completion, hours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.courses import rules
from trainer.courses.rules import (
    Report,
    ReportError,
    WatchState,
    evaluate_report,
    footage_allowance,
    merge,
    parse_segments,
    premiere_state,
    resume_position,
    split_hours,
    total,
)

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


# merge / total / clamp ---------------------------------------------------------------------


@pytest.mark.parametrize(("given_", "expected"), [
    ([], []),
    ([(0, 10)], [(0, 10)]),
    ([(5, 10), (0, 3)], [(0, 3), (5, 10)]),
    ([(0, 10), (5, 15)], [(0, 15)]),
    ([(0, 10), (10, 20)], [(0, 20)]),
    ([(0, 10), (10.4, 20)], [(0, 20)]),          # a sliver under the gap is joined
    ([(0, 10), (10.6, 20)], [(0, 10), (10.6, 20)]),
    ([(0, 30), (5, 10)], [(0, 30)]),             # contained
    ([(3, 3), (5, 4)], []),                      # empty and reversed dropped
    ([(0, 1), (2, 3), (1, 2)], [(0, 3)]),
    ([[0, 5], [4, 6]], [(0, 6)]),                # lists as from JSON
])
def test_merge(given_, expected):
    assert merge(given_) == expected


def test_total_and_clamp():
    assert total([(0, 10), (20, 25)]) == 15
    assert total([]) == 0
    assert rules.clamp([(-5, 3), (50, 70), (80, 90)], 60) == [(0, 3), (50, 60)]


intervals = st.lists(
    st.tuples(st.floats(0, 500), st.floats(0, 60)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=30)


@given(intervals)
def test_merge_properties(xs):
    merged = merge(xs, gap=0)
    # Sorted, disjoint, non-empty.
    assert all(a < b for a, b in merged)
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))
    # Idempotent, order-independent, and covers every input point.
    assert merge(merged, gap=0) == merged
    assert merge(list(reversed(xs)), gap=0) == merged
    for a, b in xs:
        if b > a:
            assert any(s <= a and b <= e for s, e in merged)
    # Never more than the sum of the parts, never less than the longest.
    assert total(merged) <= sum(b - a for a, b in xs if b > a) + 1e-6
    assert total(merged) >= max([b - a for a, b in xs] + [0]) - 1e-6


@given(intervals, intervals)
def test_union_is_monotonic(xs, ys):
    assert total(merge([*xs, *ys], gap=0)) >= total(merge(xs, gap=0)) - 1e-6


# parse_segments -----------------------------------------------------------------------------


def test_parse_segments_accepts_pairs_and_clamps():
    assert parse_segments([[0, 5], [10, 99.5]], 90) == [(0, 5), (10, 90)]
    assert parse_segments([], 90) == []
    assert parse_segments([[1, 1]], 90) == []


@pytest.mark.parametrize(("raw", "message"), [
    ("0-5", "must be a list"),
    ({"a": 1}, "must be a list"),
    ([[0]], "segments[0] must be a pair"),
    ([[0, "5"]], "segments[0] must be a pair"),
    ([[0, True]], "segments[0] must be a pair"),
    ([[0, 5], None], "segments[1] must be a pair"),
    ([[5, 1]], "0 ≤ start ≤ end"),
    ([[-1, 3]], "0 ≤ start ≤ end"),
    ([[0, float("inf")]], "finite"),
    ([[0, float("nan")]], "finite"),
    ([[95, 100]], "after the end"),
    ([[0, 1]] * 101, "at most 100"),
])
def test_parse_segments_refuses(raw, message):
    with pytest.raises(ReportError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_segments(raw, 90)


# the rate limit -----------------------------------------------------------------------------


def test_allowance():
    assert footage_allowance(None, at(100)) == rules.RATE_TOLERANCE_SECONDS
    assert footage_allowance(at(0), at(15)) == pytest.approx(15 * 1.02 + 3)
    assert footage_allowance(at(10), at(0)) == rules.RATE_TOLERANCE_SECONDS  # clock skew


EMPTY = WatchState()
AT_15 = at(15)


def evaluate(state=EMPTY, segments=(), position=0.0, *, duration=100.0,
             threshold=0.95, no_skip=True, anchor=T0, now=AT_15, live=None):
    return evaluate_report(state, Report(tuple(segments), position), duration=duration,
                           threshold=threshold, no_skip=no_skip, anchor=anchor, now=now,
                           live_offset=live)


def test_a_normal_report_is_accepted():
    out = evaluate(segments=[(0, 15)], position=15)
    assert out.accepted and out.reason is None
    assert out.segments == ((0, 15),) and out.watched_seconds == 15
    assert out.furthest == 15 and out.position == 15 and not out.completed


def test_claiming_more_footage_than_time_allows_is_refused_whole():
    out = evaluate(segments=[(0, 30)], now=at(15))
    assert not out.accepted and out.reason == rules.TOO_FAST
    assert out.segments == () and out.watched_seconds == 0 and out.furthest == 0


def test_at_2x_speed_is_refused_but_within_tolerance_is_accepted():
    assert not evaluate(segments=[(0, 30)], now=at(15)).accepted
    assert evaluate(segments=[(0, 18)], now=at(15)).accepted      # 15*1.02+3 = 18.3
    assert not evaluate(segments=[(0, 18.5)], now=at(15)).accepted


def test_rewatching_counts_once_and_costs_nothing():
    state = WatchState(segments=((0, 50),), furthest=50)
    out = evaluate(state, [(0, 50)], now=at(1))
    assert out.accepted and out.watched_seconds == 50


def test_a_queued_batch_after_a_lost_connection_is_accepted_as_one_report():
    # 5 minutes offline: the player sends everything it kept, coalesced, in one report.
    state = WatchState(segments=((0, 15),), furthest=15)
    out = evaluate(state, [(15, 30), (30, 45), (45, 315)], anchor=at(15), now=at(320),
                   duration=400)
    assert out.accepted and out.segments == ((0, 315),)


def test_first_report_without_an_anchor_gets_only_the_tolerance():
    assert evaluate(segments=[(0, 2)], anchor=None).accepted
    assert not evaluate(segments=[(0, 10)], anchor=None).accepted


# no skip ------------------------------------------------------------------------------------


def test_no_skip_refuses_segments_past_the_furthest_point():
    state = WatchState(segments=((0, 20),), furthest=20)
    out = evaluate(state, [(20, 25), (60, 70)], position=70, now=at(30))
    assert out.accepted and out.reason == rules.SKIPPED_AHEAD
    assert out.segments == ((0, 25),) and out.refused == ((60, 70),)
    assert out.furthest == 25
    assert out.position <= 25 + rules.SKIP_TOLERANCE_SECONDS


def test_no_skip_allows_a_chain_of_contiguous_segments():
    out = evaluate(WatchState(), [(0, 5), (5.2, 10), (10, 14)], now=at(15))
    assert out.accepted and out.refused == () and out.segments == ((0, 14),)


def test_no_skip_tolerates_a_small_jump():
    state = WatchState(segments=((0, 20),), furthest=20)
    assert evaluate(state, [(21.5, 30)]).refused == ()
    assert evaluate(state, [(22.5, 30)]).refused == ((22.5, 30),)


def test_skip_allowed_when_the_lesson_permits():
    state = WatchState(segments=((0, 20),), furthest=20)
    out = evaluate(state, [(60, 70)], position=70, no_skip=False)
    assert out.accepted and out.refused == () and out.segments == ((0, 20), (60, 70))
    assert out.furthest == 70 and out.position == 70


def test_skipping_back_is_always_fine():
    state = WatchState(segments=((0, 60),), furthest=60)
    out = evaluate(state, [(10, 20)], position=20)
    assert out.accepted and out.segments == ((0, 60),) and out.position == 20


# live premiere ------------------------------------------------------------------------------


def test_during_a_premiere_a_late_joiner_is_credited_from_the_live_point():
    out = evaluate(WatchState(), [(40, 55)], position=55, live=55)
    assert out.accepted and out.segments == ((40, 55),) and out.refused == ()


def test_during_a_premiere_footage_ahead_of_the_stream_is_refused():
    out = evaluate(WatchState(), [(40, 55), (70, 80)], position=80, live=50)
    assert out.accepted and out.reason == rules.AHEAD_OF_LIVE
    assert out.segments == ((40, 52),)
    assert (52, 55) in out.refused and (70, 80) in out.refused


# completion ---------------------------------------------------------------------------------


def test_completion_at_the_threshold_of_watched_footage():
    state = WatchState(segments=((0, 80),), furthest=80)
    almost = evaluate(state, [(80, 94.9)], now=at(15))
    assert almost.accepted and not almost.completed
    done = evaluate(state, [(80, 95)], now=at(15))
    assert done.completed and done.newly_completed
    again = evaluate(WatchState(segments=done.segments, furthest=95, completed=True),
                     [(95, 100)], now=at(30))
    assert again.completed and not again.newly_completed


def test_the_playhead_at_the_end_is_not_completion():
    # Seeking to the end of a skippable lesson and reporting a few seconds there.
    out = evaluate(WatchState(), [(90, 100)], position=100, no_skip=False)
    assert out.accepted and not out.completed and out.watched_seconds == 10


def test_custom_threshold():
    assert evaluate(WatchState(), [(0, 15)], threshold=0.15, now=at(15)).completed


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 20), st.floats(0, 30)), max_size=25))
def test_watched_never_exceeds_wall_clock_or_duration(reports):
    """However reports are forged, credited footage ≤ elapsed time × rate + tolerance each."""
    state, anchor, clock, budget = WatchState(), T0, 0.0, 0.0
    for start, length, wait in reports:
        clock += wait
        now = at(clock)
        out = evaluate_report(state, Report(((start, start + length),), start + length),
                              duration=100, threshold=0.95, no_skip=True, anchor=anchor,
                              now=now)
        if out.accepted:
            budget += footage_allowance(anchor, now)
            anchor = now
            state = WatchState(out.segments, out.furthest, out.completed)
        assert out.watched_seconds <= budget + 1e-6
        assert out.watched_seconds <= 100
        assert all(0 <= a < b <= 100 for a, b in out.segments)


# resume position ----------------------------------------------------------------------------


def test_resume_position():
    assert resume_position(42, 60, 100, no_skip=True) == 42
    assert resume_position(80, 60, 100, no_skip=True) == 60
    assert resume_position(80, 60, 100, no_skip=False) == 80
    assert resume_position(99.5, 100, 100, no_skip=True) == 0   # finished: start over
    assert resume_position(-3, 0, 100, no_skip=True) == 0


# hours --------------------------------------------------------------------------------------


def test_split_hours_by_duration_sums_exactly():
    shares = split_hours(Decimal("0.09"), [89.2, 84.8, 74.9])
    assert sum(shares) == Decimal("0.09")
    assert shares == [Decimal("0.0322"), Decimal("0.0306"), Decimal("0.0272")]
    assert split_hours(Decimal("8"), [60, 60]) == [Decimal("4"), Decimal("4")]
    assert split_hours(Decimal("1"), []) == []


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("200"), places=2),
       st.lists(st.floats(0.5, 10_000), min_size=1, max_size=40))
def test_split_hours_properties(hours, durations):
    shares = split_hours(hours, durations)
    assert sum(shares) == hours
    assert len(shares) == len(durations)
    assert all(s >= 0 for s in shares[:-1])


# premiere -----------------------------------------------------------------------------------


def test_premiere_phases():
    assert premiere_state(None, 90, at(0)).phase == rules.ON_DEMAND
    up = premiere_state(at(100), 90, at(40))
    assert up.phase == rules.UPCOMING and up.seconds_until == 60
    live = premiere_state(at(100), 90, at(130))
    assert live.phase == rules.LIVE and live.offset == 30
    assert premiere_state(at(100), 90, at(100)).phase == rules.LIVE
    assert premiere_state(at(100), 90, at(190)).phase == rules.REPLAY


def test_before_the_premiere_nothing_is_credited():
    out = evaluate_report(WatchState(), Report(((0, 10),), 10), duration=100, threshold=0.95,
                          no_skip=True, anchor=T0, now=at(30), not_started=True)
    assert not out.accepted and out.reason == rules.NOT_STARTED and out.watched_seconds == 0
    # A report with no segments (just the position) is harmless.
    assert evaluate_report(WatchState(), Report((), 0), duration=100, threshold=0.95,
                           no_skip=True, anchor=T0, now=at(30), not_started=True).accepted
