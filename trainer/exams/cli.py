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


# The demo papers: 40 true/false at 1 point, 20 single choice at 2, 10 multiple choice at 2
# (100 points), 120 minutes, pass at 80: the national theory exam's shape, kept as data here.
DEMO_BLUEPRINT = [
    {"type": "true_false", "category": "", "count": 40, "points": 1},
    {"type": "single", "category": "", "count": 20, "points": 2},
    {"type": "multiple", "category": "", "count": 10, "points": 2},
]
DEMO_TIME_LIMIT_SECONDS = 120 * 60


def load_demo() -> list[str]:
    """A formal exam and a practice (mock) exam for every sample bank (once)."""
    import sqlalchemy as sa

    from trainer.exams import rules, services
    from trainer.exams.models import FORMAL, PRACTICE, Exam
    from trainer.questions.cli import QUESTION_BANK_ROOT
    from trainer.questions.services import find_bank

    index = QUESTION_BANK_ROOT / "banks.toml"
    if not index.exists():
        return []
    import tomllib

    lines = []
    blueprint = rules.parse_blueprint(DEMO_BLUEPRINT)
    for entry in tomllib.loads(index.read_text(encoding="utf-8")).get("banks", []):
        bank = find_bank(entry["name"])
        if bank is None:
            continue
        base = entry["name"].removesuffix("题库")
        codes = entry.get("certificate_types") or [""]
        for mode, title in ((FORMAL, f"{base}理论考试"), (PRACTICE, f"{base}模拟练习")):
            if db.session.scalar(sa.select(Exam.id).where(Exam.title == title)) is not None:
                continue
            data = services.ExamInput(
                title=title, bank_ids=[bank.id], question_count=0,
                time_limit_seconds=DEMO_TIME_LIMIT_SECONDS, blueprint=blueprint,
                certificate_type=codes[0], mode=mode)
            problem = services.paper_problem(data.bank_ids, data.blueprint, 0)
            if problem is not None:
                lines.append(f"exam {title} skipped: {problem}")
                continue
            services.create_exam(data, None)
            lines.append(f"exam {title} ({mode}) created")
    db.session.commit()
    return lines
