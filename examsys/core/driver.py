"""Statements run on psycopg's own cursor, below SQLAlchemy's execution layer (PostgreSQL).

SQLAlchemy's Core execution costs about 0.1 ms of CPU per statement here
(execution context, parameter processing, result metadata): an eighth of an autosave,
the request an exam day sends a hundred thousand times. The hot paths that send one or
two fixed statements per request run them here instead. The statements are still built
with SQLAlchemy Core (compiled once per dialect, so the SQL has one source) and psycopg
prepares them after a few executions on a connection, as it does SQLAlchemy's; what
SQLAlchemy's column types would convert, the caller converts (``as_utc`` on timestamps,
``json_param`` for JSON). Errors and statement events behave as SQLAlchemy's: a driver
error becomes SQLAlchemy's ``DBAPIError`` (a lost connection is invalidated, so the pool
replaces it), and ``before/after_cursor_execute`` listeners see every statement.
"""

import json
import logging
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import JSON, Table, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable

log = logging.getLogger(__name__)

_compiled: dict[tuple[Executable, str], tuple[str, type]] = {}


def _compile(stmt: Executable, dialect) -> tuple[str, type]:
    key = (stmt, dialect.name)
    if (found := _compiled.get(key)) is None:
        names = [column.key for column in stmt.exported_columns]
        found = _compiled[key] = (str(stmt.compile(dialect=dialect)),
                                  namedtuple("Row", names, rename=True))
    return found


def _int8(params: dict) -> dict:
    """Every whole number sent as bigint. psycopg types an int by its size (smallint,
    integer or bigint) and keeps a prepared statement per query and parameter types, so
    the same statement would be planned apart for a small and a large id; as bigint it is
    one statement, which ``plan_ahead`` can plan before it is needed. (bigint compares
    with integer columns through their indexes.)"""
    from psycopg.types.numeric import Int8  # optional dependency, see json_param

    return {k: Int8(v) if type(v) is int else v for k, v in params.items()}


# PostgreSQL plans a prepared statement for its values at each of its first five runs on a
# connection (its "custom plans"); from the sixth, it runs one plan for any values if
# that plan costs no more. For this module's statements, planning costs several times
# the run (0.6 ms against 0.15 for the autosave): a fresh connection would plan them five
# times over while serving the busiest minute, the start of an exam. ``plan_ahead``
# runs them five times on every new connection, with values that match no row.
CUSTOM_PLANS = 5
_planned_ahead: list[tuple[Executable, Callable[[], dict]]] = []


def plan_ahead(stmt: Executable, params: Callable[[], dict]) -> None:
    """Run ``stmt`` with ``params()``, values that change nothing (each run commits),
    ``CUSTOM_PLANS`` times on every new PostgreSQL connection of an engine set up by
    ``plan_on_connect``. The values must have the types of the real runs' (str or None,
    int, an aware datetime, ``json_param``): psycopg keeps a prepared statement per
    parameter types."""
    _planned_ahead.append((stmt, params))


