"""Reminder decisions: stages, catch-up (only the most recent due stage), never twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.certificates.reminder_rules import (
    DEFAULT_STAGES,
    ReminderKind,
    ReminderSubject,
    current_stage,
    parse_stages,
    reminders_due,
    window_end,
)

D = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("days_before", "stage"),
    [(200, None), (91, None), (90, 90), (61, 90), (60, 60), (31, 60), (30, 30), (8, 30),
     (7, 7), (1, 7), (0, 7), (-1, None)],
)
def test_current_stage(days_before: int, stage: int | None) -> None:
    assert current_stage(D, D - timedelta(days=days_before)) == stage


def test_parse_stages() -> None:
    assert parse_stages("7, 90,60,30,30") == (90, 60, 30, 7)
    assert parse_stages([0, 3]) == (3, 0)
    for bad in ("", "x", "90,-1", "1.5"):
        with pytest.raises(ValueError):
            parse_stages(bad)


def test_due_date_reminder_and_what_stops_it() -> None:
    subject = ReminderSubject(1, D)
    today = D - timedelta(days=45)
    [reminder] = reminders_due(subject, today)
    assert (reminder.kind, reminder.deadline, reminder.stage) == (ReminderKind.DUE, D, 60)
    assert reminders_due(subject, today, sent={(ReminderKind.DUE, D, 60)}) == []
    assert reminders_due(ReminderSubject(1, D, revoked=True), today) == []
    assert reminders_due(ReminderSubject(1, D, renewal_applied=True), today) == []
    assert reminders_due(subject, D + timedelta(days=1)) == []


def test_catch_up_sends_only_the_most_recent_stage() -> None:
    subject = ReminderSubject(1, D)
    # The cron was down from 95 to 40 days before D: 90 and 60 are due, only 60 is sent.
    assert [r.stage for r in reminders_due(subject, D - timedelta(days=40))] == [60]
    # and 90 never comes back afterwards
    for days in range(40, -1, -1):
        assert all(r.stage != 90 for r in reminders_due(subject, D - timedelta(days=days)))


def test_backlog_deadline_reminders() -> None:
    t, e = date(2020, 4, 8), date(2020, 5, 21)
    subject = ReminderSubject(7, date(2020, 2, 10), holder_deadline=t, exam_deadline=e)
    found = reminders_due(subject, date(2020, 3, 10))
    # Not applied yet: what the holder must act on is T.
    assert [(r.kind, r.deadline, r.stage) for r in found] == [
        (ReminderKind.HOLDER_DEADLINE, t, 30)]
    applied = ReminderSubject(7, date(2020, 2, 10), holder_deadline=t, applied=True,
                              exam_deadline=e)
    assert [(r.kind, r.stage) for r in reminders_due(applied, date(2020, 3, 10))] == [
        (ReminderKind.EXAM_DEADLINE, 90)]
    passed = ReminderSubject(7, date(2020, 2, 10), holder_deadline=t, exam_deadline=e,
                             applied=True, exam_passed=True)
    assert reminders_due(passed, date(2020, 3, 10)) == []


def test_window_end() -> None:
    assert window_end(D) == D + timedelta(days=90)
    assert window_end(D, (3,)) == D + timedelta(days=3)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 400), st.lists(st.integers(0, 5), min_size=1, max_size=60),
       st.lists(st.integers(0, 120), min_size=1, max_size=5, unique=True))
def test_property_a_run_every_few_days_sends_each_stage_at_most_once(
    start_before: int, gaps: list[int], stages: list[int]
) -> None:
    """Whatever the run days (gaps between cron runs, including missed days), every stage is
    sent at most once, stages come in order (largest first), and a run on or after a stage's
    day within the window always sends the current stage."""
    subject = ReminderSubject(1, D)
    sent: set = set()
    order: list[int] = []
    day = D - timedelta(days=start_before)
    for gap in gaps:
        for reminder in reminders_due(subject, day, stages, sent):
            assert reminder.key not in sent
            sent.add(reminder.key)
            order.append(reminder.stage)
        stage = current_stage(D, day, stages)
        if stage is not None:
            assert (ReminderKind.DUE, D, stage) in sent
        day += timedelta(days=gap)
    assert order == sorted(order, reverse=True)
    assert len(order) == len(set(order))
    assert set(order) <= set(stages)


def test_default_stages() -> None:
    assert DEFAULT_STAGES == (90, 60, 30, 7)
