"""A database error, when it is logged, carries no values from the row (they are personal data);
a connection the database closed is replaced before anyone uses it."""
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import db


def test_a_database_error_does_not_carry_the_rows_values(engine):
    with pytest.raises(DBAPIError) as raised, engine.connect() as connection:
        connection.execute(text("INSERT INTO no_such_table (name) VALUES (:name)"), {"name": "Wren Walker"})
    assert "Wren Walker" not in str(raised.value)


def test_a_connection_the_database_closed_is_replaced_before_use_and_a_recent_one_is_not_pinged(
        engine, monkeypatch):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to close a connection")
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    engine.dispose()
    with engine.connect() as connection:
        first = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with engine.connect() as connection:  # back in the pool a moment ago: no ping
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() == first
    assert len(pings) == 1  # the new connection's
    # The database ends that connection (a restart, a failover) while it sits in the pool.
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as other:  # not one of the pool's
        assert other.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone()[0]
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.05)
    time.sleep(0.1)
    with engine.connect() as connection:  # idle long enough to be pinged: found dead, replaced
        replaced = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert replaced != first
    assert len(pings) >= 3
