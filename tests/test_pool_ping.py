"""Pooled connections are pinged at checkout only after sitting idle
(``core.database.ping_when_idle``), and a dead idle connection is replaced unseen."""

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from examsys.core.database import ping_when_idle

IDLE = 0.2


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    pings = []
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection):  # the real ping, counted
        pings.append(1)
        return real_ping(dbapi_connection)

    engine.dialect.do_ping = counted_ping
    engine.pings = pings
    yield engine
    engine.dispose()


def backend_pid(conn) -> int:
    return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_used_a_moment_ago_is_not_pinged_an_idle_one_is(engine):
    ping_when_idle(engine, IDLE)
    for _ in range(3):
        with engine.connect() as conn:  # the first connects: nothing to ping
            conn.execute(text("SELECT 1"))
    assert engine.pings == []
    time.sleep(IDLE * 1.5)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert engine.pings == [1]


def test_zero_pings_at_every_checkout(engine):
    ping_when_idle(engine, 0)
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert len(engine.pings) == 2  # every checkout but the one that connected


def kill_pooled_connection(engine) -> int:
    with engine.connect() as conn:
        pid = backend_pid(conn)
    admin = create_engine(engine.url)
    try:
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()
    return pid


def test_a_dead_idle_connection_is_replaced_at_checkout(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("a server-side disconnect: PostgreSQL only")
    ping_when_idle(engine, IDLE)
    dead = kill_pooled_connection(engine)
    time.sleep(IDLE * 1.5)
    with engine.connect() as conn:
        assert backend_pid(conn) != dead
    assert engine.pings == [1]


def test_without_the_ping_the_dead_connection_fails_the_next_statement(engine):
    """What the ping is for (and what a connection returned less than the idle time before
    its server went away costs): one failed statement, after which the pool is renewed."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a server-side disconnect: PostgreSQL only")
    ping_when_idle(engine, 3600)
    kill_pooled_connection(engine)
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
