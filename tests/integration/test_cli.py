import sqlalchemy as sa

from tests.conftest import valid_national_id
from trainer.accounts.models import Employer, User
from trainer.db import db


def test_users_create_is_idempotent(app, runner):
    result = runner.invoke(args=["users", "create", "--login", "13700000001", "--password",
                                 "abc12345", "--role", "worker", "--name", "CLI Worker"])
    assert result.exit_code == 0, result.output
    assert "Created worker CLI Worker" in result.output
    again = runner.invoke(args=["users", "create", "--login", "13700000001", "--password",
                                "abc12345", "--role", "worker", "--name", "CLI Worker"])
    assert again.exit_code == 0 and "exists already" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_users_create_refuses_bad_input(app, runner):
    result = runner.invoke(args=["users", "create", "--login", "boss", "--password", "short",
                                 "--role", "employer_admin", "--name", "Boss"])
    assert result.exit_code != 0
    assert "password" in result.output and "employer" in result.output


def test_users_import_all_or_nothing_and_rerunnable(app, runner, people, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("name,phone,role,national_id,employer\n"
                    f"A,13700000011,worker,{valid_national_id('34010419900101011')},Acme Chemicals\n"
                    "B,13700000012,worker,,Acme Chemicals\n", encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "Created 2 user(s)" in result.output and "initial password" in result.output
    again = runner.invoke(args=["users", "import", str(good)])
    assert again.exit_code == 0 and "exist already" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name,phone,role\nC,13700000013,worker\nD,999,worker\n", encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(bad)])
    assert result.exit_code != 0
    assert "bad.csv: row 3: phone" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.phone == "13700000013")) is None



def test_users_import_keeps_to_the_configured_size_limit(app, runner, people, tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(("name,phone\n" + "Somebody,13700000099\n" * 2_000).encode())
    app.config["IMPORT_MAX_BYTES"] = 1024
    try:
        result = runner.invoke(args=["users", "import", str(big)])
    finally:
        app.config["IMPORT_MAX_BYTES"] = 10 * 1024 * 1024
    assert result.exit_code != 0 and "TRAINER_IMPORT_MAX_MB" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.phone == "13700000099")) is None

def test_demo_is_idempotent_and_prints_how_to_log_in(app, runner):
    first = runner.invoke(args=["demo", "--no-migrate"])
    assert first.exit_code == 0, first.output
    assert "demo worker 13800000001 created" in first.output
    assert "password for all" in first.output
    second = runner.invoke(args=["demo", "--no-migrate"])
    assert second.exit_code == 0 and "created" not in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 6
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Employer)) == 2
        worker = db.session.scalar(sa.select(User).where(User.phone == "13800000001"))
        assert worker.national_id and worker.employer is not None
