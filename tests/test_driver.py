"""Statements on psycopg's own cursor (examsys.core.driver, PostgreSQL's hot paths) behave
as SQLAlchemy's do: named rows, statement events, SQLAlchemy's errors, and a lost
connection replaced by the pool."""

import pytest
from sqlalchemy import event, func, literal_column, select, text
from sqlalchemy.exc import DataError, OperationalError

from examsys.accounts.models import User
from examsys.core import driver
from examsys.extensions import db


@pytest.fixture
def pg(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's cursor: PostgreSQL only")


def test_rows_are_named_as_sqlalchemy_labels_them_and_events_see_them(pg, candidate):
    user_id, email = candidate.id, candidate.email
    conn = db.session.connection()
    seen = []
    listener = lambda _c, _cur, statement, *_a: seen.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        row = driver.fetch_one(conn, select(User.id, User.email.label("address"))
                               .where(User.id == user_id), {"id_1": user_id})
        missing = driver.fetch_one(conn, select(User.id).where(User.id == -1), {"id_1": -1})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert (row.id, row.address) == (user_id, email)
    assert missing is None
    assert len(seen) == 2 and seen[0].startswith("SELECT users.id, users.email AS address")


def test_a_driver_error_is_sqlalchemys_and_the_session_goes_on(pg):
    conn = db.session.connection()
    with pytest.raises(DataError) as caught:
        driver.fetch_one(conn, select(literal_column("1 / 0").label("x")), {})
    assert "division by zero" in str(caught.value.orig)
    db.session.rollback()
    assert db.session.scalar(select(literal_column("2"))) == 2


def test_a_lost_connection_is_invalidated_and_the_pool_replaces_it(pg):
    conn = db.session.connection()
    pid = driver.fetch_one(conn, select(func.pg_backend_pid().label("pid")), {}).pid
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(OperationalError) as caught:
        driver.fetch_one(conn, select(literal_column("1").label("one")), {})
    assert caught.value.connection_invalidated
    db.session.rollback()
    assert db.session.scalar(select(func.pg_backend_pid())) != pid
