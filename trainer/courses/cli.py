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


def load_demo() -> list[str]:
    """Sync courses/ and enrol the demo workers in every course."""
    from trainer.accounts.services import find_by_login
    from trainer.clock import today
    from trainer.courses.models import Course
    from trainer.courses.services import enrol, sync_courses

    result = sync_courses()
    lines = [line for line in result.lines if not line.endswith("unchanged")]
    due = today() + dt.timedelta(days=DEMO_DUE_DAYS)
    for course in db.session.scalars(sa.select(Course).order_by(Course.key)):
        for login in DEMO_WORKERS:
            user = find_by_login(login)
            if user is not None and enrol(user, course, None, due):
                lines.append(f"demo worker {login} enrolled in {course.key}")
    db.session.commit()
    return lines
