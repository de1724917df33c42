"""Fixtures: a real database per test (SQLite file, or PostgreSQL when DATABASE_URL names one),
the app, clients signed in as each persona, and a CLI runner."""
import os
import shutil

import pytest
from sqlalchemy import text

from app import create_app
from app.db import make_engine, unit_of_work, upgrade
from app.services import users as users_service
from tests.helpers import PASSWORD, FieldlineClient, Persona

# The tests' push receiver (tests/peers.py) listens on http://127.0.0.1, which the push-endpoint
# rule refuses by default: allow it here, for the app and every worker subprocess (they inherit
# os.environ). Tests of the rule itself switch it off.
os.environ["FIELDLINE_PUSH_ALLOW_PRIVATE"] = "1"

PG_URL = os.environ.get("DATABASE_URL", "")
USE_PG = PG_URL.startswith("postgres")
if USE_PG and "+psycopg" not in PG_URL:
    PG_URL = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]
# Run in parallel (pytest-xdist), each test process has a PostgreSQL database of its own, named
# after the one given (fieldline_test_gw0, ...): made here when missing, which needs CREATEDB.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if USE_PG and XDIST_WORKER:
    from sqlalchemy.engine import make_url

    _given = make_url(PG_URL)
    PG_URL = _given.set(database=f"{_given.database}_{XDIST_WORKER}").render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = PG_URL  # what the worker and gunicorn subprocesses inherit


# Modules whose tests start real processes (gunicorn, `fieldline worker`) and wait on them: in a
# parallel run they all go to one test process, so two of them never fight over the cores, while
# the other processes take the rest; every other module stays whole on one process (its
# module-scoped fixtures are made once).
REAL_PROCESSES = {"test_access_log.py", "test_alert_burst.py", "test_cli.py", "test_delivery_faults.py",
                  "test_orders.py", "test_photo_uploads.py", "test_safety_engine.py", "test_sign_in_limits.py"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        module = item.path.name
        item.add_marker(pytest.mark.xdist_group("real-processes" if module in REAL_PROCESSES else module))


def _ensure_pg_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": target.database}).first()
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    finally:
        admin.dispose()


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one test process per core, at most four (each has its own browser and database)."""
    return max(1, min(os.cpu_count() or 1, 4))


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + PG_URL.rsplit('@', 1)[-1] if USE_PG else 'SQLite (a fresh file per test)'}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """Migrated once; each test gets a copy of the file (fast, and the migrations are exercised)."""
    path = tmp_path_factory.mktemp("template") / "fieldline.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def migrated_pg():
    if XDIST_WORKER:
        _ensure_pg_database(PG_URL)
    engine = make_engine(PG_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    upgrade(engine)
    tables = []
    with engine.connect() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
        ]
    yield engine, tables
    engine.dispose()


@pytest.fixture
def database_url(request, tmp_path):
    if USE_PG:
        engine, tables = request.getfixturevalue("migrated_pg")
        with engine.begin() as connection:
            # A request the previous test's browser left in flight may still hold table locks, and
            # TRUNCATE takes them one by one: end those sessions first (a test starts alone).
            connection.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                       "AND backend_type = 'client backend'")  # not autovacuum's
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        return PG_URL
    target = tmp_path / "fieldline.db"
    shutil.copy(request.getfixturevalue("migrated_sqlite"), target)
    return f"sqlite:///{target}"


def app_config(database_url, instance) -> dict:
    """What every test app is made with (a second app on the same database too)."""
    return {
        "DATABASE_URL": database_url,
        "FIELDLINE_INSTANCE": instance,
        "TESTING": True,
        # Every channel set up (deliveries are queued only for those), at a closed port: a test
        # that sends points the job at its own SMTP server or SMS stand-in.
        "SMTP_URL": "smtp://127.0.0.1:9",
        "SMS_GATEWAY_URL": "http://127.0.0.1:9/sms",
    }


@pytest.fixture
def app(database_url, tmp_path):
    application = create_app(app_config(database_url, tmp_path / "instance"))
    application.test_client_class = FieldlineClient
    yield application
    application.extensions["fieldline.engine"].dispose()


@pytest.fixture
def engine(app):
    return app.extensions["fieldline.engine"]


@pytest.fixture
def client(app) -> FieldlineClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def persona_password_hash():
    from app.services.auth import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def personas(engine, persona_password_hash, monkeypatch) -> dict[str, Persona]:
    """Team A (two workers, a supervisor), team B (a worker and a supervisor), and an admin."""
    # A real Argon2 hash of the shared test password, computed once per run instead of per user.
    real_hash = users_service.hash_password
    monkeypatch.setattr(users_service, "hash_password",
                        lambda password: persona_password_hash if password == PASSWORD else real_hash(password))
    people = {}
    with unit_of_work(engine) as session:
        team_a = users_service.create_team(
            session, users_service.TeamSettings(name="Team A", duty_phone="07700900100")
        )
        team_b = users_service.create_team(session, users_service.TeamSettings(name="Team B"))
        for key, email, name, role, team in [
            ("worker", "worker@a.example", "Wren Walker", "worker", team_a),
            ("worker2", "worker2@a.example", "Ola Other", "worker", team_a),
            ("supervisor", "super@a.example", "Sade Super", "supervisor", team_a),
            ("other_worker", "worker@b.example", "Bo Beta", "worker", team_b),
            ("other_supervisor", "super@b.example", "Bea Boss", "supervisor", team_b),
            ("admin", "admin@example.org", "Ada Admin", "admin", None),
        ]:
            user = users_service.create_user(
                session, email=email, name=name, role=role, password=PASSWORD,
                team_id=team.id if team else None, phone="07700900111",
            )
            # Signed in with a password alone, like the demo accounts: tests/test_two_factor.py
            # checks the requirement with accounts that are not exempt.
            user.second_factor_exempt = True
            people[key] = Persona(user.id, email, name, role, user.team_id)
    monkeypatch.undo()
    return people


def _signed_in(app, persona: Persona) -> FieldlineClient:
    client = app.test_client()
    response = client.login(persona.email, persona.password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def worker_client(app, personas):
    return _signed_in(app, personas["worker"])


@pytest.fixture
def other_worker_client(app, personas):
    return _signed_in(app, personas["other_worker"])


@pytest.fixture
def supervisor_client(app, personas):
    return _signed_in(app, personas["supervisor"])


@pytest.fixture
def admin_client(app, personas):
    return _signed_in(app, personas["admin"])
