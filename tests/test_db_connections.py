"""PostgreSQL connections: one the database closed is replaced before anyone uses it, and pages
keep their statements prepared."""
import time

import psycopg
import pytest

from app import db


@pytest.fixture
def pg_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("about PostgreSQL's connections")
    engine.dispose()
    return engine


def test_a_connection_the_database_closed_is_replaced_before_use_and_a_recent_one_is_not_pinged(
        pg_engine, monkeypatch):
    engine = pg_engine
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
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


def test_a_page_s_statements_stay_prepared_from_one_request_to_the_next(pg_engine, worker_client, personas):
    # psycopg prepares a statement run five times on a connection, and forgets them all at a
    # ROLLBACK: a page's transaction of reads ends with a COMMIT so that they stay prepared.
    for _ in range(7):
        assert worker_client.get("/caseload").status_code == 200
    with pg_engine.connect() as connection:
        prepared = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert any("FROM person" in statement for statement in prepared)
