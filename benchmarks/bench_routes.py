"""Ceiling routes for the benchmark: what one request costs with no application logic.

Registered only by ``benchmarks.bench_wsgi`` when EXAMSYS_BENCH_ROUTES=1, so they never
exist in a production app. Each goes through the same app, middleware, pool and
database settings as the real routes, which is what makes the ratios meaningful:

- ``GET /bench/bare``: no database at all (the cost of Flask + gunicorn + HTTP);
- ``GET /bench/read``: one row read by primary key;
- ``POST /bench/insert``: one row inserted and committed durably (fsync'd WAL on
  PostgreSQL with synchronous_commit=on; WAL + synchronous=FULL on SQLite).

These two go through the request's session, as the app's ORM reads and writes a row: on
PostgreSQL three round trips (BEGIN, the statement, COMMIT or ROLLBACK). The ``_raw``
twins are the least this stack can do: one statement on the driver's cursor, on a
connection in autocommit (one round trip on PostgreSQL), the way the autosave and the
verification API now talk to PostgreSQL. A ratio to those is the stricter one.
"""

import os
import random

from flask import Blueprint, Flask, jsonify
from sqlalchemy import bindparam, column, select, table, text
from sqlalchemy import insert as insert_into

from examsys.core import driver
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


_BENCH_ROW = table(BENCH_TABLE, column("id"), column("payload"))
_INSERT_RAW = insert_into(_BENCH_ROW).values(payload=bindparam("p")).returning(_BENCH_ROW.c.id)
_USER = table("users", column("id"), column("name"))
_READ_RAW = select(_USER.c.id, _USER.c.name).where(_USER.c.id == bindparam("id"))


def _one_statement(stmt, params: dict):
    """``stmt`` alone on a connection of its own (``driver.own_connection``): PostgreSQL in
    autocommit on the driver's cursor, SQLite in a transaction of its own (it has no
    round trips to save)."""
    with driver.own_connection(db.engine) as conn:
        if conn.dialect.name == "postgresql":
            return driver.fetch_one(conn, stmt, params, prepare=True)
        row = conn.execute(stmt, params).first()
        conn.commit()
        return row


@bp.route("/read_raw")
@public
def read_raw():
    top = int(os.environ.get("EXAMSYS_BENCH_READ_MAX_ID", "1000"))
    row = _one_statement(_READ_RAW, {"id": random.randint(1, top)})
    return jsonify({"id": row.id if row else None})


@bp.route("/insert_raw", methods=["POST"])
@public
@csrf.exempt  # bench-only route: no session, nothing to forge
def insert_raw():
    return jsonify({"id": _one_statement(_INSERT_RAW, {"p": "x" * 40}).id}), 201


def register(app: Flask) -> bool:
    """Add the ceiling routes when EXAMSYS_BENCH_ROUTES=1; returns whether it did."""
    if os.environ.get(ENV_FLAG) != "1":
        return False
    app.register_blueprint(bp)
    return True
