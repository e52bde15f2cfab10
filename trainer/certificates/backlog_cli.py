"""Commands: ``trainer suspensions add|lift|list``, ``trainer backlog plan`` and
``trainer certificates remind`` (cron).

Each command validates everything first and changes nothing on a bad argument (a clear message
and exit status 1); changes commit once at the end.
"""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from trainer.certificates import suspensions as service


def _today(text: str | None) -> dt.date:
    from trainer.clock import today

    if not text:
        return today()
    try:
        return service.parse_date(text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--today") from None


@click.group("suspensions")
def suspensions() -> None:
    """Declare, lift and list suspension periods."""


@suspensions.command("add")
@click.option("--name", required=True, help="Unique name, e.g. 'Anhui Level I 2020'.")
@click.option("--start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--lift", default="", help="Last day (the lift), YYYY-MM-DD; omit while ongoing.")
@click.option("--regions", default="", help="Region code prefixes, e.g. 34,3201 (default: all).")
@click.option("--types", default="", help="Certificate types, e.g. 1,2.1,SM (default: all).")
@click.option("--effect", default="deemed_valid", show_default=True,
              help="deemed_valid, extend_by or extend_to.")
@click.option("--holder-deadline", default=service.DEFAULT_HOLDER_DEADLINE, show_default=True,
              help="Train and apply within: Nwd, Nd or Nm after the lift; 'none' = open-ended.")
@click.option("--exam-deadline", default=service.DEFAULT_EXAM_DEADLINE, show_default=True,
              help="Backlog of exams cleared within: Nwd, Nd or Nm after the lift; 'none'.")
@click.option("--extend-by", default="", help="For extend_by: calendar days, e.g. 90d.")
@click.option("--extend-to", default="", help="For extend_to: the date, YYYY-MM-DD.")
@click.option("--source", default="", help="Link to the authority's notice (http/https).")
@with_appcontext
def add(name: str, start: str, lift: str, regions: str, types: str, effect: str,
        holder_deadline: str, exam_deadline: str, extend_by: str, extend_to: str,
        source: str) -> None:
    """Declare a suspension; certificates it covers are recomputed at once."""
    from trainer.db import db

    data = service.SuspensionInput(name=name, start=start, lift=lift, regions=regions, types=types,
                                   effect=effect, holder_deadline=holder_deadline,
                                   exam_deadline=exam_deadline, extend_by=extend_by,
                                   extend_to=extend_to, source_url=source)
    valid, problems = service.validate(data)
    if valid is None:
        for line in problems.lines():
            click.echo(f"error: {line}", err=True)
        raise click.ClickException("nothing was changed.")
    try:
        suspension, (examined, changed) = service.create(valid, None)
    except ValueError as error:
        db.session.rollback()
        raise click.ClickException(f"{error}; nothing was changed.") from None
    covered = service.affected_count(suspension)
    db.session.commit()
    click.echo(f"Declared suspension {suspension.name!r} from {suspension.start_on}"
               f"{' to ' + str(suspension.lift_on) if suspension.lift_on else ' (ongoing)'}, "
               f"effect {suspension.effect}.")
    click.echo(f"It covers {covered} certificate(s); timelines examined {examined}, changed {changed}.")


@suspensions.command("lift")
@click.argument("name")
@click.option("--on", "on", required=True, help="The last day of the suspension, YYYY-MM-DD.")
@with_appcontext
def lift(name: str, on: str) -> None:
    """Record the lift date of suspension NAME."""
    from trainer.db import db

    suspension = service.find(name)
    if suspension is None:
        raise click.ClickException(f"no suspension named {name!r}; nothing was changed.")
    try:
        day = service.parse_date(on)
        examined, changed = service.lift(suspension, day, None)
    except ValueError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was changed.") from None
    covered = service.affected_count(suspension)
    db.session.commit()
    click.echo(f"Lifted {suspension.name!r} on {day}: it covers {covered} certificate(s); "
               f"timelines examined {examined}, changed {changed}.")


@suspensions.command("list")
@with_appcontext
def list_() -> None:
    """Every suspension with its window, scope, effect and counts."""
    rows = service.all_suspensions()
    if not rows:
        click.echo("No suspensions.")
        return
    for s in rows:
        effect = s.effect
        if s.effect == "deemed_valid":
            effect += f" holder {s.holder_deadline or 'open'} exam {s.exam_deadline or 'open'}"
        elif s.effect == "extend_by":
            effect += f" {s.extend_by}"
        else:
            effect += f" {s.extend_to}"
        click.echo(
            f"{s.name}\t{s.start_on} .. {s.lift_on or 'ongoing'}\t"
            f"regions {','.join(s.regions or []) or 'all'}\ttypes {','.join(s.types or []) or 'all'}\t"
            f"{effect}\tcovers {service.affected_count(s)}"
        )


@click.group("backlog")
def backlog() -> None:
    """The exam backlog after a lift."""


@backlog.command("plan")
@click.option("--suspension", "name", required=True, help="The suspension's name.")
@click.option("--today", default="", help="Plan as of this day (default: today).")
@click.option("--dry-run", is_flag=True, help="Print the plan without booking.")
@with_appcontext
def plan(name: str, today: str, dry_run: bool) -> None:
    """Book the backlog into exam sessions (earliest deadline first) and print the summary."""
    from trainer.certificates import backlog as backlog_service
    from trainer.db import db

    suspension = service.find(name)
    if suspension is None:
        raise click.ClickException(f"no suspension named {name!r}; nothing was changed.")
    day = _today(today)
    result, booked = backlog_service.plan_backlog(suspension, day, book=not dry_run)
    db.session.commit()
    for line in backlog_service.summary_lines(suspension, result, booked):
        click.echo(line)


@click.group("certificates")
def certificates() -> None:
    """Certificate commands (merged into the certificates group)."""


@certificates.command("remind")
@click.option("--today", default="", help="Run as of this day (default: today).")
@click.option("--no-send", is_flag=True, help="Only enqueue; leave sending to a later run.")
@with_appcontext
def remind(today: str, no_send: bool) -> None:
    """Enqueue due reminders (90/60/30/7 days before) and send pending ones. For cron."""
    from trainer.certificates import reminders
    from trainer.db import db

    day = _today(today)
    enqueued = reminders.enqueue_due(day)
    db.session.commit()
    click.echo(f"Reminders due on {day}: {enqueued.enqueued} enqueued for {enqueued.certificates} "
               f"certificate(s) ({enqueued.already} already in the outbox).")
    if no_send:
        return
    sent = reminders.send_pending()
    db.session.commit()
    click.echo(f"Sent {sent.sent}, failed {sent.failed}, still pending {sent.pending}.")


def load_demo() -> list[str]:
    """``trainer demo``: a few exam sessions in the coming weeks, so the demo suspension's
    backlog can be planned at once. Idempotent (only when there is no session yet)."""
    import sqlalchemy as sa

    from trainer.certificates.backlog_models import ExamSession
    from trainer.clock import today
    from trainer.db import db

    if db.session.scalar(sa.select(sa.func.count()).select_from(ExamSession)):
        return ["Exam sessions exist already; none added."]
    start = today()
    for days, place, capacity in [(7, "合肥市安全生产考试点", 20), (14, None, 50),
                                  (21, "芜湖市安全生产考试点", 20)]:
        db.session.add(ExamSession(day=start + dt.timedelta(days=days), place=place,
                                   capacity=capacity, type_codes=[], region_selector="34",
                                   notes="demo"))
    db.session.commit()
    return ["Added 3 demo exam sessions (Anhui) for the backlog planner."]
