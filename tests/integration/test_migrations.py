"""``db upgrade`` from an empty database gives exactly the schema the models describe."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from trainer import create_app
from trainer.db import db


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"trainer_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1)
                             if database_url.startswith("postgresql://") else database_url,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = database_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# SQLite cannot reflect expression indexes (lower(username)), so autogenerate skips them there
# with a warning; PostgreSQL compares them, and the test below checks the index exists anyway.
EXPRESSION_INDEXES = {"uq_users_username_lower": "lowerusername"}  # without brackets and casts


@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning")
def test_upgrade_head_matches_the_models(empty_database_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            for name, expression in EXPRESSION_INDEXES.items():
                sql = conn.scalar(sa.text(
                    "select indexdef from pg_indexes where indexname = :n"
                    if conn.dialect.name == "postgresql" else
                    "select sql from sqlite_master where type = 'index' and name = :n"),
                    {"n": name})
                assert sql and "UNIQUE" in sql.upper(), (name, sql)
                assert expression in re.sub(r"[()\s\"]|::text", "", sql.lower()), (name, sql)
        assert diff == [], f"models and migrations differ; run 'trainer db migrate': {diff}"
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
