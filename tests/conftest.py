"""Fixtures for the whole suite.

The database is real: SQLite in a temporary file by default, PostgreSQL when
TRAINER_TEST_DATABASE_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from trainer import create_app
from trainer.db import db

PASSWORD = "correct-horse-42"

# Property tests check rules, not speed: on a busy CI machine a per-example deadline only
# makes them flaky. (Performance is measured in bench/, never asserted in tests.)
settings.register_profile("trainer", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("trainer")


def test_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TRAINER_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def base_config(database_url: str, media_root: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "MEDIA_ROOT": str(media_root),
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "REDIS_URL": None,
        "SERVER_NAME": None,
        # Cheap hashing keeps the suite fast; production uses scrypt (the default).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return test_database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(base_config(database_url, tmp_path_factory.mktemp("media")))
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def clear_tables() -> None:
    from trainer.exams.services import forget_papers

    forget_papers()  # ids start again at 1: papers cached by the last test are not these
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        # The browser tests' live server may still answer the last test's page (a progress
        # ping) while this runs; PostgreSQL then picks one side of the lock cycle to fail.
        for attempt in range(5):
            try:
                db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                break
            except sa.exc.OperationalError as exc:
                db.session.rollback()
                if "deadlock detected" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.2)
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        clear_tables()
    yield
    with application.app_context():
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


class Client(FlaskClient):
    """A test client that can fetch a CSRF token and log in like a browser does."""

    def csrf(self, path: str = "/login") -> str:
        page = self.get(path, follow_redirects=True).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf())
        return self.post(path, data=payload, **kwargs)

    def login(self, login: str, password: str = PASSWORD) -> Any:
        response = self.post_form("/login", {"login": login, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def logout(self) -> Any:
        return self.post_form("/logout")


@pytest.fixture
def client(app: Flask) -> Client:
    app.test_client_class = Client
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


def valid_national_id(first17: str) -> str:
    from trainer.accounts.rules import national_id_check_char

    return first17 + national_id_check_char(first17)


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    """Two employers in two provinces, and one person of each role."""
    from werkzeug.security import generate_password_hash

    from trainer.accounts.models import Employer, Region, User

    with app.app_context():
        for code, name in [("340000", "安徽省"), ("340104", "蜀山区"), ("320000", "江苏省"),
                           ("320102", "玄武区")]:
            db.session.add(Region(code=code, name=name))
        acme = Employer(name="Acme Chemicals", region_code="340104")
        other = Employer(name="Other Welding", region_code="320102")
        db.session.add_all([acme, other])
        db.session.flush()
        pw = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        spec = {
            "admin": dict(username="admin", name="Ada Admin", role="admin"),
            "instructor": dict(username="teacher", name="Ivy Instructor", role="instructor"),
            "safety": dict(username="safety", name="Sam Safety", role="employer_admin",
                           employer_id=acme.id),
            "other_safety": dict(username="othersafety", name="Olga Other",
                                 role="employer_admin", employer_id=other.id),
            "worker": dict(phone="13800000001", name="Wang Worker", role="worker",
                           employer_id=acme.id,
                           national_id=valid_national_id("34010419900307001")),
            "other_worker": dict(phone="13900000002", name="Oscar Other", role="worker",
                                 employer_id=other.id,
                                 national_id=valid_national_id("32010219950612002")),
        }
        out: dict[str, Any] = {"acme_id": acme.id, "other_id": other.id}
        for key, fields in spec.items():
            user = User(password_hash=pw, **fields)
            db.session.add(user)
            db.session.flush()
            out[key] = user.id
            out[key + "_login"] = fields.get("username") or fields.get("phone")
        db.session.commit()
    return out
