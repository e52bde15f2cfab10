"""The ceiling for the answer-save benchmark: the least a save can cost on the same stack.

A minimal Flask app doing one upsert per request (PUT /ceiling/<attempt>/<question> with
``{"response": …}``) through SQLAlchemy and psycopg 3, with trainer's own engine options, served
by the same gunicorn settings (``gunicorn.conf.py``) against the same PostgreSQL database.
bench/exams_load.py starts it and compares answer-save throughput at saturation with it:

    gunicorn -c gunicorn.conf.py --pythonpath bench 'ceiling_app:create_app()'

It has no authentication, no ownership or deadline check and no ORM: what the real save does on
top of this is what the comparison measures. Its table ``bench_ceiling`` lives only in the
benchmark database (``TRAINER_DATABASE_URL``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

from trainer import config

metadata = sa.MetaData()
ceiling = sa.Table(
    "bench_ceiling", metadata,
    sa.Column("attempt_id", sa.Integer, primary_key=True),
    sa.Column("question_id", sa.Integer, primary_key=True),
    sa.Column("response", sa.JSON),
    sa.Column("client_seq", sa.BigInteger),
    sa.Column("saved_at", sa.DateTime(timezone=True)),
)


def create_app() -> Flask:
    settings = config.from_environment()
    engine = sa.create_engine(settings["SQLALCHEMY_DATABASE_URI"],
                              **settings["SQLALCHEMY_ENGINE_OPTIONS"])
    try:
        metadata.create_all(engine)
    except sa.exc.DBAPIError:
        # Several gunicorn workers boot at once on a fresh database: one of them made the
        # table between another's check and its CREATE TABLE.
        metadata.create_all(engine)
    app = Flask("ceiling")

    from sqlalchemy.dialects.postgresql import insert

    @app.put("/ceiling/<int:attempt_id>/<int:question_id>")
    def save(attempt_id: int, question_id: int) -> Any:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or "response" not in data:
            abort(400)
        statement = insert(ceiling).values(
            attempt_id=attempt_id, question_id=question_id, response=data["response"],
            client_seq=data.get("seq"), saved_at=sa.func.now())
        statement = statement.on_conflict_do_update(
            index_elements=["attempt_id", "question_id"],
            set_={"response": statement.excluded.response,
                  "client_seq": statement.excluded.client_seq, "saved_at": sa.func.now()},
            # Like the real save, an older sequence number never overwrites a newer answer.
            where=sa.or_(ceiling.c.client_seq.is_(None),
                         ceiling.c.client_seq < statement.excluded.client_seq))
        with engine.begin() as connection:
            connection.execute(statement)
        return jsonify(saved=True)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    return app
