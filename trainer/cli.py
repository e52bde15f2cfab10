"""The ``trainer`` command: Flask's CLI (run, db, shell) plus the platform's own commands.

Every command is idempotent and says what it did.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

# Area command groups, added to the app's CLI in one place.
# Two entries may name groups of the same name (e.g. two modules each adding commands to
# "certificates"): their commands are merged into one group.
GROUPS: list[str] = ["trainer.questions.cli:questions", "trainer.courses.cli:courses",
                     "trainer.certificates.cli:certificates",
                     "trainer.certificates.backlog_cli:suspensions",
                     "trainer.certificates.backlog_cli:backlog",
                     "trainer.certificates.backlog_cli:certificates",
                     "trainer.exams.cli:exams"]
# Area demo loaders: functions taking no arguments, returning lines to print.
DEMO_LOADERS: list[str] = ["trainer.questions.cli:load_demo", "trainer.courses.cli:load_demo",
                           "trainer.certificates.cli:load_demo",
                           "trainer.certificates.backlog_cli:load_demo",
                           "trainer.exams.cli:load_demo"]


def _create_app() -> Flask:
    from trainer import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             set_debug_flag=False)
def main() -> None:
    """trainer: safety training, exams and certificates."""


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    for spec in GROUPS:
        module_name, attr = spec.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        existing = app.cli.commands.get(command.name)
        if isinstance(existing, click.Group) and isinstance(command, click.Group):
            # A new group object, so neither module's group is changed.
            command = click.Group(existing.name, commands={**existing.commands, **command.commands},
                                  help=existing.help or command.help)
        app.cli.add_command(command)


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.group()
def users() -> None:
    """Create and import user accounts."""


@users.command("create")
@click.option("--login", required=True, help="Mobile number (workers) or username.")
@click.option("--password", required=True)
@click.option("--role", required=True,
              type=click.Choice(["worker", "instructor", "employer_admin", "admin"]))
@click.option("--name", required=True)
@click.option("--employer", default="", help="Employer name (must exist).")
@click.option("--national-id", default="")
@with_appcontext
def users_create(login: str, password: str, role: str, name: str, employer: str,
                 national_id: str) -> None:
    """Create a user, or report that the login exists already."""
    from trainer.accounts import services
    from trainer.accounts.rules import normalise_phone
    from trainer.db import db

    existing = services.find_by_login(login)
    if existing is not None:
        click.echo(f"User {login} exists already (id {existing.id}, role {existing.role}); "
                   "nothing changed.")
        return
    phone = normalise_phone(login)
    data = services.UserInput(name=name, role=role, username="" if phone else login,
                              phone=phone or "", employer=employer, password=password,
                              national_id=national_id)
    valid, errors = services.validate_user(data, None)
    if valid is not None:
        errors = services.uniqueness_errors(valid)
    if errors or valid is None:
        _fail("; ".join(f"{e.field}: {e.message}" for e in errors))
        return
    user, _generated = services.create_user(valid, None)
    user.must_change_password = False
    db.session.commit()
    click.echo(f"Created {role} {name} ({login}), id {user.id}.")


@users.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def users_import(file: Path) -> None:
    """Create users from a CSV or XLSX file: all rows or none."""
    from trainer.accounts import services
    from trainer.accounts.userfile import parse_user_file
    from trainer.db import db

    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    if file.stat().st_size > limit:
        _fail(f"{file.name} is larger than {limit / (1024 * 1024):g} MB "
              "(TRAINER_IMPORT_MAX_MB); split it.")
        return
    rows, errors = parse_user_file(file.read_bytes(), file.name)
    skipped = 0
    if not errors:
        fresh = []
        for number, row in rows:
            login = row.phone or row.username
            if login and services.find_by_login(login) is not None:
                skipped += 1  # re-running the same file is safe: existing logins are kept
            else:
                fresh.append((number, row))
        if not fresh:
            click.echo(f"Nothing to do: all {skipped} users in {file.name} exist already.")
            return
        outcome = services.import_users(fresh, None)
        errors = outcome.errors
    if errors:
        db.session.rollback()
        for error in errors:
            click.echo(f"{file.name}: row {error.row}: {error.field}: {error.message}", err=True)
        _fail(f"{len(errors)} error(s); no user was created.")
        return
    db.session.commit()
    for user, generated in outcome.created:
        suffix = f"  initial password: {generated}" if generated else ""
        click.echo(f"created {user.role} {user.name} ({user.login}){suffix}")
    click.echo(f"Created {len(outcome.created)} user(s); {skipped} existed already.")


DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105  (printed for the demo)


def demo_accounts() -> list[dict[str, Any]]:
    return [
        {"login": "admin", "name": "系统管理员", "role": "admin"},
        {"login": "instructor", "name": "王老师", "role": "instructor"},
        {"login": "safety", "name": "李安全", "role": "employer_admin", "employer": "合肥示范化工有限公司"},
        {"login": "13800000001", "name": "张伟", "role": "worker", "employer": "合肥示范化工有限公司",
         "national_id": "34010419900307"},
        {"login": "13800000002", "name": "刘洋", "role": "worker", "employer": "合肥示范化工有限公司",
         "national_id": "34010419881121"},
        {"login": "13800000003", "name": "陈静", "role": "worker", "employer": "南京示范焊接有限公司",
         "national_id": "32010219950612"},
    ]


DEMO_REGIONS = [
    ("110000", "北京市"), ("130000", "河北省"), ("130100", "石家庄市"),
    ("320000", "江苏省"), ("320100", "南京市"), ("320102", "玄武区"),
    ("340000", "安徽省"), ("340100", "合肥市"), ("340102", "瑶海区"), ("340104", "蜀山区"),
    ("440300", "深圳市"), ("510000", "四川省"), ("640000", "宁夏回族自治区"),
]
DEMO_EMPLOYERS = [("合肥示范化工有限公司", "340104"), ("南京示范焊接有限公司", "320102")]


@click.command()
@click.option("--no-migrate", is_flag=True, help="Skip 'db upgrade' (schema already current).")
@with_appcontext
def demo(no_migrate: bool) -> None:
    """Create the database, load courses and question banks, and create demo accounts."""
    from flask_migrate import upgrade

    from trainer.accounts import services
    from trainer.accounts.rules import national_id_check_char, normalise_phone
    from trainer.db import db

    if not no_migrate:
        upgrade()
        click.echo("Database schema is up to date.")
    for code, name in DEMO_REGIONS:
        _region, created = services.ensure_region(code, name)
        if created:
            click.echo(f"region {code} {name} added")
    for name, region in DEMO_EMPLOYERS:
        _employer, created = services.ensure_employer(name, region, None)
        if created:
            click.echo(f"employer {name} added")
    db.session.commit()
    for account in demo_accounts():
        login = account["login"]
        if services.find_by_login(login) is not None:
            continue
        national_id = account.get("national_id", "")
        if national_id:
            national_id += "001"
            national_id += national_id_check_char(national_id)
        phone = normalise_phone(login)
        valid, errors = services.validate_user(services.UserInput(
            name=account["name"], role=account["role"], username="" if phone else login,
            phone=phone or "", employer=account.get("employer", ""), password=DEMO_PASSWORD,
            national_id=national_id), None)
        if errors or valid is None:
            _fail(f"demo account {login}: " + "; ".join(str(e.message) for e in errors))
            return
        user, _ = services.create_user(valid, None)
        user.must_change_password = False
        click.echo(f"demo {account['role']} {login} created")
    db.session.commit()
    for spec in DEMO_LOADERS:
        module_name, attr = spec.split(":")
        for line in getattr(importlib.import_module(module_name), attr)():
            click.echo(line)
    click.echo("")
    click.echo("Demo ready. Log in with any of these (password for all: "
               f"{DEMO_PASSWORD}):")
    for account in demo_accounts():
        click.echo(f"  {account['role']:<15} {account['login']:<12} {account['name']}")
    if os.environ.get("TRAINER_ENV", "") in {"development", "dev"}:
        click.echo("Start the server with: trainer run   (then open http://127.0.0.1:5000)")
