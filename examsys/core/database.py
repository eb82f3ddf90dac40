"""Database behaviour the engine needs: liveness checks on pooled connections, and
SQLite's pragmas and transaction modes."""

import time

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from examsys.core import driver

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine, ping_after_idle: float | None = None) -> None:
    """Ping pooled connections that sat idle (``ping_when_idle``, unless
    ``ping_after_idle`` is None), plan the hot statements on each new PostgreSQL
    connection (``driver.plan_on_connect``) and keep them across rollbacks
    (``driver.keep_prepared_on_rollback``), then make SQLite safe for concurrent writers: WAL,
    foreign keys, and BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    another connection committed in between; taking the write lock up front (IMMEDIATE)
    makes concurrent writers queue behind ``busy_timeout`` instead. Read-only requests
    begin deferred so they never wait for a writer.
    """
    if ping_after_idle is not None:
        ping_when_idle(engine, ping_after_idle)
    driver.plan_on_connect(engine)
    driver.keep_prepared_on_rollback(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            # FULL: an acknowledged save survives a power cut, not just a crash.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin")
        if mode is None:
            read_only = has_request_context() and request.method in READ_ONLY_METHODS
            mode = "DEFERRED" if read_only else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")


_IDLE_SINCE = "examsys_idle_since"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection at checkout when it has sat idle for ``idle_seconds`` or
    more, and replace it if it is dead (SQLAlchemy's pessimistic disconnect handling,
    with a checkout event).

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip to PostgreSQL
    per request, about 0.05 ms of the app's CPU and as much of the server's. A connection
    used a moment ago is alive; the ones that die are those left idle (a firewall or
    balancer dropping idle connections, a database restarted meanwhile). On exam day every
    connection goes back to work within milliseconds and none is pinged; a quiet server
    pings as before. A connection returned less than ``idle_seconds`` before its database
    went down and came back would fail one request, and SQLAlchemy then replaces the
    whole pool.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection, record) -> None:
        if record is not None:  # None: the connection was invalidated
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # fresh from connect, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (or connects).
            raise DisconnectionError("idle connection failed its ping") from exc


def begin_write(session) -> None:
    """Start a fresh transaction that may write, from a read-only request.

    Used where a GET has to write (closing an overdue attempt on access): the read
    snapshot is dropped and the write lock taken before anything is read again.
    """
    session.rollback()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
