"""``trainer questions import|export`` and the demo loader for question_bank/."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import click
from flask.cli import with_appcontext

from trainer.db import db

FORMATS = ["xlsx", "csv", "gift", "aiken", "moodle-xml", "json"]
EXPORT_FORMATS = ["json", "xlsx", "gift", "moodle-xml"]
QUESTION_BANK_ROOT = Path(__file__).resolve().parents[2] / "question_bank"


@click.group("questions")
def questions() -> None:
    """Import and export question banks."""


@questions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_name", required=True, help="Bank name; created if missing.")
@click.option("--owner", default=None, help="Owner's login; without it the bank is shared "
              "with every instructor.")
@click.option("--format", "file_format", type=click.Choice(FORMATS), default=None,
              help="Override format detection.")
@click.option("--type", "certificate_types", multiple=True,
              help="Certificate type the bank serves (repeatable), e.g. 1.2.")
@with_appcontext
def import_command(file: Path, bank_name: str, owner: str | None, file_format: str | None,
                   certificate_types: tuple[str, ...]) -> None:
    """Import FILE into a bank as ready questions; any error imports nothing."""
    summary, errors = import_file(file, bank_name, owner, file_format, certificate_types)
    for line in errors:
        click.echo(line, err=True)
    click.echo(f"{file.name}: imported {summary.imported}, skipped as unsupported "
               f"{summary.skipped_unsupported}, duplicates skipped {summary.duplicates}, "
               f"errors {summary.errors}")
    if summary.errors:
        raise click.ClickException("the file has errors; nothing was imported")


def import_file(file: Path, bank_name: str, owner_login: str | None, file_format: str | None,
                certificate_types: tuple[str, ...] | list[str] = ()):  # type: ignore[no-untyped-def]
    from trainer.accounts.services import find_by_login
    from trainer.questions import services
    from trainer.questions.importers import parse

    owner = None
    if owner_login:
        owner = find_by_login(owner_login)
        if owner is None or owner.role not in {"instructor", "admin"}:
            raise click.ClickException(f"--owner {owner_login}: no instructor or admin "
                                       "has this login")
    bank = services.find_bank(bank_name)
    keys = services.existing_keys(bank) if bank else set()
    result = parse(file.read_bytes(), file.name, file_format, existing_keys=keys)
    lines = [str(issue) for issue in result.errors]
    lines += [f"{file.name}, {u.location}: unsupported {u.kind} question skipped: {u.name}"
              for u in result.unsupported]
    if result.errors:
        db.session.rollback()
        return services.ImportSummary(0, len(result.unsupported), len(result.duplicates),
                                      len(result.errors)), lines
    bank, _created = services.ensure_bank(bank_name, owner, certificate_types)
    summary = services.import_parsed(bank, result, owner, services.READY)
    db.session.commit()
    return summary, lines


@questions.command("export")
@click.option("--bank", "bank_name", required=True)
@click.option("--format", "file_format", type=click.Choice(EXPORT_FORMATS), default="json")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output.")
@with_appcontext
def export_command(bank_name: str, file_format: str, output: Path | None) -> None:
    """Export a bank's questions; export then import gives the same bank."""
    from trainer.questions import services
    from trainer.questions.exporters import export_questions

    bank = services.find_bank(bank_name)
    if bank is None:
        raise click.ClickException(f"no bank is called {bank_name}")
    data = export_questions(services.bank_contents(bank), file_format)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
        click.echo(f"wrote {len(services.bank_contents(bank))} questions to {output}", err=True)


def load_demo() -> list[str]:
    """Import the sample banks listed in question_bank/banks.toml (once)."""
    from trainer.questions import services

    index = QUESTION_BANK_ROOT / "banks.toml"
    if not index.exists():
        return []
    lines = []
    for entry in tomllib.loads(index.read_text(encoding="utf-8")).get("banks", []):
        if services.find_bank(entry["name"]) is not None:
            continue
        summary, errors = import_file(QUESTION_BANK_ROOT / entry["file"], entry["name"], None,
                                      entry.get("format"), entry.get("certificate_types", []))
        if summary.errors:
            raise click.ClickException(f"sample bank {entry['file']} has errors: {errors[:3]}")
        bank = services.find_bank(entry["name"])
        if bank is not None and entry.get("description"):
            bank.description = entry["description"]
            db.session.commit()
        lines.append(f"question bank {entry['name']}: {summary.imported} questions")
    return lines
