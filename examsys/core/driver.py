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

from collections import namedtuple

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable

_compiled: dict[tuple[Executable, str], tuple[str, type]] = {}


def _compile(stmt: Executable, conn: Connection) -> tuple[str, type]:
    key = (stmt, conn.dialect.name)
    if (found := _compiled.get(key)) is None:
        names = [column.key for column in stmt.exported_columns]
        found = _compiled[key] = (str(stmt.compile(dialect=conn.dialect)),
                                  namedtuple("Row", names, rename=True))
    return found


def fetch_one(conn: Connection, stmt: Executable, params: dict, *,
              prepare: bool | None = None):
    """Run ``stmt`` with ``params`` (named as its bind parameters) and return its first
    row as a named tuple (column names as SQLAlchemy labels them), or None.

    ``prepare=True`` prepares the statement at its first run on a connection instead of
    its fifth (psycopg's default): for a statement that is costly to plan, four plans
    fewer per connection while a fresh pool warms up."""
    sql, row_type = _compile(stmt, conn)
    fairy = conn.connection
    dispatch = conn.dispatch
    try:
        with fairy.driver_connection.cursor() as cursor:
            if dispatch.before_cursor_execute:
                dispatch.before_cursor_execute(conn, cursor, sql, params, None, False)
            cursor.execute(sql, params, prepare=prepare)
            row = cursor.fetchone() if cursor.description else None
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(conn, cursor, sql, params, None, False)
    except conn.dialect.loaded_dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, fairy.dbapi_connection, None)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=conn.dialect) from exc
    return None if row is None else row_type._make(row)


def json_param(value):
    """A JSON parameter as SQLAlchemy's JSON type binds it on psycopg."""
    # Imported here: psycopg is an optional dependency (`.[postgres]`) and the app runs on
    # SQLite without it; after the first call this is a dictionary lookup.
    from psycopg.types.json import Json

    return Json(value)
