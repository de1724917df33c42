"""The `fieldline` command line (also available as `flask --app app ...`)."""
from __future__ import annotations

import logging
import os
import signal
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app import db
from app.services import ValidationError
from app.services import demo as demo_service
from app.services import users as users_service

log = logging.getLogger("fieldline")


def _engine():
    return current_app.extensions["fieldline.engine"]


def _settings():
    return current_app.extensions["fieldline.settings"]


def _print_demo_passwords(passwords: dict[str, str]) -> None:
    click.echo("Demo accounts (fictional people; change these passwords before real use):")
    for email, password in passwords.items():
        click.echo(f"  {email:<26} {password}")


def _seed(password: str | None) -> dict[str, str]:
    with db.unit_of_work(_engine()) as session:
        return demo_service.seed_demo(session, password=password)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Seed the demo team when the database is empty.")
@click.option("--threads", default=8, show_default=True, type=int, help="Web server threads.")
@with_appcontext
def serve(host: str, port: int, demo: bool, threads: int) -> None:
    """Migrate, optionally seed demo data, and run the web server and the worker in one process."""
    import waitress

    from app.worker import start_in_thread

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    db.upgrade(_engine())
    if demo:
        with db.unit_of_work(_engine()) as session:
            empty = demo_service.database_is_empty(session)
        if empty:
            _print_demo_passwords(_seed(os.environ.get("FIELDLINE_DEMO_PASSWORD")))
        else:
            click.echo("The database already has accounts; demo data left as it is "
                       "(run `fieldline seed-demo` to reset the demo passwords).")
    thread, stop = start_in_thread(_engine(), _settings())
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="Fieldline")

    def _terminate(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    click.echo(f"Fieldline is running on http://{host}:{server.effective_port}  (Ctrl+C stops it)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.close()
        thread.join(timeout=10)


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the background worker alone (escalations, deliveries, reminders). It sends through
    FIELDLINE_SEND_PROCESSES child processes of its own (0: in this process)."""
    import threading

    from app.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    role = "watch" if _settings().send_processes else "all"
    Worker.for_settings(_engine(), _settings(), role=role).run(stop)


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply migrations to head."""
    db.upgrade(_engine())
    click.echo(f"Database is at revision {db.current_revision(_engine())}.")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["worker", "supervisor", "admin"]), required=True)
@click.option("--team", "team_name", default=None, help="Created if it does not exist yet.")
@click.option("--phone", default=None)
@with_appcontext
def create_user(email: str, name: str, role: str, team_name: str | None, phone: str | None) -> None:
    """Create an account. The password comes from FIELDLINE_PASSWORD or is asked for."""
    password = os.environ.get("FIELDLINE_PASSWORD") or click.prompt(
        "Password (at least 12 characters)", hide_input=True, confirmation_prompt=True
    )
    try:
        with db.unit_of_work(_engine()) as session:
            team_id = None
            if team_name:
                team = users_service.team_by_name(session, team_name)
                if team is None:
                    team = users_service.create_team(session, users_service.TeamSettings(name=team_name))
                    click.echo(f"Created team {team.name}.")
                team_id = team.id
            user = users_service.create_user(
                session, email=email, name=name, role=role, password=password, team_id=team_id, phone=phone
            )
            from app.models.types import utcnow
            from app.services.audit import record

            record(session, "user.create", now=utcnow(), record_type="user", record_id=user.id,
                   detail=f"role={role}; via command line")
    except ValidationError as error:
        for field, message in error.errors.items():
            click.echo(f"{field or 'error'}: {message}", err=True)
        sys.exit(1)
    click.echo(f"Created {role} {email}.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo team and accounts, and print their (new) passwords."""
    db.upgrade(_engine())
    _print_demo_passwords(_seed(os.environ.get("FIELDLINE_DEMO_PASSWORD")))


@click.command("retention")
@click.option("--now", "at", default=None, help="Apply the schedule as at this ISO time (UTC); default now.")
@with_appcontext
def retention(at: str | None) -> None:
    """Delete what the retention schedule says is due (what the worker does daily); prints counts."""
    from datetime import UTC, datetime
    from sqlmodel import Session

    from app.models.types import utcnow
    from app.services import photos
    from app.services import retention as retention_service

    try:
        now = datetime.fromisoformat(at).astimezone(UTC) if at else utcnow()
    except ValueError:
        raise click.BadParameter("give a time such as 2026-12-01T03:00", param_hint="--now")
    with Session(_engine()) as session:
        done = retention_service.apply(session, now, photos.uploads_folder(_settings().instance_path))
    for kind, count in done.items():
        click.echo(f"{kind}: {count}")


@click.command("make-icons", hidden=True)
@with_appcontext
def make_icons() -> None:
    """Redraw the app icons in app/static/icons with Pillow."""
    from pathlib import Path

    from app.services.icons import write_icons

    for path in write_icons(Path(current_app.static_folder) / "icons"):
        click.echo(f"wrote {path}")


def register_commands(app: Flask) -> None:
    for command in (serve, worker, db_group, create_user, seed_demo, retention, make_icons):
        app.cli.add_command(command)


def main() -> None:
    from app import create_app

    FlaskGroup(create_app=create_app, help="Fieldline: safety and casework for lone workers.")()


if __name__ == "__main__":
    main()
