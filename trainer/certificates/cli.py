"""``trainer certificates import|export|refresh`` and the demo loader."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from trainer.db import db


@click.group("certificates")
def certificates() -> None:
    """Certificate register: import, export, refresh stored timelines."""


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


@certificates.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Import a register from FILE (CSV or XLSX); any error imports nothing.

    Columns: number, holder_name, id_number, type_code, region_code, employer, issued_on,
    expires_on, review_due_on, renewal_applied_on (last three optional); Chinese headers too.
    """
    from trainer.certificates import importer, services

    services.ensure_catalogue(db.session)
    result = importer.import_register(db.session, file.read_bytes(), file.name)
    for error in result.errors:
        click.echo(f"{file.name}, {error}", err=True)
    if result.error_count:
        db.session.rollback()
        raise click.ClickException(f"{file.name}: {result.summary()}")
    db.session.commit()
    click.echo(f"{file.name}: {result.summary()}")


@certificates.command("export")
@click.option("--as-of", "as_of", required=True, callback=_parse_day,
              help="Status as of this day (YYYY-MM-DD).")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
@with_appcontext
def export_command(as_of: dt.date, file_format: str, output: Path | None) -> None:
    """Export every current certificate's status as of a day.

    Columns: number, status, valid_until, holder_deadline, exam_deadline, suspension.
    """
    from trainer.certificates import export, queries

    rows = queries.export_rows(db.session, queries.CertificateFilter(as_of=as_of))
    write = export.write_xlsx if file_format == "xlsx" else export.write_csv
    if output is None:
        count = write(rows, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        with output.open("wb") as stream:
            count = write(rows, stream)
    click.echo(f"exported {count} certificates as of {as_of.isoformat()}"
               + (f" to {output}" if output else ""), err=True)


@certificates.command("refresh")
@with_appcontext
def refresh_command() -> None:
    """Recompute stored timelines (after suspensions, calendar or catalogue changed)."""
    from trainer.certificates import timelines

    result = timelines.refresh(db.session)
    db.session.commit()
    for line in result.lines():
        click.echo(line)


def load_demo() -> list[str]:
    from trainer.certificates import demo

    return demo.load()
