"""trainer suspensions add|lift|list, trainer backlog plan, trainer certificates remind."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from trainer.audit.models import AuditEntry
from trainer.certificates import services
from trainer.certificates.backlog_models import BacklogBooking, ExamSession, ReminderOutbox
from trainer.certificates.models import Certificate, Suspension
from trainer.db import db

D = dt.date


@pytest.fixture
def catalogue(app):
    with app.app_context():
        services.ensure_catalogue(db.session)
        db.session.commit()


def make_certificate(number, type_code="1.2", region="340104", due=None, **extra):
    due = due or D(2020, 2, 10)
    values = dict(number=number, holder_name="张三", id_number="340104199001011234",
                  type_code=type_code, region_code=region, issued_on=due - dt.timedelta(days=2000),
                  expires_on=due)
    values.update(extra)
    return services.add_certificate(db.session, **values)


def cert(app, number):
    with app.app_context():
        row = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
        db.session.expunge(row)
        return row


def invoke(runner, *args):
    return runner.invoke(args=list(args), catch_exceptions=False)


def test_worked_example_through_the_command_line(app, runner, catalogue):
    with app.app_context():
        make_certificate("AH-1")
        make_certificate("JS-1", region="320100")
        db.session.commit()
    result = invoke(runner, "suspensions", "add", "--name", "Anhui Level I", "--start", "2020-01-24",
                    "--regions", "34")
    assert result.exit_code == 0, result.output
    assert "covers 1 certificate(s)" in result.output
    ah = cert(app, "AH-1")
    assert ah.covered and ah.valid_until is None and ah.holder_deadline is None

    result = invoke(runner, "suspensions", "lift", "Anhui Level I", "--on", "2020-02-25")
    assert result.exit_code == 0, result.output
    ah = cert(app, "AH-1")
    assert (ah.holder_deadline, ah.exam_deadline, ah.valid_until) == (
        D(2020, 4, 8), D(2020, 5, 21), D(2020, 4, 8))
    assert not cert(app, "JS-1").covered

    listing = invoke(runner, "suspensions", "list").output
    assert "Anhui Level I\t2020-01-24 .. 2020-02-25\tregions 34\ttypes all" in listing
    assert "holder 30wd exam 60wd" in listing and "covers 1" in listing
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["suspension.create", "suspension.lift"]


def test_four_variants_from_the_command_line(app, runner, catalogue):
    with app.app_context():
        make_certificate("NX", region="640100")
        make_certificate("SZ", region="440300")
        make_certificate("JS", region="320582")
        make_certificate("SC", region="510100", due=D(2020, 1, 10))
        db.session.commit()
    for args in (
        ["--name", "Ningxia", "--start", "2020-01-25", "--lift", "2020-03-02", "--regions", "64",
         "--holder-deadline", "60d", "--exam-deadline", "60d"],
        ["--name", "Shenzhen", "--start", "2020-01-25", "--regions", "4403",
         "--holder-deadline", "none", "--exam-deadline", "none"],
        ["--name", "Jiangsu", "--start", "2020-02-01", "--lift", "2020-04-30", "--regions", "32",
         "--effect", "extend_by", "--extend-by", "90d"],
        ["--name", "Sichuan", "--start", "2020-01-10", "--lift", "2020-12-31", "--regions", "51",
         "--effect", "extend_to", "--extend-to", "2020-12-31"],
    ):
        result = invoke(runner, "suspensions", "add", *args)
        assert result.exit_code == 0, result.output
    assert cert(app, "NX").valid_until == D(2020, 5, 6)
    assert cert(app, "SZ").valid_until is None and cert(app, "SZ").covered
    assert cert(app, "JS").valid_until == D(2020, 5, 10)
    assert cert(app, "SC").valid_until == D(2020, 12, 31)


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "2020-13-01"], "is not a date"),
    (["--start", "2020-01-01", "--lift", "2019-12-31"], "before the start"),
    (["--start", "2020-01-01", "--holder-deadline", "30x"], "is not a deadline"),
    (["--start", "2020-01-01", "--exam-deadline", "0wd"], "is not a deadline"),
    (["--start", "2020-01-01", "--regions", "3"], "is not a region code"),
    (["--start", "2020-01-01", "--types", "99.9"], "is not a certificate type"),
    (["--start", "2020-01-01", "--effect", "forever"], "must be one of"),
    (["--start", "2020-01-01", "--effect", "extend_by", "--extend-by", "3m"], "calendar days"),
    (["--start", "2020-01-01", "--effect", "extend_by"], "number of days"),
    (["--start", "2020-01-01", "--effect", "extend_to", "--extend-to", "soon"], "is not a date"),
    (["--start", "2020-01-01", "--lift", "2020-03-01", "--effect", "extend_to",
      "--extend-to", "2020-02-01"], "shorten"),
    (["--start", "2020-01-01", "--source", "javascript:alert(1)"], "http"),
])
def test_bad_arguments_change_nothing(app, runner, catalogue, args, message):
    result = runner.invoke(args=["suspensions", "add", "--name", "Bad", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "nothing was changed" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Suspension)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_duplicate_name_and_bad_lift(app, runner, catalogue):
    assert invoke(runner, "suspensions", "add", "--name", "S", "--start", "2020-01-24").exit_code == 0
    again = runner.invoke(args=["suspensions", "add", "--name", "S", "--start", "2020-01-24"])
    assert again.exit_code != 0 and "exists already" in again.output
    for args, message in [(["S", "--on", "2020-01-01"], "before the start"),
                          (["S", "--on", "yesterday"], "is not a date"),
                          (["Nope", "--on", "2020-03-01"], "no suspension named")]:
        result = runner.invoke(args=["suspensions", "lift", *args])
        assert result.exit_code != 0 and message in result.output, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Suspension.lift_on)) is None
    assert invoke(runner, "suspensions", "list").output.count("ongoing") == 1


def test_empty_list(runner, app):
    assert invoke(runner, "suspensions", "list").output.strip() == "No suspensions."


def test_backlog_plan_prints_summary_and_books(app, runner, catalogue):
    with app.app_context():
        for i in range(5):
            make_certificate(f"AH-{i}")
        db.session.add(ExamSession(day=D(2020, 3, 10), place="合肥", capacity=3, type_codes=[],
                                   region_selector=""))
        db.session.add(ExamSession(day=D(2020, 6, 1), place=None, capacity=10, type_codes=[],
                                   region_selector=""))
        db.session.commit()
    invoke(runner, "suspensions", "add", "--name", "Anhui", "--start", "2020-01-24",
           "--lift", "2020-02-25", "--regions", "34")
    dry = invoke(runner, "backlog", "plan", "--suspension", "Anhui", "--today", "2020-03-01",
                 "--dry-run")
    assert "5 certificate(s), 0 examined, 5 to examine" in dry.output
    assert "new bookings: 5 (not written)" in dry.output
    assert "NOT feasible" in dry.output and "2 certificate(s) would be examined after" in dry.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BacklogBooking)) == 0
    result = invoke(runner, "backlog", "plan", "--suspension", "Anhui", "--today", "2020-03-01")
    assert "new bookings: 5 (written)" in result.output
    with app.app_context():
        days = db.session.execute(sa.select(ExamSession.day, sa.func.count())
                                  .join(BacklogBooking, BacklogBooking.session_id == ExamSession.id)
                                  .group_by(ExamSession.day).order_by(ExamSession.day)).all()
    assert [tuple(r) for r in days] == [(D(2020, 3, 10), 3), (D(2020, 6, 1), 2)]
    again = invoke(runner, "backlog", "plan", "--suspension", "Anhui", "--today", "2020-03-01")
    assert "Bookings kept: 5; new bookings: 0" in again.output
    missing = runner.invoke(args=["backlog", "plan", "--suspension", "Nope"])
    assert missing.exit_code != 0 and "no suspension named" in missing.output
    bad = runner.invoke(args=["backlog", "plan", "--suspension", "Anhui", "--today", "2020-02-30"])
    assert bad.exit_code != 0 and "is not a date" in bad.output


def test_remind_enqueues_once_and_catches_up(app, runner, catalogue, people):
    with app.app_context():
        make_certificate("R-1", due=D(2026, 6, 30), holder_user_id=people["worker"],
                         employer_id=people["acme_id"])
        make_certificate("R-2", due=D(2027, 6, 30), holder_user_id=people["worker"],
                         employer_id=people["acme_id"])
        db.session.commit()
    # 45 days before: the 90 and 60 stages are both due; only 60 goes (to the worker by SMS and
    # to the employer admin, who has no mobile number, by e-mail).
    result = invoke(runner, "certificates", "remind", "--today", "2026-05-16")
    assert "2 enqueued for 1 certificate(s)" in result.output, result.output
    assert "Sent 2, failed 0, still pending 0." in result.output
    assert "[reminder sms to 13800000001]" in result.output
    with app.app_context():
        rows = db.session.execute(sa.select(ReminderOutbox.stage, ReminderOutbox.channel,
                                            ReminderOutbox.recipient_id, ReminderOutbox.kind)).all()
    assert sorted(tuple(r) for r in rows) == sorted([(60, "sms", people["worker"], "due"),
                                                     (60, "email", people["safety"], "due")])
    again = invoke(runner, "certificates", "remind", "--today", "2026-05-20")
    assert "0 enqueued for 1 certificate(s) (2 already in the outbox)" in again.output
    assert "Sent 0" in again.output
    later = invoke(runner, "certificates", "remind", "--today", "2026-06-25", "--no-send")
    assert "2 enqueued" in later.output and "Sent" not in later.output
    bad = runner.invoke(args=["certificates", "remind", "--today", "soon"])
    assert bad.exit_code != 0 and "is not a date" in bad.output


def test_remind_backlog_deadlines(app, runner, catalogue, people):
    with app.app_context():
        make_certificate("AH", holder_user_id=people["worker"], employer_id=people["acme_id"])
        db.session.commit()
    invoke(runner, "suspensions", "add", "--name", "Anhui", "--start", "2020-01-24",
           "--lift", "2020-02-25", "--regions", "34")
    result = invoke(runner, "certificates", "remind", "--today", "2020-03-10")
    assert "2 enqueued for 1 certificate(s)" in result.output
    with app.app_context():
        kinds = db.session.execute(sa.select(ReminderOutbox.kind, ReminderOutbox.stage,
                                             ReminderOutbox.due_on).distinct()).all()
        assert [tuple(k) for k in kinds] == [("holder_deadline", 30, D(2020, 4, 8))]
        # Once the holder has applied, the exam deadline is reminded instead.
        from trainer.certificates import backlog

        row = db.session.scalar(sa.select(Certificate).where(Certificate.number == "AH"))
        backlog.record_progress(row, "applied", D(2020, 3, 12), None)
        db.session.commit()
    result = invoke(runner, "certificates", "remind", "--today", "2020-03-13")
    assert "2 enqueued for 1 certificate(s)" in result.output
    with app.app_context():
        kinds = db.session.execute(sa.select(ReminderOutbox.kind, ReminderOutbox.stage,
                                             ReminderOutbox.due_on).distinct()).all()
    assert sorted(tuple(k) for k in kinds) == [("exam_deadline", 90, D(2020, 5, 21)),
                                               ("holder_deadline", 30, D(2020, 4, 8))]


def assert_timelines_current():
    from trainer.certificates import timelines

    context = timelines.load_context(db.session())
    stale = []
    for row in db.session.scalars(sa.select(Certificate)):
        expected = timelines.compute(row, context)
        stored = {key: getattr(row, key) for key in expected}
        if stored != expected:
            stale.append((row.number, stored, expected))
    assert stale == []


def test_targeted_refresh_keeps_every_timeline_current(app, catalogue):
    """After each declare / edit / lift / delete, every stored timeline equals the pure rules'
    answer, although only the certificates a change can touch are recomputed."""
    import random

    from trainer.certificates import suspensions as service

    rng = random.Random(7)
    regions = ["340104", "340202", "320100", "420102", "440304", "110101"]
    types = ["1.1", "1.2", "2.1", "SM"]
    with app.app_context():
        for i in range(300):
            due = D(2019, 10, 1) + dt.timedelta(days=rng.randrange(400))
            applied = None if rng.random() < 0.8 else due + dt.timedelta(days=rng.randrange(90))
            make_certificate(f"C{i}", type_code=rng.choice(types), region=rng.choice(regions),
                             due=due, renewal_applied_on=applied)
        db.session.commit()

        def declare(**values):
            valid, problems = service.validate(service.SuspensionInput(**values))
            assert valid is not None, problems.lines()
            created, _ = service.create(valid, None)
            db.session.commit()
            assert_timelines_current()
            return created

        first = declare(name="A", start="2020-01-24", regions="34,42")
        declare(name="B", start="2020-04-01", lift="2020-04-20", regions="3401", types="1")
        declare(name="C", start="2020-02-01", lift="2020-04-30", regions="32", effect="extend_by",
                extend_by="90d")
        service.lift(first, D(2020, 2, 25), None)
        db.session.commit()
        assert_timelines_current()
        # B now spans A's holder deadline (2020-04-08): chained certificates move to B.
        chained = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)
                                    .join(Suspension).where(Suspension.name == "B",
                                                            Certificate.due_on < D(2020, 4, 1)))
        assert chained > 0
        b = service.find("B")
        data = service.input_from(b)
        data.lift = "2020-04-05"  # no longer spans A's deadline: they go back to A
        valid, _ = service.validate(data, b)
        service.update(b, valid, None)
        db.session.commit()
        assert_timelines_current()
        data.lift = "2020-04-20"
        valid, _ = service.validate(data, b)
        service.update(b, valid, None)
        db.session.commit()
        assert_timelines_current()
        service.delete(service.find("B"), None)
        db.session.commit()
        assert_timelines_current()
        declare(name="D", start="2020-03-01", regions="", types="2")
        service.delete(service.find("A"), None)
        db.session.commit()
        assert_timelines_current()


def test_senders_behind_the_interface(app, runner, catalogue, people, monkeypatch, caplog):
    import logging

    from trainer.certificates import reminders

    with app.app_context():
        make_certificate("S-1", due=D(2026, 6, 30), holder_user_id=people["worker"],
                         employer_id=people["acme_id"])
        db.session.commit()
    monkeypatch.setitem(app.config, "REMINDER_SMS_SENDER", "sms_log_stub")
    monkeypatch.setitem(app.config, "REMINDER_EMAIL_SENDER", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    with caplog.at_level(logging.INFO, logger="trainer.certificates.reminders"):
        result = invoke(runner, "certificates", "remind", "--today", "2026-06-25")
    # The worker's SMS goes to the log stub; the employer admin has no e-mail address on file,
    # so the e-mail fails and stays pending for the next run (up to 5 attempts).
    assert "Sent 1, failed 1, still pending 1." in result.output
    assert "SMS stub (not sent) to 13800000001" in caplog.text
    with app.app_context():
        row = db.session.scalar(sa.select(ReminderOutbox).where(ReminderOutbox.channel == "email"))
        assert row.sent_at is None and row.attempts == 1 and "no e-mail address" in row.last_error
        for _ in range(5):
            reminders.send_pending(D(2026, 6, 25))
        db.session.commit()
        row = db.session.scalar(sa.select(ReminderOutbox).where(ReminderOutbox.channel == "email"))
        assert row.attempts == reminders.MAX_ATTEMPTS
        assert isinstance(reminders.sender_for("sms"), reminders.SmsLogStub)
        assert isinstance(reminders.sender_for("email"), reminders.SmtpEmailSender)
    monkeypatch.setitem(app.config, "REMINDER_EMAIL_SENDER", "console")
    with app.app_context():
        assert isinstance(reminders.sender_for("email"), reminders.ConsoleSender)


def test_stages_are_a_setting(app, runner, catalogue, people, monkeypatch):
    with app.app_context():
        make_certificate("ST-1", due=D(2026, 6, 30), holder_user_id=people["worker"])
        db.session.commit()
    monkeypatch.setitem(app.config, "REMINDER_STAGES", "14,3")
    quiet = invoke(runner, "certificates", "remind", "--today", "2026-06-01", "--no-send")
    assert "0 enqueued for 0 certificate(s)" in quiet.output
    due = invoke(runner, "certificates", "remind", "--today", "2026-06-20", "--no-send")
    assert "1 enqueued for 1 certificate(s)" in due.output
    with app.app_context():
        assert db.session.scalar(sa.select(ReminderOutbox.stage)) == 14


def test_exam_passed_signal_marks_the_booking(app, runner, catalogue, people):
    from trainer import signals

    with app.app_context():
        make_certificate("AH", holder_user_id=people["worker"])
        db.session.commit()
    invoke(runner, "suspensions", "add", "--name", "Anhui", "--start", "2020-01-24",
           "--lift", "2020-02-25", "--regions", "34")
    with app.app_context():
        db.session.add(ExamSession(day=D(2020, 3, 10), place="X", capacity=3, type_codes=[],
                                   region_selector=""))
        db.session.commit()
    invoke(runner, "backlog", "plan", "--suspension", "Anhui", "--today", "2020-03-01")
    with app.app_context():
        signals.exam_passed.send(app, user_id=people["worker"], certificate_type="1.2",
                                 passed_on=D(2020, 3, 10), attempt_id=1, score=90)
        db.session.commit()
        booking = db.session.scalar(sa.select(BacklogBooking))
        assert (booking.state, booking.result_on) == ("passed", D(2020, 3, 10))
    summary = invoke(runner, "backlog", "plan", "--suspension", "Anhui", "--today", "2020-03-11")
    assert "1 examined, 0 to examine" in summary.output
