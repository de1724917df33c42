import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlmodel import select

from app.db import unit_of_work
from app.models import Appointment, PartnerService, Team, User


def test_create_user_creates_the_team_and_reads_the_password_from_the_environment(runner, engine, client):
    result = runner.invoke(
        args=["create-user", "duty@example.org", "--name", "Dee Duty", "--role", "supervisor", "--team", "Westside"],
        env={"FIELDLINE_PASSWORD": "a very good password"},
    )
    assert result.exit_code == 0, result.output
    assert "Created team Westside." in result.output
    with unit_of_work(engine) as session:
        user = session.exec(select(User).where(User.email == "duty@example.org")).one()
        team = session.exec(select(Team).where(Team.name == "Westside")).one()
    assert user.team_id == team.id and user.role == "supervisor"
    first = client.login("duty@example.org", "a very good password")
    # A supervisor made here sets up a second factor at the first sign-in.
    assert first.status_code == 303 and first.headers["Location"] == "/login/set-up-second-factor"


def test_create_user_refuses_a_common_password(runner, engine):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--name", "X", "--role", "worker"],
        env={"FIELDLINE_PASSWORD": "password1234"},
    )
    assert result.exit_code == 1
    assert "password: This is a very common password." in result.output
    with unit_of_work(engine) as session:
        assert session.exec(select(User).where(User.email == "x@example.org")).first() is None


def test_create_user_refuses_a_short_password(runner, engine):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--name", "X", "--role", "worker", "--team", "T"],
        env={"FIELDLINE_PASSWORD": "too short"},
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    with unit_of_work(engine) as session:  # nothing half-created
        assert session.exec(select(Team).where(Team.name == "T")).first() is None


def test_seed_demo_prints_passwords_that_work(runner, app):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines() if "@example.org" in line}
    assert set(lines) == {"worker@example.org", "worker2@example.org", "supervisor@example.org", "admin@example.org"}
    client = app.test_client()
    signed_in = client.login("supervisor@example.org", lines["supervisor@example.org"])
    # Straight in: the demo accounts are exempt from two-factor sign-in (README), unlike other supervisors.
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/"
    # Running it again sets new passwords and does not duplicate anything.
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    with unit_of_work(app.extensions["fieldline.engine"]) as session:
        assert len(session.exec(select(User)).all()) == 4
        assert len(session.exec(select(Appointment)).all()) == 4  # today's three, and a weekly instruction
        assert len(session.exec(select(PartnerService)).all()) == 4
    # The demo worker's Today has their appointments on it.
    worker = app.test_client()
    assert worker.login("worker@example.org", again.output.split("worker@example.org")[1].split()[0]).status_code == 303
    today = worker.get("/").get_data(as_text=True)
    assert "Harper Quill (demo)" in today and "10:00" in today and "Start visit" in today


def test_db_upgrade_reports_the_revision(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert "Database is at revision" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_demo_runs_web_and_worker_in_one_process(tmp_path, database_url):
    """The README's first command, for real: a subprocess serving HTTP with its worker ticking."""
    port = _free_port()
    env = {**os.environ, "FIELDLINE_INSTANCE": str(tmp_path / "serve"), "FIELDLINE_DEMO_PASSWORD": "demo password 123",
           "FIELDLINE_TICK_SECONDS": "0.2"}
    # A fresh, empty database (the serve command migrates it itself).
    if database_url.startswith("sqlite"):
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    else:
        env["DATABASE_URL"] = database_url
        from app.db import make_engine
        from tests.conftest import PG_URL

        engine = make_engine(PG_URL)
        with engine.begin() as connection:  # make it "empty" so --demo seeds it
            connection.exec_driver_sql('TRUNCATE "user", team RESTART IDENTITY CASCADE')
        engine.dispose()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--demo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = json.load(response)
                if health["worker"]["last_tick_age_s"] is not None:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert health is not None, "server never answered"
        assert health["status"] == "ok" and health["database"] == "ok"
        assert health["worker"]["last_tick_age_s"] < 5
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert 'name="csrf_token"' in response.read().decode()
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert process.returncode == 0, output
    assert "worker@example.org" in output and "demo password 123" in output
