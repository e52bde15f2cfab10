"""``trainer demo`` creates the demo exams once; ``trainer exams close-overdue`` for cron."""

from __future__ import annotations

import random

import sqlalchemy as sa

from trainer.accounts.models import User
from trainer.clock import utcnow
from trainer.db import db
from trainer.exams import services
from trainer.exams.models import Exam


def test_demo_creates_a_formal_and_a_practice_exam_per_sample_bank(app, runner):
    first = runner.invoke(args=["demo", "--no-migrate"])
    assert first.exit_code == 0, first.output
    assert "理论考试 (formal) created" in first.output
    with app.app_context():
        exams = db.session.scalars(sa.select(Exam).order_by(Exam.id)).all()
        assert len(exams) == 6
        assert {e.mode for e in exams} == {"formal", "practice"}
        assert {e.certificate_type for e in exams} == {"1.2", "2.1", "SM"}
        worker = db.session.scalar(sa.select(User).where(User.phone == "13800000001"))
        attempt, created = services.start_attempt(exams[0], worker, utcnow(), random.Random(1))
        assert created and len(attempt.questions) == 70
        assert sum(q.max_points for q in attempt.questions) == 100
        db.session.rollback()
    second = runner.invoke(args=["demo", "--no-migrate"])
    assert second.exit_code == 0 and ") created" not in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Exam)) == 6


def test_close_overdue_with_nothing_to_do(runner, app):
    result = runner.invoke(args=["exams", "close-overdue"])
    assert result.exit_code == 0 and result.output.strip() == "Closed 0 overdue attempt(s)."
