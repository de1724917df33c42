"""How long one pass of the worker's reminder job takes with an organisation's calendar in it.

The reminder job runs in the same worker loop as the safety engine, every 30 s: while it runs, a
missed check-in waits. An organisation's calendar here: 50 workers, 1,000 weekly series that
started a year ago (each with a year of recorded outcomes) and 20,000 one-off appointments over the
next 90 days, 100 of them in the next two days. Prints the median and worst of 10 passes.

Run: .venv/bin/python bench/reminder_pass.py [sqlite|postgresql+psycopg://...]
"""
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from app import create_app  # noqa: E402
from app.db import unit_of_work, upgrade  # noqa: E402
from app.models import Appointment, AppointmentOccurrence, Person  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services.appointment_reminders import ReminderJob  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402

WORKERS, SERIES, ONE_OFFS, SOON = 50, 1_000, 20_000, 100


def seed(engine, zone) -> None:
    local_now = utcnow().astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench"))
        workers = [create_user(session, email=f"w{n}@example.org", name=f"Worker {n}", role="worker",
                               password="bench password 1", team_id=team.id) for n in range(WORKERS)]
        session.flush()
        session.execute(insert(Person), [{"team_id": team.id, "name": f"Person {n}", "status": "open",
                                          "risk_level": "low", "consent_to_share": "not_asked",
                                          "created_at": utcnow(), "updated_at": utcnow()} for n in range(WORKERS)])
        person_ids = list(session.exec(select(Person.id)).all())

        def appointment(n: int, starts_local, repeat: str) -> dict:
            return {"team_id": team.id, "worker_id": workers[n % WORKERS].id, "person_id": person_ids[n % WORKERS],
                    "kind": "home_visit", "starts_local": starts_local, "duration_minutes": 60, "repeat": repeat,
                    "created_at": utcnow(), "updated_at": utcnow()}

        year_ago = local_now - timedelta(days=364)
        session.execute(insert(Appointment), [appointment(n, year_ago + timedelta(minutes=17 * n), "weekly")
                                              for n in range(SERIES)])
        series = session.execute(select(Appointment.id, Appointment.starts_local)).all()
        session.execute(insert(AppointmentOccurrence), [
            {"appointment_id": series_id, "original_local": starts + timedelta(weeks=week), "outcome": "attended"}
            for series_id, starts in series for week in range(52)])
        session.execute(insert(Appointment), [
            appointment(n, local_now + (timedelta(minutes=29 * n) if n < SOON
                                        else timedelta(days=2, minutes=(n * 6) % (88 * 24 * 60))), "none")
            for n in range(ONE_OFFS)])


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    with tempfile.TemporaryDirectory() as instance:
        config = {"FIELDLINE_INSTANCE": instance, **({"DATABASE_URL": target} if target != "sqlite" else {})}
        app = create_app(config)
        engine, zone = app.extensions["fieldline.engine"], app.extensions["fieldline.settings"].zone
        if target != "sqlite":
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade(engine)
        seed(engine, zone)
        passes = []
        for _ in range(10):
            started = time.perf_counter()
            ReminderJob(zone)(engine, utcnow())
            passes.append((time.perf_counter() - started) * 1000)
        engine.dispose()
    kind = "SQLite" if target == "sqlite" else "PostgreSQL"
    print(f"{kind}: {SERIES} weekly series with {SERIES * 52} outcomes, {ONE_OFFS} one-offs ({SOON} in the next "
          f"2 days): reminder pass median {statistics.median(passes):.0f} ms, worst {max(passes):.0f} ms")


if __name__ == "__main__":
    main()
