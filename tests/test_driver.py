"""Statements on psycopg's own cursor (examsys.core.driver, PostgreSQL's hot paths) behave
as SQLAlchemy's do: named rows, statement events, SQLAlchemy's errors, and a lost
connection replaced by the pool."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, insert, literal_column, select, text, update
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from examsys.accounts.models import User
from examsys.core import driver
from examsys.core.audit import AuditEvent
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


def test_a_statement_without_rows_answers_none(pg, candidate):
    user_id = candidate.id
    conn = db.session.connection()
    renamed = update(User).where(User.id == user_id).values(name="Renamed")
    assert driver.fetch_one(conn, renamed, {"id_1": user_id, "name": "Renamed"}) is None
    assert db.session.scalar(select(User.name).where(User.id == user_id)) == "Renamed"


def test_a_driver_error_is_sqlalchemys_and_the_session_goes_on(pg):
    conn = db.session.connection()
    with pytest.raises(DataError) as caught:
        driver.fetch_one(conn, select(literal_column("1 / 0").label("x")), {})
    assert "division by zero" in str(caught.value.orig)
    db.session.rollback()
    assert db.session.scalar(select(literal_column("2"))) == 2


def _lose(conn) -> int:
    """End ``conn``'s server process and check that its next statement fails as a lost
    connection, invalidated; returns the process's id."""
    pid = driver.fetch_one(conn, select(func.pg_backend_pid().label("pid")), {}).pid
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(OperationalError) as caught:
        driver.fetch_one(conn, select(literal_column("1").label("one")), {})
    assert caught.value.connection_invalidated
    return pid


def test_a_lost_connection_is_invalidated_and_the_pool_replaces_it(pg):
    pid = _lose(db.session.connection())
    db.session.rollback()
    assert db.session.scalar(select(func.pg_backend_pid())) != pid


def test_own_connection_runs_each_statement_as_its_own_transaction_and_hands_it_back(
        pg, candidate):
    user_id = candidate.id
    db.session.commit()
    renamed = update(User).where(User.id == user_id).values(name="Own")
    with driver.own_connection(db.engine) as conn:
        raw = conn.connection.driver_connection
        assert raw.autocommit
        driver.fetch_one(conn, renamed, {"id_1": user_id, "name": "Own"})
        # Committed by itself: another connection sees it before the block ends.
        with db.engine.connect() as other:
            assert other.scalar(select(User.name).where(User.id == user_id)) == "Own"
        with pytest.raises(DataError):
            driver.fetch_one(conn, select(literal_column("1 / 0").label("x")), {})
    # The pool has it back as it lent it: not in autocommit, no transaction open.
    assert not raw.autocommit
    assert raw.info.transaction_status == raw.info.transaction_status.IDLE
    with db.engine.connect() as again:
        assert not again.connection.driver_connection.autocommit


def test_own_connection_lost_mid_block_is_replaced(pg):
    with driver.own_connection(db.engine) as conn:
        pid = _lose(conn)
    with driver.own_connection(db.engine) as conn:
        assert driver.fetch_one(conn, select(func.pg_backend_pid().label("pid")), {}).pid != pid


def _audit_rows(actor_id: int, tag: str) -> list[dict]:
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    return [{"at": at, "actor_id": actor_id, "action": tag, "object_type": "t\tab\\slash",
             "object_id": "行\n1", "data": {"order": ["b", "a"], "note": "电池 \"x\""}},
            {"at": at, "actor_id": None, "action": tag, "object_type": "none",
             "object_id": "2", "data": None}]


def test_copied_rows_read_back_exactly_as_inserted_ones_and_events_see_the_copy(pg,
                                                                                candidate):
    actor_id = candidate.id
    conn = db.session.connection()
    seen = []
    listener = lambda _c, _cur, statement, *_a: seen.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        driver.copy_rows(conn, AuditEvent.__table__, _audit_rows(actor_id, "copied"))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    db.session.execute(insert(AuditEvent.__table__), _audit_rows(actor_id, "inserted"))

    def stored(tag):
        # data as text: JSON null and SQL NULL read alike in Python, not in the database.
        return db.session.execute(
            select(AuditEvent.at, AuditEvent.actor_id, AuditEvent.object_type,
                   AuditEvent.object_id, AuditEvent.data, text("data::text IS NULL"))
            .where(AuditEvent.action == tag).order_by(AuditEvent.id)).all()

    assert stored("copied") == stored("inserted")
    assert stored("copied")[0].object_id == "行\n1"
    assert len(seen) == 1 and seen[0].startswith("COPY audit_event (at, actor_id, action")


def test_a_copy_that_breaks_a_constraint_is_sqlalchemys_error_and_stores_nothing(pg,
                                                                                 candidate):
    rows = _audit_rows(candidate.id, "broken")
    rows[1]["actor_id"] = -1  # no such user: the second row breaks the foreign key
    with pytest.raises(IntegrityError):
        driver.copy_rows(db.session.connection(), AuditEvent.__table__, rows)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "broken")) == 0
