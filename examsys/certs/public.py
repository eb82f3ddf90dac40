"""What verification shows of a certificate, read with one Core query.

Verification is the busiest public request: employers check certificates all season, one
by one and in bulk. Plain rows read into frozen records cost about half the CPU of ORM
objects. The records answer to the names the pages, the API and the CSV use
(``cert.certification.code``, ``cert.superseded_by.serial``, ``cert.status(now)``), and
take their rules from the model itself.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from examsys.certs.models import Certificate
from examsys.core import driver
from examsys.core.clock import as_utc
from examsys.exams.models import Certification


@dataclass(frozen=True)
class PublicCertification:
    code: str
    level: str
    name_en: str
    name_zh: str

    name = Certification.name


@dataclass(frozen=True)
class Successor:
    serial: str


@dataclass(frozen=True)
class PublicCertificate:
    serial: str
    holder_name: str
    holder_name_en: str | None
    id_number_masked: str | None
    issued_at: datetime
    expires_at: datetime
    state: str
    state_at: datetime | None
    state_reason: str | None
    certification: PublicCertification
    superseded_by: Successor | None

    status = Certificate.status
    revoked_at = Certificate.revoked_at
    revocation_reason = Certificate.revocation_reason


_C, _K = Certificate.__table__, Certification.__table__
_NEXT = _C.alias("successor")
# The successor's serial by a correlated subquery, not an outer join: the planner may
# answer the join by hashing the whole certificate table (it did, for 300 rows: 9 pages
# read per verification instead of 4), while the subquery is one primary-key lookup.
_SUCCESSOR = (select(_NEXT.c.serial).where(_NEXT.c.id == _C.c.superseded_by_id)
              .scalar_subquery().label("successor"))
_PUBLIC = (
    select(_C.c.serial, _C.c.holder_name, _C.c.holder_name_en, _C.c.id_number_masked,
           _C.c.issued_at, _C.c.expires_at, _C.c.state, _C.c.state_at, _C.c.state_reason,
           _K.c.code, _K.c.level, _K.c.name_en, _K.c.name_zh, _SUCCESSOR)
    .join(_K, _K.c.id == _C.c.certification_id))
_ONE = _PUBLIC.where(_C.c.serial == bindparam("serial"))
driver.plan_ahead(_ONE, lambda: {"serial": ""})  # on each new PostgreSQL connection


def _record(row) -> PublicCertificate:
    # as_utc: rows from the driver (see by_serial) carry the connection's time zone.
    return PublicCertificate(
        row.serial, row.holder_name, row.holder_name_en, row.id_number_masked,
        as_utc(row.issued_at), as_utc(row.expires_at), row.state,
        row.state_at and as_utc(row.state_at), row.state_reason,
        PublicCertification(row.code, row.level, row.name_en, row.name_zh),
        Successor(row.successor) if row.successor else None)


def by_serial(bind, serial: str) -> PublicCertificate | None:
    """``bind``: a Session (read in its transaction) or an Engine (read on a connection of
    its own: on PostgreSQL in autocommit, one round trip where a transaction costs three,
    BEGIN, SELECT and ROLLBACK; the API's verification, the busiest public request)."""
    if not serial:
        return None
    params = {"serial": serial}
    if isinstance(bind, Engine):
        with driver.own_connection(bind) as conn:
            row = _read_one(conn, params)
    else:
        bind.flush()  # what session.execute would have done first (autoflush)
        row = _read_one(bind.connection(), params)
    return _record(row) if row is not None else None


def _read_one(conn, params: dict):
    if conn.dialect.name == "postgresql":
        return driver.fetch_one(conn, _ONE, params)  # on the driver's cursor (core.driver)
    return conn.execute(_ONE, params).first()


def by_serials(session, serials: Iterable[str]) -> dict[str, PublicCertificate]:
    """Every certificate of ``serials`` that exists, by serial, in one query."""
    wanted = sorted(set(serials))
    if not wanted:
        return {}
    rows = session.execute(_PUBLIC.where(_C.c.serial.in_(wanted))).all()
    return {row.serial: _record(row) for row in rows}
