"""Backend-specific database behaviour: SQLite pragmas and transaction modes."""

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine) -> None:
    """Make SQLite safe for concurrent writers: WAL, foreign keys, and BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    another connection committed in between; taking the write lock up front (IMMEDIATE)
    makes concurrent writers queue behind ``busy_timeout`` instead. Read-only requests
    begin deferred so they never wait for a writer.
    """
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


def begin_write(session) -> None:
    """Start a fresh transaction that may write, from a read-only request.

    Used where a GET has to write (closing an overdue attempt on access): the read
    snapshot is dropped and the write lock taken before anything is read again.
    """
    session.rollback()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
