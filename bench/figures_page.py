"""The Figures page for a team of 500 people with 2 years of records: 20 workers, 24,000 timed
visits and 2,400 alerts (a third acknowledged and resolved, a tenth as false alarms), requested
through the app in this process (no network), after one warm-up; prints the median and p95 of 40.

Run: .venv/bin/python bench/figures_page.py [sqlite|postgresql+psycopg://...]
"""
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import unit_of_work  # noqa: E402
from app.models import Alert, Person, Visit  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from bench.contact_load import fresh_app  # noqa: E402

PASSWORD = "bench password 1"
RUNS = 40


def seed(engine) -> None:
    now = utcnow()
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench team"))
        create_user(session, email="lead@example.org", name="Bench Lead", role="supervisor", password=PASSWORD,
                    team_id=team.id)
        staff = [create_user(session, email=f"w{n}@example.org", name=f"Bench Worker {n}", role="worker",
                             password=PASSWORD, team_id=team.id) for n in range(20)]
        levels = ["low", "medium", "high", "very_high"]
        session.add_all([Person(team_id=team.id, name=f"Person {n:03d}", key_worker_id=staff[n % 20].id,
                                risk_level=levels[n % 4], created_at=now - timedelta(days=n * 1.4))
                         for n in range(500)])
        session.flush()
        visits = []
        for n in range(24_000):
            started = now - timedelta(minutes=n * 43.8)  # evenly over two years
            visits.append(Visit(worker_id=staff[n % 20].id, team_id=team.id, place="x", started_at=started,
                                planned_end_at=started, due_at=started, grace_seconds=60, overdue_at=started,
                                state="ended"))
        session.add_all(visits)
        alerts = []
        for n in range(2_400):
            raised = now - timedelta(minutes=n * 438)
            acked = raised + timedelta(minutes=1 + n % 9) if n % 3 else None
            alerts.append(Alert(team_id=team.id, worker_id=staff[n % 20].id, kind=("missed_check_in", "panic")[n % 2],
                                raised_at=raised, acknowledged_at=acked, state="resolved" if acked else "open",
                                resolved_at=acked, outcome="false_alarm" if acked and n % 10 == 1 else
                                ("incident" if acked else None)))
        session.add_all(alerts)


def main(target: str) -> None:
    env, app, engine = fresh_app(target, tempfile.mkdtemp(prefix="fieldline-bench-"))
    seed(engine)
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": "lead@example.org", "password": PASSWORD,
                                       "csrf_token": token.group(1)}).status_code == 303
    assert client.get("/figures").status_code == 200  # warm
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        assert client.get("/figures").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, int(0.95 * len(times)) - 1)]
    print(f"{engine.dialect.name}: Figures page, 500 people and 2 years of records: "
          f"median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {RUNS}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite")
