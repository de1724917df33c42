"""Engine, per-request session, SQLite pragmas and the migration runner."""
from __future__ import annotations

import functools
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app, g, has_request_context, request
from sqlalchemy import and_, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option: this transaction mostly reads (a page, the sign-in lookup).
READS_FIRST = "fieldline_reads_first"
_DEFERRED = "fieldline.deferred"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
WRITE_LOCK_WAIT_S = 30
# Execution option: this transaction is bookkeeping that a later durable commit of the same
# request covers (SQLite's WAL and PostgreSQL's log are written in order, so flushing a later
# commit flushes it too): its own commit need not wait for the disk.
LIGHT_COMMIT = "fieldline_light_commit"
_SYNCHRONOUS = "fieldline.synchronous"
# Connection info on PostgreSQL: the transaction so far ran nothing but SELECTs.
_ONLY_READ = "fieldline.only_read"


_Build = TypeVar("_Build", bound=Callable)


def built_once(build: _Build) -> _Build:
    """Cache a function that builds a statement from its shape (flags, never values): every value is
    a bindparam the caller passes when it runs it. SQLAlchemy spends about as much CPU building a
    statement as running it (0.4 of 0.8 ms for a page of the timeline; bench/README.md), and a
    person's page runs twenty."""
    return functools.cache(build)  # type: ignore[return-value]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,  # a logged database error must not carry the row's values
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (below).
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=10,
                           hide_parameters=True)  # a logged database error must not carry the row's values
    _ping_when_idle(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.info[_ONLY_READ] = True
        if connection.get_execution_options().get(LIGHT_COMMIT):
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO off")

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(connection, _cursor, statement, _parameters, _context, _executemany):
        if connection.info.get(_ONLY_READ) and not statement.lstrip()[:6].upper() == "SELECT":
            connection.info[_ONLY_READ] = False

    return engine


# A connection back in the pool for less than this was working a moment ago.
PING_AFTER_IDLE_S = 1.0
_CHECKED_IN_AT = "fieldline.checked_in_at"


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, but only for a connection that has been idle: a request checks one out two
    or three times (sign-in, its audit row, the page) and the worker once per transaction, and
    pinging each time cost a round trip, two autocommit switches and a reset each. A database
    that restarted or failed over was gone for longer than a second, so every connection from
    before it is still pinged, and a dead one replaced before anyone uses it."""
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        checked_in = record.info.pop(_CHECKED_IN_AT, None)
        if checked_in is not None and time.monotonic() - checked_in < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("the database closed this connection") from error
            raise


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module so BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={WRITE_LOCK_WAIT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a committed check-in or alert survives a power cut, not just a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        _record.info[_SYNCHRONOUS] = "FULL"

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
        # writes fails at once with "database is locked" when another writer got in between;
        # an immediate one waits its turn (busy_timeout) instead. But the lock is the database's
        # only one: a page that only reads must not hold it while it renders, so a transaction
        # marked READS_FIRST starts deferred (readers run side by side in WAL mode) and swaps to
        # an immediate one just before its first write (below).
        options = connection.get_execution_options()
        deferred = bool(options.get(READS_FIRST))
        connection.info[_DEFERRED] = deferred
        # It can only change between transactions, so it is set for each one that differs.
        synchronous = "NORMAL" if options.get(LIGHT_COMMIT) else "FULL"
        if connection.info.get(_SYNCHRONOUS) != synchronous:
            connection.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
            connection.info[_SYNCHRONOUS] = synchronous
        if deferred:
            connection.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(connection.connection.dbapi_connection)

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_first_write(connection, cursor, statement, _parameters, _context, _executemany):
        if connection.info.get(_DEFERRED) and statement.lstrip()[:7].upper().startswith(_WRITES):
            connection.info[_DEFERRED] = False
            # What it read may be a moment old: fine for what reading requests write (an audit
            # row, a sign-in's last-seen time), which never depends on those reads.
            cursor.execute("COMMIT")
            _begin_immediate(cursor.connection)


def _begin_immediate(dbapi_connection) -> None:
    """BEGIN IMMEDIATE, asking again every half millisecond while another writer holds the lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms between tries, so a waiting writer
    sleeps on long after the lock came free while the process that let go takes it again (two
    web workers back to back left the CPU half idle). Asking often hands the lock on within a
    millisecond; a failed try costs microseconds.
    """
    deadline = time.monotonic() + WRITE_LOCK_WAIT_S
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.0005)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={WRITE_LOCK_WAIT_S * 1000}")


def engine() -> Engine:
    return current_app.extensions["fieldline.engine"]


def session() -> Session:
    """The request's session, opened on first use and closed at the end of the request."""
    if "db_session" not in g:
        reading = has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
        g.db_session = Session(engine(), expire_on_commit=False,
                               execution_options={READS_FIRST: True} if reading else {})
    return g.db_session


def close_session(exc=None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        if exc is None:
            discard(db_session)
        else:
            db_session.rollback()
        db_session.close()


def discard(db_session: Session) -> None:
    """End the transaction, undoing whatever it wrote. One that ran only SELECTs is committed: the
    same to the database, but psycopg forgets its prepared statements at every ROLLBACK, and ending
    each page with one had PostgreSQL parse and plan every statement of every page afresh (4.5 ms
    of planning for a person's page). Only for requests: prepared, the worker's claims got
    PostgreSQL's generic plan for "status = $1" over a burst's skewed rows, which ran three times
    slower than planning each afresh, so its look-ups still end as they did."""
    if _only_read(db_session):
        db_session.commit()
        db_session.expire_all()  # as a rollback does: the next read sees what others committed
    else:
        db_session.rollback()


def _only_read(db_session: Session) -> bool:
    if not db_session.in_transaction() or db_session.new or db_session.dirty or db_session.deleted:
        return False
    if db_session.get_bind().dialect.name != "postgresql":
        return False  # SQLite keeps no prepared statements to lose
    try:
        connection = db_session.connection()
    except SQLAlchemyError:  # the database was unreachable: there is nothing to keep
        return False
    return connection.info.get(_ONLY_READ, False)


def claiming(bound: Session | str, id_column, candidates, *still):
    """The WHERE condition of an UPDATE that claims the rows `candidates` (a SELECT of `id_column`
    with its LIMIT) chooses, however many workers claim at once, while `still` (the candidates'
    own condition, never a stricter one: PostgreSQL does not repeat it) holds of them.
    PostgreSQL: the candidates are locked with SKIP LOCKED in a materialised CTE (an IN (... LIMIT
    ... SKIP LOCKED) subquery may be re-run by the planner and claim far more than the limit,
    starving other workers), and the lock re-checks the candidates' own condition on each row's
    latest version, so `still` is not repeated (repeated, it led the planner to scan a burst's
    index again for each candidate: 20 ms a claim instead of 6). SQLite runs one writer at a time:
    the plain subquery is exact. `bound`: the session it runs in, or its dialect's name."""
    dialect = bound if isinstance(bound, str) else bound.get_bind().dialect.name
    if dialect == "postgresql":
        chosen = candidates.with_for_update(skip_locked=True).cte("candidates").prefix_with("MATERIALIZED")
        return id_column == chosen.c.id
    return and_(id_column.in_(candidates.scalar_subquery()), *still)


@contextmanager
def unit_of_work(bound: Engine) -> Iterator[Session]:
    """A session for work outside a request (worker loop, CLI): commits on success."""
    with Session(bound, expire_on_commit=False) as db_session:
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(bound: Engine, revision: str = "head") -> None:
    """Apply migrations. Safe to run from several processes at once (they take turns)."""
    cfg = alembic_config()
    with bound.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Released at commit: two releases or a release and a worker never migrate together.
            connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(bound: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with bound.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
