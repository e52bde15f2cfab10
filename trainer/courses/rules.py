"""Pure rules for honest watch tracking, hours and premieres: no Flask, no database, no clock.

Watched footage is a set of intervals ``[start, end]`` in seconds of video. A worker's progress
is the *union* of every interval they watched (re-watching a part counts once); the playhead
does not count. A report may add at most as much new footage as wall-clock time has passed
since the previous accepted report (no faster than 1×, plus a small tolerance), and for
``no_skip`` lessons a segment must start at or before the furthest point already watched.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

Interval = tuple[float, float]

MERGE_GAP_SECONDS = 0.5
"""Intervals closer than this are joined (players report their position a few times a second,
so two reports of continuous playback may leave a sliver between them)."""
RATE_FACTOR = 1.02
"""Footage per wall-clock second a report may add (1×, plus 2 % for clock and timer jitter)."""
RATE_TOLERANCE_SECONDS = 3.0
"""Extra footage allowed per report on top of the rate (request latency, player buffering)."""
SKIP_TOLERANCE_SECONDS = 2.0
"""A segment of a no-skip lesson may start this far past the furthest watched point."""
MAX_SEGMENTS_PER_REPORT = 100
LIVE_WINDOW_SECONDS = 30
"""A viewer whose last report is this recent counts as watching now."""
HOURS_PLACES = Decimal("0.0001")

# Why a report (or part of it) was refused: stable codes the API and the player use.
TOO_FAST = "too_fast"
SKIPPED_AHEAD = "skipped_ahead"
AHEAD_OF_LIVE = "ahead_of_live"
BAD_SEGMENT = "bad_segment"
NOT_STARTED = "not_started"


class ReportError(ValueError):
    """A report that is malformed (not merely dishonest)."""


def merge(intervals: Iterable[Sequence[float]], gap: float = MERGE_GAP_SECONDS) -> list[Interval]:
    """The union of ``intervals`` as sorted, disjoint intervals (gaps ≤ ``gap`` are joined).

    Empty and reversed intervals are dropped.
    """
    cleaned = sorted(
        (float(a), float(b)) for a, b in (tuple(x) for x in intervals) if float(b) > float(a)
    )
    merged: list[list[float]] = []
    for start, end in cleaned:
        if merged and start <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def total(intervals: Iterable[Sequence[float]]) -> float:
    """Seconds covered by already merged (disjoint) intervals."""
    return sum(float(b) - float(a) for a, b in intervals)


def clamp(intervals: Iterable[Sequence[float]], duration: float) -> list[Interval]:
    """Intervals cut to ``[0, duration]``; those entirely outside are dropped."""
    out = []
    for a, b in intervals:
        start, end = max(0.0, float(a)), min(duration, float(b))
        if end > start:
            out.append((start, end))
    return out


def parse_segments(raw: object, duration: float) -> list[Interval]:
    """Validate a report's ``segments``: a list of ``[start, end]`` number pairs in the video.

    Raises `ReportError` with a message naming the first bad item.
    """
    if not isinstance(raw, list):
        raise ReportError("segments must be a list of [start, end] pairs")
    if len(raw) > MAX_SEGMENTS_PER_REPORT:
        raise ReportError(f"at most {MAX_SEGMENTS_PER_REPORT} segments per report")
    out: list[Interval] = []
    for i, item in enumerate(raw):
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in item)
        ):
            raise ReportError(f"segments[{i}] must be a pair of numbers [start, end]")
        start, end = float(item[0]), float(item[1])
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ReportError(f"segments[{i}] must be finite numbers")
        if start < 0 or end < start:
            raise ReportError(f"segments[{i}] must have 0 ≤ start ≤ end")
        if start > duration + SKIP_TOLERANCE_SECONDS:
            raise ReportError(f"segments[{i}] starts after the end of the video")
        out.append((start, end))
    return clamp(out, duration)


def footage_allowance(
    since: dt.datetime | None, now: dt.datetime, *, factor: float = RATE_FACTOR,
    tolerance: float = RATE_TOLERANCE_SECONDS,
) -> float:
    """New footage (seconds) a report arriving at ``now`` may add, given the previous anchor."""
    if since is None:
        return tolerance
    elapsed = max(0.0, (now - since).total_seconds())
    return elapsed * factor + tolerance


@dataclass(frozen=True)
class WatchState:
    segments: tuple[Interval, ...] = ()
    furthest: float = 0.0
    completed: bool = False


@dataclass(frozen=True)
class Report:
    segments: tuple[Interval, ...]
    position: float


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    """False when the whole report was refused (``reason`` says why); nothing changes."""
    segments: tuple[Interval, ...]
    watched_seconds: float
    furthest: float
    position: float
    completed: bool
    newly_completed: bool
    reason: str | None = None
    refused: tuple[Interval, ...] = field(default=())
    """Parts not credited (seeking past the furthest point of a no-skip lesson, or ahead of a
    live premiere)."""


def resume_position(position: float, furthest: float, duration: float, no_skip: bool) -> float:
    """Where the player should resume: the last position, never past what may be watched."""
    pos = min(max(0.0, position), duration)
    if no_skip:
        pos = min(pos, furthest)
    # At the very end, start over rather than show the last frame.
    return 0.0 if pos >= duration - 1.0 else pos


def evaluate_report(
    state: WatchState,
    report: Report,
    *,
    duration: float,
    threshold: float,
    no_skip: bool,
    anchor: dt.datetime | None,
    now: dt.datetime,
    live_offset: float | None = None,
    not_started: bool = False,
) -> Outcome:
    """Apply one player report to a worker's watch state.

    ``anchor`` is when the previous report was accepted (or the lesson was opened): the report
    may add at most `footage_allowance` seconds of new footage, else it is refused whole (the
    player keeps the segments and sends them again later, when enough time has passed).
    ``live_offset`` is the premiere's current position while a premiere is on: then segments
    may start anywhere up to it (joining late starts mid-stream) but not run ahead of it.
    ``not_started``: the lesson's premiere is still to come, so nothing can have been watched.
    """
    current = merge(state.segments)
    position = min(max(0.0, report.position), duration)
    if not_started and report.segments:
        return Outcome(
            accepted=False, segments=tuple(current), watched_seconds=total(current),
            furthest=state.furthest, position=position, completed=state.completed,
            newly_completed=False, reason=NOT_STARTED, refused=tuple(report.segments),
        )  # fmt: skip
    frontier = state.furthest
    accepted: list[Interval] = []
    refused: list[Interval] = []
    for start, end in sorted(report.segments):
        if live_offset is not None:
            limit = live_offset + SKIP_TOLERANCE_SECONDS
            if start > limit:
                refused.append((start, end))
                continue
            if end > limit:
                refused.append((limit, end))
                end = limit
        elif no_skip and start > frontier + SKIP_TOLERANCE_SECONDS:
            refused.append((start, end))
            continue
        accepted.append((start, end))
        frontier = max(frontier, end)
    union = merge([*current, *accepted])
    new_footage = total(union) - total(current)
    if new_footage > footage_allowance(anchor, now):
        return Outcome(
            accepted=False, segments=tuple(current), watched_seconds=total(current),
            furthest=state.furthest, position=position, completed=state.completed,
            newly_completed=False, reason=TOO_FAST, refused=tuple(report.segments),
        )  # fmt: skip
    furthest = max([state.furthest, *(end for _, end in accepted)])
    if no_skip and live_offset is None:
        position = min(position, furthest + SKIP_TOLERANCE_SECONDS)
    watched = total(union)
    done = state.completed or watched >= threshold * duration - 1e-6
    reason = None
    if refused:
        reason = AHEAD_OF_LIVE if live_offset is not None else SKIPPED_AHEAD
    return Outcome(
        accepted=True, segments=tuple(union), watched_seconds=watched, furthest=furthest,
        position=position, completed=done, newly_completed=done and not state.completed,
        reason=reason, refused=tuple(refused),
    )  # fmt: skip


def split_hours(course_hours: Decimal, durations: Sequence[float]) -> list[Decimal]:
    """A course's hours shared among its lessons by duration, to 4 places, summing exactly."""
    if not durations:
        return []
    whole = sum(durations)
    shares = [
        (course_hours * Decimal(repr(d)) / Decimal(repr(whole))).quantize(
            HOURS_PLACES, rounding=ROUND_DOWN
        )
        if whole > 0
        else Decimal(0)
        for d in durations
    ]
    shares[-1] = course_hours.quantize(HOURS_PLACES) - sum(shares[:-1], Decimal(0))
    return shares


# Premieres -------------------------------------------------------------------------------

UPCOMING = "upcoming"
LIVE = "live"
REPLAY = "replay"
ON_DEMAND = "on_demand"


@dataclass(frozen=True)
class PremiereState:
    phase: str
    """``upcoming`` (countdown), ``live`` (everyone at ``offset``), ``replay`` (after it), or
    ``on_demand`` (no premiere scheduled)."""
    seconds_until: float = 0.0
    offset: float = 0.0


def premiere_state(
    premiere_at: dt.datetime | None, duration: float, now: dt.datetime
) -> PremiereState:
    if premiere_at is None:
        return PremiereState(ON_DEMAND)
    delta = (now - premiere_at).total_seconds()
    if delta < 0:
        return PremiereState(UPCOMING, seconds_until=-delta)
    if delta < duration:
        return PremiereState(LIVE, offset=delta)
    return PremiereState(REPLAY)
