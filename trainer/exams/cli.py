"""``trainer exams close-overdue`` (for cron) and the demo loader."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from trainer.db import db


@click.group("exams")
def exams() -> None:
    """Exams: housekeeping."""


@exams.command("close-overdue")
@with_appcontext
def close_overdue_command() -> None:
    """Close attempts left open past their deadline plus grace, grading what was saved."""
    from trainer.clock import utcnow
    from trainer.exams import services

    count = services.close_overdue(utcnow())
    db.session.commit()
    click.echo(f"Closed {count} overdue attempt(s).")