def plan_on_connect(engine: Engine) -> None:
    """Plan the statements of ``plan_ahead`` on each new connection of ``engine`` (a few
    milliseconds, paid when the pool opens it, before it serves a request). They run in
    autocommit: psycopg forgets every prepared statement of a connection when it rolls
    a transaction back. On a database with no migrations yet (``examsys db upgrade``'s or
    ``serve``'s first connection) nothing is tried: each statement would fail and leave
    an ERROR in PostgreSQL's log. A statement that fails all the same (a schema a few
    migrations behind) is left to be planned when it runs."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _plan(dbapi_connection, _record):
        if not _planned_ahead:
            return
        dbapi_connection.rollback()  # nothing prepared yet to forget; autocommit needs idle
        dbapi_connection.autocommit = True
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
                if not cursor.fetchone()[0]:
                    return
            for stmt, params in _planned_ahead:
                sql, _row = _compile(stmt, engine.dialect)
                try:
                    with dbapi_connection.cursor() as cursor:
                        for _ in range(CUSTOM_PLANS):
                            cursor.execute(sql, _int8(params()), prepare=True)
                except engine.dialect.loaded_dbapi.Error as exc:
                    log.debug("not planned ahead: %s", exc)
        finally:
            dbapi_connection.autocommit = False


# "cached plan must not change result type": a statement prepared before a migration
# changed what it returns. In autocommit nothing would ever clear it (see
# keep_prepared_on_rollback): the connection is dropped, and the pool opens a new one.
STALE_PLAN = "0A000"


@contextmanager
def _cursor(conn: Connection, sql: str, params, many: bool = False) -> Iterator:
    """psycopg's cursor on the connection's driver connection, with SQLAlchemy's statement
    events around the block and its error handling for what the driver raises."""
    fairy = conn.connection
    dispatch = conn.dispatch
    try:
        with fairy.driver_connection.cursor() as cursor:
            if dispatch.before_cursor_execute:
                dispatch.before_cursor_execute(conn, cursor, sql, params, None, many)
            yield cursor
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(conn, cursor, sql, params, None, many)
    except conn.dialect.loaded_dbapi.Error as exc:
        drop = (conn.dialect.is_disconnect(exc, fairy.dbapi_connection, None)
                or getattr(exc, "sqlstate", None) == STALE_PLAN)
        if drop:
            conn.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error,
                                  connection_invalidated=drop, dialect=conn.dialect) from exc


def keep_prepared_on_rollback(engine: Engine) -> None:
    """Roll a transaction back without forgetting the connection's prepared statements.

    psycopg's ``rollback()`` deallocates every statement prepared on the connection, in
    case the transaction changed what one reads (a table dropped or altered, then made
    again); a prepared statement itself outlives a rollback in PostgreSQL. The app's
    requests change no schema, and every request that reads through the session ends in
    a rollback: on exam day the page's clock, every 30 s per candidate, wiped each pooled
    connection's prepared autosave and its plans (``plan_ahead``) about once a second,
    and the next five saves on it planned again (0.6 ms of the server's CPU each). Here
    a rollback is ROLLBACK sent on the connection's libpq handle (which waits for the
    server without holding the GIL), psycopg's bookkeeping left as it is; anything but a
    transaction that ran without error (none open, a pipeline, a failed statement) goes
    psycopg's way: after an error the statements are prepared afresh, so that one prepared
    on a table a migration has changed since ("cached plan must not change result type")
    fails one request, not every request on that connection. (In autocommit, where no
    rollback comes, such a failure drops the connection: see ``STALE_PLAN``.)"""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    from psycopg.pq import ExecStatus, TransactionStatus

    psycopg_rollback = engine.dialect.do_rollback

    def do_rollback(dbapi_connection) -> None:
        pgconn = getattr(dbapi_connection, "driver_connection", dbapi_connection).pgconn
        if pgconn.transaction_status == TransactionStatus.INTRANS and not pgconn.pipeline_status:
            try:
                if pgconn.exec_(b"ROLLBACK").status == ExecStatus.COMMAND_OK:
                    return
            except Exception:  # noqa: BLE001 - psycopg's own rollback says what is wrong
                log.debug("ROLLBACK on the libpq handle failed", exc_info=True)
        psycopg_rollback(dbapi_connection)

    engine.dialect.do_rollback = do_rollback


@contextmanager
def own_connection(engine) -> Iterator[Connection]:
    """A pooled connection of its own, outside the request's session; on PostgreSQL in
    autocommit, so that each statement is a transaction of its own, with no BEGIN or COMMIT
    round trip (the pool hands the connection on as it was before).

    For the statements of this module: the driver's connection is switched itself, not
    through SQLAlchemy's isolation level, whose bookkeeping on the way out and back cost
    more than the switch itself: 0.025 ms of CPU per checkout instead of 0.015 alone, and
    under the exam day's load (py-spy, GIL held) about twice the time. Meant for this
    module's statements, not SQLAlchemy's ``execute``."""
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            yield conn
            return
        raw = conn.connection.driver_connection
        raw.autocommit = True  # idle here: no transaction is open on a connection checked out
        try:
            yield conn
        finally:
            if not conn.invalidated:
                raw.autocommit = False  # idle again: autocommit leaves no transaction open


def fetch_one(conn: Connection, stmt: Executable, params: dict, *,
              prepare: bool | None = None):
    """Run ``stmt`` with ``params`` (named as its bind parameters) and return its first
    row as a named tuple (column names as SQLAlchemy labels them), or None.

    ``prepare=True`` prepares the statement at its first run on a connection instead of
    its fifth (psycopg's default): for a statement that is costly to plan, four plans
    fewer per connection while a fresh pool warms up."""
    sql, row_type = _compile(stmt, conn.dialect)
    params = _int8(params)
    with _cursor(conn, sql, params) as cursor:
        cursor.execute(sql, params, prepare=prepare)
        # rownumber, not description: the same test without building 19 Column objects.
        row = cursor.fetchone() if cursor.rownumber is not None else None
    return None if row is None else row_type._make(row)


def copy_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dictionaries with the same keys, named as ``table``'s columns) with
    one COPY: the whole batch in one message, written by the server without a statement
    per row (a hundred-row INSERT executemany costs twice the server time here).

    Values go as the columns' Python types would bind them; JSON columns are encoded here
    as SQLAlchemy's JSON type encodes them (None as JSON null unless ``none_as_null``).
    """
    names = list(rows[0]) if rows else []
    types = [table.c[name].type for name in names]
    encode = [(isinstance(t, JSON), isinstance(t, JSON) and t.none_as_null) for t in types]
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in names)
    sql = f"COPY {conn.dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN"
    with _cursor(conn, sql, rows, many=True) as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([json.dumps(value) if is_json and not (value is None and as_null)
                            else value
                            for (is_json, as_null), value in zip(encode, row.values(),
                                                                 strict=True)])


def json_param(value):
    """A JSON parameter as SQLAlchemy's JSON type binds it on psycopg."""
    # Imported here: psycopg is an optional dependency (`.[postgres]`) and the app runs on
    # SQLite without it; after the first call this is a dictionary lookup.
    from psycopg.types.json import Json

    return Json(value)
