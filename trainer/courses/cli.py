"""``trainer courses sync`` and the demo loader for courses/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from trainer.db import db

DEMO_WORKERS = ("13800000001", "13800000002", "13800000003")
DEMO_DUE_DAYS = 30


@click.group("courses")
def courses() -> None:
    """Load course content from courses/ and manage enrolments."""


@courses.command("sync")
@click.argument("root", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def sync_command(root: Path | None) -> None:
    """Load every courses/<folder>/course.toml (idempotent; any error changes nothing)."""
    from trainer.courses.manifest import ManifestError
    from trainer.courses.services import sync_courses

    try:
        result = sync_courses(root)
    except ManifestError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"{len(exc.problems)} problem(s) in the manifests; nothing was changed") from exc
    db.session.commit()
    for line in result.lines:
        click.echo(line)
    click.echo(f"{len(result.lines)} course(s), {result.changed} added or updated.")


@courses.command("premiere")
@click.argument("course_key")
@click.argument("lesson_key")
@click.option("--at", "at", default=None,
              help="Premiere time with a UTC offset, e.g. 2026-11-24T09:00:00+08:00.")
@click.option("--in-minutes", type=float, default=None, help="Premiere this many minutes from now.")
@click.option("--clear", is_flag=True, help="Remove the premiere (on demand from now on).")
@with_appcontext
def premiere_command(course_key: str, lesson_key: str, at: str | None,
                     in_minutes: float | None, clear: bool) -> None:
    """Schedule (or clear) a lesson's live premiere; replay is available after it.

    A later `courses sync` of a new manifest version sets premiere_at from the manifest again.
    """
    from trainer.clock import utcnow
    from trainer.courses.models import Course, Lesson

    lesson = db.session.scalar(sa.select(Lesson).join(Course).where(
        Course.key == course_key, Lesson.key == lesson_key))
    if lesson is None:
        raise click.ClickException(f"no lesson {lesson_key!r} in course {course_key!r}")
    if sum(x is not None and x is not False for x in (at, in_minutes, clear or None)) != 1:
        raise click.ClickException("give exactly one of --at, --in-minutes, --clear")
    when: dt.datetime | None = None
    if at is not None:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError as exc:
            raise click.ClickException(f"--at {at!r} is not an ISO 8601 date-time") from exc
        if when.tzinfo is None:
            raise click.ClickException(f"--at {at!r} has no UTC offset (write e.g. +08:00)")
        when = when.astimezone(dt.UTC)
    elif in_minutes is not None:
        when = utcnow() + dt.timedelta(minutes=in_minutes)
    lesson.premiere_at = when
    db.session.commit()
    if when is None:
        click.echo(f"{course_key}/{lesson_key}: no premiere; on demand")
    else:
        click.echo(f"{course_key}/{lesson_key}: premiere at {when.isoformat()} "
                   f"({lesson.duration_seconds:g} s live, replay after)")


def load_demo() -> list[str]:
    """Sync courses/ and enrol the demo workers in every course."""
    from trainer.accounts.services import find_by_login
    from trainer.clock import today
    from trainer.courses.manifest import ManifestError
    from trainer.courses.models import Course
    from trainer.courses.services import enrol, sync_courses

    try:
        result = sync_courses()
    except ManifestError as exc:
        db.session.rollback()
        raise click.ClickException(f"courses/ has problems; no course was loaded:\n{exc}") from exc
    lines = [line for line in result.lines if not line.endswith("unchanged")]
    due = today() + dt.timedelta(days=DEMO_DUE_DAYS)
    for course in db.session.scalars(sa.select(Course).order_by(Course.key)):
        for login in DEMO_WORKERS:
            user = find_by_login(login)
            if user is not None and enrol(user, course, None, due):
                lines.append(f"demo worker {login} enrolled in {course.key}")
    db.session.commit()
    return lines
