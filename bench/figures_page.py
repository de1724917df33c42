"""The Figures page for a team of 500 people with 2 years of records: bench/daily_pages.py's team
(20 workers, two contacts a month per person, a weekly or fortnightly appointment series each with
its outcomes, two visits a working day per worker, a resolved alert a week, outcome measures) plus
a referral a person a quarter (most answered) and a plan a person reviewed every quarter. A second
team of 500 sits in the same database.

Requested through the app in this process (Flask's test client, no network) by the team's
supervisor, after one warm-up: this month and last month before any snapshot (everything worked out
from the records), then, with the month-end snapshots the worker would have taken over the two
years, this month (its 12-month trends read the past months from their snapshots), last month from
its snapshot (and compared with the records now), and this quarter. Prints p50, p95 and p99 of RUNS each and the
median CPU time per request, with the load average (the machine may be shared).

Run: .venv/bin/python bench/figures_page.py [sqlite|postgresql+psycopg://...]
"""
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from app.db import unit_of_work  # noqa: E402
from app.models import Person, Plan, PlanVersion, Referral, ReferralEvent, User  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import figures  # noqa: E402
from bench.contact_load import PASSWORD, email, fresh_app  # noqa: E402
from bench.daily_pages import WORKERS, YEARS, _insert, seed  # noqa: E402

RUNS = 40
ROUTES = ("mental_health", "housing", "safeguarding_adults", "substance_use")


def seed_more(engine) -> None:
    """Referrals and plans for the team's people, over the same two years."""
    now = utcnow()
    with unit_of_work(engine) as session:
        worker = session.exec(select(User).where(User.email == email(0))).one()
        team_id, author = worker.team_id, worker.id
        people = [row.id for row in session.execute(Person.__table__.select().where(Person.team_id == team_id))]
        referrals, quarters = [], 4 * YEARS
        for n, person_id in enumerate(people):
            for q in range(quarters):
                sent = now - timedelta(days=91 * q + n % 90, hours=n % 7)
                referrals.append({"team_id": team_id, "person_id": person_id, "author_id": author,
                                  "route": ROUTES[(n + q) % 4], "status": "acknowledged", "lawful_basis": "consent",
                                  "sent_at": sent, "created_at": sent, "updated_at": sent, "answers": {}, "dash": [],
                                  "summary": "", "marac": False})
        _insert(session, Referral, referrals)
        sent_rows = session.execute(Referral.__table__.select().where(Referral.team_id == team_id)).all()
        _insert(session, ReferralEvent, [{"referral_id": r.id, "at": r.sent_at + timedelta(days=1 + r.id % 4),
                                          "status": "acknowledged"} for r in sent_rows if r.id % 5])
        _insert(session, Plan, [{"team_id": team_id, "person_id": pid, "status": "open", "version": quarters,
                                 "review_due_on": (now + timedelta(days=30)).date(), "created_by_id": author,
                                 "created_at": now - timedelta(days=365 * YEARS)} for pid in people])
        plans = session.execute(Plan.__table__.select().where(Plan.team_id == team_id)).all()
        versions = []
        for plan in plans:
            for number in range(1, quarters + 1):
                made = now - timedelta(days=91 * (quarters - number) + plan.id % 20)
                versions.append({"plan_id": plan.id, "team_id": team_id, "number": number,
                                 "kind": "change" if number == 1 else "review", "change": "Reviewed",
                                 "snapshot": {"review_due_on": (made + timedelta(days=91 + plan.id % 9 - 4)).date()
                                              .isoformat()}, "made_by_id": author, "made_at": made})
        _insert(session, PlanVersion, versions)


def timed(client, path: str) -> tuple[list[float], float]:
    """Wall times, sorted, and the median CPU time (which barely moves when others share the cores)."""
    assert client.get(path).status_code == 200, path  # warm
    times, cpu = [], []
    for _ in range(RUNS):
        started, used = time.perf_counter(), time.process_time()
        assert client.get(path).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return sorted(times), statistics.median(cpu)


def rank(times: list[float], share: float) -> float:
    return times[max(0, int(share * len(times) + 0.999999) - 1)]


def main(target: str) -> None:
    env, app, engine = fresh_app(target, tempfile.mkdtemp(prefix="fieldline-bench-"))
    zone = app.extensions["fieldline.settings"].zone
    seed(engine, zone)
    seed_more(engine)
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email(WORKERS), "password": PASSWORD,
                                       "csrf_token": token.group(1)}).status_code == 303
    today = utcnow().astimezone(zone).date()
    this_month = figures.month(today, zone)
    last_month = figures.previous(this_month, zone)
    pages = [("this month, no snapshots", "/figures"),
             ("last month, from the records", f"/figures?period={last_month.key}")]
    results = [(label, timed(client, path)) for label, path in pages]
    # What the worker would have done at each month's end for two years.
    for month in figures.months_to(last_month, zone, 12 * YEARS):
        with unit_of_work(engine) as session:
            figures.take_snapshots(session, month.ends_at + timedelta(minutes=5), zone)
    results.append(("this month, past months kept", timed(client, "/figures")))
    results.append(("last month, from its snapshot", timed(client, f"/figures?period={last_month.key}")))
    results.append(("this quarter", timed(client, f"/figures?period={figures.quarter(today, zone).key}")))
    load = os.getloadavg()
    print(f"{engine.dialect.name}: Figures page, 500 people and 2 years of records, {RUNS} requests each; "
          f"load average {load[0]:.1f} / {load[1]:.1f} on {os.cpu_count()} cores")
    for label, (times, cpu) in results:
        print(f"  {label:30} p50 {statistics.median(times):4.0f} ms  p95 {rank(times, 0.95):4.0f} ms  "
              f"p99 {rank(times, 0.99):4.0f} ms  CPU {cpu:4.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite")
