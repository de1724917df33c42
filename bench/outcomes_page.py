"""The manager's outcome page under load: gunicorn (2 sync workers, as in the Procfile) driven by
wrk with 32 connections, for a team of 500 people, each with a plan (a third of them closed with
goal outcomes) and two years of PHQ-9 and GAD-7 scores every three months (9,000 responses).
Budget: p99 under 150 ms. Measured with 32 connections back to back (as the other benchmarks) and
with 2 (two managers reading it at once, which is what this page meets). Each run starts once the
workers have answered the last run's queued requests: straight after 32 connections, the first
requests of a 2-connection run waited 2-3 s behind them, which was its p99 (not the page).

Run: .venv/bin/python bench/outcomes_page.py [sqlite|DATABASE_URL] [seconds]
"""
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from app.db import unit_of_work  # noqa: E402
from app.models import MeasureResponse, Person, Plan, PlanGoal  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from bench.contact_load import PASSWORD, fresh_app, gunicorn, wrk  # noqa: E402

PEOPLE = 500


def seed(engine) -> None:
    now = utcnow()
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench team"))
        worker = create_user(session, email="worker@example.org", name="Bench Worker", role="worker",
                             password=PASSWORD, team_id=team.id)
        boss = create_user(session, email="boss@example.org", name="Bench Boss", role="supervisor", password=PASSWORD,
                           team_id=team.id)
        boss.second_factor_exempt = True  # a supervisor signs in with a second factor; the bench has none
        for n in range(PEOPLE):
            person = Person(team_id=team.id, name=f"Person {n}", key_worker_id=worker.id)
            session.add(person)
            session.flush()
            closed = n % 3 == 0
            plan = Plan(team_id=team.id, person_id=person.id, created_by_id=worker.id,
                        created_at=now - timedelta(days=730), review_due_on=(now + timedelta(days=n % 60 - 20)).date(),
                        status="closed" if closed else "open", closed_at=now - timedelta(days=n % 300) if closed else None)
            session.add(plan)
            session.flush()
            for g in range(3):
                session.add(PlanGoal(plan_id=plan.id, team_id=team.id, area="health", wants="w", how_we_know="h",
                                     target_on=now.date(), outcome=("achieved", "partly", "not_achieved")[(n + g) % 3]
                                     if closed else None))
            for key, start, step in (("phq9", 20 - n % 10, -(n % 4)), ("gad7", 12, n % 3 - 1)):
                for q in range(9):
                    total = max(0, min(21, start + step * q))
                    session.add(MeasureResponse(team_id=team.id, person_id=person.id, instrument=key,
                                                instrument_version="1", asked_by_id=worker.id,
                                                taken_at=now - timedelta(days=91 * (8 - q) + 1), total=total))


def drained(browser: requests.Session, url: str, quick_s: float = 0.5, within_s: float = 30) -> str:
    """Wait until a request is answered with nothing queued ahead of it; returns `url`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        started = time.monotonic()
        browser.get(url)
        if time.monotonic() - started < quick_s:
            break
    return url


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with tempfile.TemporaryDirectory() as instance:
        env, app, engine = fresh_app(target, instance)
        seed(engine)
        engine.dispose()
        with gunicorn("app:create_app()", env) as (base, port):
            browser = requests.Session()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                              browser.get(base + "/login").text).group(1)
            browser.post(base + "/login", data={"email": "boss@example.org", "password": PASSWORD, "csrf_token": token})
            cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
            assert "Reliable improvement" in browser.get(f"{base}/team/outcomes").text
            script = f'wrk.headers["Cookie"] = "{cookie}"\n'
            two_years = f"{base}/team/outcomes.csv?start={(utcnow() - timedelta(days=731)).date()}"
            page = f"{base}/team/outcomes"
            results = {"12 months, 32 conn": wrk(page, script, seconds),
                       "12 months, 2 conn": wrk(drained(browser, page), script, seconds, connections=2),
                       "2 years CSV, 2 conn": wrk(drained(browser, two_years), script, seconds, connections=2)}
    print(f"GET /team/outcomes ({target}, {PEOPLE} people): gunicorn 2 sync workers; wrk 2 threads, {seconds} s")
    for name, result in results.items():
        print(f"  {name:20} p50 {result['p50']:7.1f} ms  p99 {result['p99']:7.1f} ms  {result['rps']:7.1f} req/s"
              f"  errors {result['errors']} {result['socket']}")


if __name__ == "__main__":
    main()
