import subprocess
import sys

import pytest

from trainer import create_app


def test_importing_the_package_builds_nothing():
    code = ("import sys, trainer; "
            "assert 'trainer.app' not in sys.modules and 'flask_sqlalchemy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("TRAINER_SECRET_KEY", raising=False)
    monkeypatch.setenv("TRAINER_ENV", "production")
    with pytest.raises(RuntimeError, match="TRAINER_SECRET_KEY"):
        create_app()


def test_configuration_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRAINER_ENV", "production")
    monkeypatch.setenv("TRAINER_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("TRAINER_DATABASE_URL", "postgresql://u@db.example/trainer")
    monkeypatch.setenv("TRAINER_MEDIA_ROOT", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/trainer"
    assert app.config["MEDIA_ROOT"] == str(tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_bad_integer_setting_is_named(monkeypatch):
    monkeypatch.setenv("TRAINER_ENV", "development")
    monkeypatch.setenv("TRAINER_LOGIN_MAX_FAILURES", "five")
    with pytest.raises(RuntimeError, match="TRAINER_LOGIN_MAX_FAILURES"):
        create_app()


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32,
                      "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 1}}})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
