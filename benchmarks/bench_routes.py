"""Ceiling routes for the benchmark: what one request costs with no application logic.

Registered only by ``benchmarks.bench_wsgi`` when EXAMSYS_BENCH_ROUTES=1, so they never
exist in a production app. Each goes through the same app, middleware, pool and
database settings as the real routes, which is what makes the ratios meaningful:

- ``GET /bench/bare``: no database at all (the cost of Flask + gunicorn + HTTP);
- ``GET /bench/read``: one row read by primary key;
- ``POST /bench/insert``: one row inserted and committed durably (fsync'd WAL on
  PostgreSQL with synchronous_commit=on; WAL + synchronous=FULL on SQLite).
"""

import os
import random

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from examsys.core.auth import public
from examsys.extensions import csrf, db

ENV_FLAG = "EXAMSYS_BENCH_ROUTES"
BENCH_TABLE = "bench_write"

bp = Blueprint("bench", __name__, url_prefix="/bench")


def create_bench_table() -> None:
    """The scratch table the insert ceiling writes to (not part of the app's schema)."""
    serial = "BIGSERIAL" if db.engine.dialect.name == "postgresql" else "INTEGER"
    db.session.execute(text(f"CREATE TABLE IF NOT EXISTS {BENCH_TABLE} ("
                            f"id {serial} PRIMARY KEY, payload VARCHAR(200) NOT NULL)"))
    db.session.commit()


@bp.route("/bare")
@public
def bare():
    return jsonify({"ok": True})


@bp.route("/read")
@public
def read():
    # The user ids are dense from 1 after seeding; the read is a primary-key lookup, the
    # same access path as loading a login session or a certificate.
    top = int(os.environ.get("EXAMSYS_BENCH_READ_MAX_ID", "1000"))
    row = db.session.execute(text("SELECT id, name FROM users WHERE id = :id"),
                             {"id": random.randint(1, top)}).first()
    return jsonify({"id": row.id if row else None})


@bp.route("/insert", methods=["POST"])
@public
@csrf.exempt  # bench-only route: no session, nothing to forge
def insert():
    row_id = db.session.execute(
        text(f"INSERT INTO {BENCH_TABLE} (payload) VALUES (:p) RETURNING id"),  # noqa: S608
        {"p": "x" * 40}).scalar_one()
    db.session.commit()
    return jsonify({"id": row_id}), 201


def register(app: Flask) -> bool:
    """Add the ceiling routes when EXAMSYS_BENCH_ROUTES=1; returns whether it did."""
    if os.environ.get(ENV_FLAG) != "1":
        return False
    app.register_blueprint(bp)
    return True
