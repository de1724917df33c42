"""The pages a team opens all day, under load: gunicorn (2 sync workers, as in the Procfile) driven
by wrk with 32 connections back to back (saturation), then by 32 paced phones — 32 signed-in
sessions of the team's workers (or supervisors), each opening the page at random intervals, on a
new connection each time, as bench/contact_load.py measures check-ins — against a realistic team.

The team: 20 workers and 2 supervisors, 500 people (25 per worker), and two years of records —
two contacts a month per person, a weekly or fortnightly appointment series per person with an
outcome at most of its past occurrences (some did-not-attend still to follow up) and a one-off now
and then, two visits a working day per worker with their safety events, a resolved alert a week
and a few open ones, and some visits running now. A second team of 500 people sits in the same
database (what a worker may never see). It is seeded once, in bulk, then each page is measured
for `seconds` on one signed-in session:

- the caseload (a worker: their own people first, the team's list paged), its as-you-type search
  (the htmx POST), and the offline copy;
- Today (a worker's home);
- the board (a supervisor's home) and the team's week (Menu → Team appointments);
- a person's page (a person with two years of records, outcome measures among them);
- a trivial page (the outbox: the fixed cost every page pays, for a worker on a visit).

Beside each page's wrk figures: its CPU time per request measured in-process first (the median of
30, Flask's test client) and the statements it runs. On a shared machine wrk's figures move with
the other load; the CPU time barely does, and 32 ÷ (cores ÷ CPU time) is roughly the p50 wrk
would see on a quiet machine.

Run: .venv/bin/python bench/daily_pages.py [sqlite|postgresql+psycopg://...|all] [seconds] [page ...]
(`all`: SQLite, then PostgreSQL at $BENCH_DATABASE_URL or the local test database; pages by key:
caseload search offline today board week person trivial, all of them when none is named).
"""
import os
import random
import re
import statistics
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from time import process_time
from urllib.parse import urlencode

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import unit_of_work  # noqa: E402
from app.instruments import INSTRUMENTS  # noqa: E402
from app.models import (Alert, Appointment, AppointmentOccurrence, Contact, Person, RiskChange,  # noqa: E402
                        SafetyEvent, Visit)
from app.models.types import utcnow  # noqa: E402
from app.services import measures, safety  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from bench.contact_load import (PASSWORD, PIN, PHONES, email, fresh_app, gunicorn, paced, sign_in,  # noqa: E402
                                wrk)

WORKERS, SUPERVISORS, PEOPLE, YEARS, MEASURES = 20, 2, 500, 2, 35
# How often each of the 32 paced phones opens the page, on average: a person reads a page for a
# while before the next; every 2 s and every 1 s are both far busier than a real team.
PACED_PAGE_S = (2.0, 1.0)
POSTGRES = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://fieldline:fieldline@127.0.0.1/fieldline_test")
LEVELS = ("low", "medium", "high", "very_high")
FLAGS = ([], ["dog"], [], ["violence", "not_alone"], [], ["substance_use"], [])


def _insert(session, model, rows: list[dict]) -> None:
    keys = {key for row in rows for key in row}  # one statement for all: every row names every column
    rows = [{key: row.get(key) for key in keys} for row in rows]
    for start in range(0, len(rows), 5000):
        session.execute(model.__table__.insert(), rows[start:start + 5000])


def seed(engine, zone) -> int:
    """The realistic team and a second team; returns a person of worker 0's with two years of records."""
    rng = random.Random(18)
    now = utcnow()
    began = now - timedelta(days=365 * YEARS)
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench team", duty_phone="+447700900000"))
        other = create_team(session, TeamSettings(name="Another team"))
        staff = [create_user(session, email=email(n), name=f"Bench Worker {n}", role="worker", password=PASSWORD,
                             team_id=team.id) for n in range(WORKERS)]
        staff += [create_user(session, email=email(WORKERS + n), name=f"Bench Supervisor {n}", role="supervisor",
                              password=PASSWORD, team_id=team.id) for n in range(SUPERVISORS)]
        stranger = create_user(session, email="stranger@example.org", name="Other Worker", role="worker",
                               password=PASSWORD, team_id=other.id)
        team.duty_supervisor_id = staff[WORKERS].id
        for member in staff[WORKERS:]:
            member.second_factor_exempt = True  # the bench signs in with a password alone, as the demo does
        for member in staff[:WORKERS]:
            safety.set_pins(member, pin=PIN, duress_pin="1357")
        session.flush()
        workers = [member.id for member in staff[:WORKERS]]

        people = []
        for n in range(PEOPLE):
            people.append({"team_id": team.id, "key_worker_id": workers[n % WORKERS], "name": f"Person {n:03d}",
                           "known_as": f"P{n}" if n % 5 == 0 else None, "address": f"{n} Bench Street",
                           "status": "closed" if n % 25 == 24 else "open", "risk_level": LEVELS[n % 4],
                           "flags": FLAGS[n % len(FLAGS)], "consent_to_share": "yes", "sms_reminders": False,
                           "created_at": began, "updated_at": began, "risk_reviewed_at": began})
        people += [{"team_id": other.id, "key_worker_id": stranger.id, "name": f"Stranger {n:03d}", "status": "open",
                    "risk_level": "low", "flags": [], "consent_to_share": "no", "sms_reminders": False,
                    "created_at": began, "updated_at": began} for n in range(PEOPLE)]
        _insert(session, Person, people)
        ids = [row.id for row in session.execute(Person.__table__.select().where(Person.team_id == team.id)
                                                 .order_by(Person.id))]
        _insert(session, RiskChange, [{"person_id": pid, "at": began, "by_id": workers[n % WORKERS], "new_level":
                                       LEVELS[n % 4], "old_flags": [], "new_flags": FLAGS[n % len(FLAGS)],
                                       "reason": "First assessment"} for n, pid in enumerate(ids)])

        # Two contacts a month each; the most recent sets the person's last contact (some are overdue).
        contacts, last = [], {}
        for n, pid in enumerate(ids):
            moment = began + timedelta(days=rng.uniform(0, 15))
            stop = now - timedelta(days=rng.choice((0, 2, 5, 10, 20, 40)))
            while moment < stop:
                contacts.append({"team_id": team.id, "person_id": pid, "author_id": workers[n % WORKERS],
                                 "contact_type": "face_to_face", "happened_at": moment, "needs": ["housing"],
                                 "notes": "Talked about housing and the next appointment.", "version": 1,
                                 "created_at": moment, "updated_at": moment, "safeguarding_concern": False,
                                 "risk_changed": False})
                last[pid] = moment
                moment += timedelta(days=rng.uniform(10, 20))
        _insert(session, Contact, contacts)
        for pid, moment in last.items():
            session.execute(Person.__table__.update().where(Person.id == pid).values(last_contact_at=moment))

        # A weekly or fortnightly series per person, running now (begun up to ten months ago); a
        # third of them also had one that ran over the first year and ended. Outcomes at most past ones.
        local_now = now.astimezone(zone).replace(tzinfo=None)
        first_day = local_now.date() - timedelta(days=365 * YEARS)
        series = [{"team_id": team.id, "worker_id": workers[n % WORKERS], "person_id": pid, "kind": "office",
                   "starts_local": datetime.combine(local_now.date() - timedelta(days=7 + n % 300), time(9 + n % 8)),
                   "duration_minutes": 45, "place": "The office", "repeat": "weekly" if n % 2 else "fortnightly",
                   "created_at": began, "updated_at": began} for n, pid in enumerate(ids)]
        series += [{"team_id": team.id, "worker_id": workers[n % WORKERS], "person_id": pid, "kind": "phone",
                    "starts_local": datetime.combine(first_day + timedelta(days=n % 5), time(9 + n % 8)),
                    "repeat_until": first_day + timedelta(days=365), "duration_minutes": 30, "repeat": "weekly",
                    "created_at": began, "updated_at": began} for n, pid in enumerate(ids) if n % 3 == 0]
        series += [{"team_id": team.id, "worker_id": workers[n % WORKERS], "person_id": ids[n % PEOPLE],
                    "kind": "home_visit", "duration_minutes": 60, "place": f"{n} Bench Street", "repeat": "none",
                    "starts_local": datetime.combine(first_day + timedelta(days=rng.randrange(365 * YEARS + 30)),
                                                     time(14)), "created_at": began, "updated_at": began}
                   for n in range(2000)]
        _insert(session, Appointment, series)
        outcomes = []
        for row in session.execute(Appointment.__table__.select().where(Appointment.team_id == team.id,
                                                                        Appointment.repeat != "none")):
            step = timedelta(weeks=1 if row.repeat == "weekly" else 2)
            moment = row.starts_local
            ended = datetime.combine(row.repeat_until, time.max) if row.repeat_until else local_now
            while moment < min(ended, local_now - timedelta(days=1)):
                attended = rng.random() < 0.9
                outcomes.append({"appointment_id": row.id, "original_local": moment, "cancelled": False,
                                 "outcome": "attended" if attended else "did_not_attend", "outcome_at": now,
                                 "outcome_by_id": row.worker_id,
                                 "follow_up_done_at": None if not attended and moment > local_now - timedelta(
                                     days=14) else now})
                moment += step
        _insert(session, AppointmentOccurrence, outcomes)

        # Two visits a working day per worker, each with its steps; a resolved alert a week.
        visits = []
        day = began
        while day < now - timedelta(days=1):
            if day.weekday() < 5:
                for worker in workers:
                    for hour in (10, 14):
                        start = day.replace(hour=hour, minute=0)
                        visits.append({"worker_id": worker, "team_id": team.id, "state": "ended",
                                       "place": "1 Bench Street", "person_id": ids[rng.randrange(PEOPLE)],
                                       "started_at": start, "planned_end_at": start + timedelta(hours=1),
                                       "due_at": start + timedelta(hours=1), "grace_seconds": 300,
                                       "overdue_at": start + timedelta(hours=1, minutes=5),
                                       "last_check_in_at": start + timedelta(minutes=50),
                                       "ended_at": start + timedelta(minutes=55)})
            day += timedelta(days=1)
        for worker in workers[:8]:  # running now; two overdue with an open alert
            visits.append({"worker_id": worker, "team_id": team.id, "state": "active", "place": "2 Bench Street",
                           "person_id": ids[worker % PEOPLE], "started_at": now - timedelta(minutes=20),
                           "planned_end_at": now + timedelta(minutes=40), "due_at": now + timedelta(minutes=40),
                           "grace_seconds": 300, "overdue_at": now + timedelta(minutes=45)})
        _insert(session, Visit, visits)
        visit_rows = session.execute(Visit.__table__.select().where(Visit.team_id == team.id)
                                     .order_by(Visit.id)).all()
        events, alerts = [], []
        for number, visit in enumerate(visit_rows):
            if visit.state != "ended":
                events.append({"at": visit.started_at, "visit_id": visit.id, "actor_id": visit.worker_id,
                               "kind": "started"})
                continue
            for kind, at in (("started", visit.started_at), ("checked_in", visit.last_check_in_at),
                             ("ended", visit.ended_at)):
                events.append({"at": at, "visit_id": visit.id, "actor_id": visit.worker_id, "kind": kind})
            if number % 40 == 0:
                alerts.append({"team_id": team.id, "worker_id": visit.worker_id, "visit_id": visit.id,
                               "kind": "missed_check_in", "state": "resolved", "level": 1,
                               "raised_at": visit.overdue_at, "acknowledged_at": visit.overdue_at,
                               "acknowledged_by_id": staff[WORKERS].id, "resolved_at": visit.ended_at,
                               "resolved_by_id": staff[WORKERS].id, "outcome": "safe", "repeats": 0})
        alerts += [{"team_id": team.id, "worker_id": workers[n], "kind": "panic", "state": state, "level": 3,
                    "raised_at": now - timedelta(minutes=5 + n), "repeats": 0,
                    "next_escalation_at": now + timedelta(hours=1)}
                   for n, state in enumerate(("open", "acknowledged", "open"))]
        _insert(session, SafetyEvent, events)
        _insert(session, Alert, alerts)
        # Outcome measures for the person whose page is measured: PHQ-9, GAD-7 and CORE-10 in turn,
        # every three weeks for two years (their card draws a chart of each).
        person = session.get(Person, ids[0])
        for n in range(MEASURES):
            instrument = INSTRUMENTS[("phq9", "gad7", "core10")[n % 3]]
            answers = {item.key: item.options[(n // 3) % len(item.options)].value for item in instrument.scored_items}
            measures.take(session, staff[0], person, instrument,
                          measures.Taken(answers, "alone", now - timedelta(weeks=3 * n)), now=now)
        print(f"seeded: {len(ids)} people (+{PEOPLE} on another team), {len(contacts)} contacts, {len(series)} "
              f"appointments with {len(outcomes)} outcomes, {len(visits)} visits with {len(events)} events, "
              f"{len(alerts)} alerts, {MEASURES} measures for the person", flush=True)
        return ids[0]


SEARCH = {"q": "Person 4", "scope": "team", "status": "open"}
# key: (label, who: 0 is a worker, WORKERS a supervisor, path, the as-you-type search's htmx POST?)
PAGES = {
    "caseload": ("caseload (worker)", 0, "/caseload", False),
    "search": ("caseload search, as you type (htmx POST)", 0, "/caseload", True),
    "offline": ("caseload, offline copy", 0, "/caseload/offline", False),
    "today": ("Today (worker)", 0, "/", False),
    "board": ("board (supervisor)", WORKERS, "/", False),
    "week": ("team's week (supervisor)", WORKERS, "/appointments/team", False),
    "person": ("a person's page (2 years of records)", 0, "/people/{person_id}", False),
    "trivial": ("a trivial page (the outbox), for the floor", 0, "/outbox", False),
}


def in_process(app, engine, person_id: int, keys: list[str], repeats: int = 30) -> dict:
    """Each page's CPU time in this process (Flask's test client, no server, no queue): the median
    of `repeats`, and the statements one request runs. CPU time, unlike wall time, barely moves
    when other processes share the cores."""
    clients = {}
    for n in (0, WORKERS):
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"email": email(n), "password": PASSWORD, "csrf_token": token})
        clients[n] = client, re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/").text).group(1)
    statements = []

    def count(*_):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    results = {}
    for key in keys:
        label, who, path, search = PAGES[key]
        client, token = clients[who]

        def once():
            if search:
                return client.post(path, data={**SEARCH, "csrf_token": token}, headers={"HX-Request": "true"})
            return client.get(path.format(person_id=person_id))

        assert once().status_code == 200, label
        times = []
        for _ in range(repeats):
            statements.clear()
            started = process_time()
            once()
            times.append((process_time() - started) * 1000)
        results[label] = {"cpu": statistics.median(times), "statements": len(statements)}
    event.remove(engine, "before_cursor_execute", count)
    return results


def run(target: str, seconds: int, keys: list[str]) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as instance:
        env, app, engine = fresh_app(target, instance)
        person_id = seed(engine, app.extensions["fieldline.settings"].zone)
        cpu = in_process(app, engine, person_id, keys)
        engine.dispose()
        with gunicorn("app:create_app()", env) as (base, port):
            phones = {0: sign_in(base, 0, 0), WORKERS: sign_in(base, WORKERS, 0)}
            # The paced phones: 32 sessions, the team's workers (or its supervisors) in turn.
            workers = [sign_in(base, n % WORKERS, 0) for n in range(PHONES)]
            supervisors = [sign_in(base, WORKERS + n % SUPERVISORS, 0) for n in range(PHONES)]
            loaded, paced_rows = {}, {}
            for key in keys:
                label, who, path, search = PAGES[key]
                url = path.format(person_id=person_id)
                script = f'wrk.headers["Cookie"] = "{phones[who].cookie}"\n'
                if search:
                    body = urlencode({**SEARCH, "csrf_token": phones[who].token})
                    script += (f'wrk.method = "POST"\nwrk.body = "{body}"\n'
                               'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                               'wrk.headers["HX-Request"] = "true"\n')
                loaded[label] = wrk(base + url, script, seconds)
                if not search:  # the search is a keystroke's POST: its paced form is the caseload's
                    sessions = workers if who == 0 else supervisors
                    paced_rows[label] = {every: paced(port, [(url, None, phone.cookie) for phone in sessions],
                                                      every=every, seconds=seconds) for every in PACED_PAGE_S}
        return cpu, loaded, paced_rows


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    keys = sys.argv[3:] or list(PAGES)
    for each in ["sqlite", POSTGRES] if target == "all" else [target]:
        cpu, loaded, paced_rows = run(each, seconds, keys)
        kind = "SQLite" if each == "sqlite" else "PostgreSQL"
        print(f"{kind}: gunicorn {os.environ.get('WEB_CONCURRENCY', '2')} sync workers; wrk 2 threads x 32 "
              f"connections for {seconds} s per page; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")
        print(f"  {'page':42} {'p50':>9} {'p99':>9} {'max':>9} {'req/s':>6} {'CPU/req':>8} {'SQL':>4}  non-2xx/3xx")
        for label, got in loaded.items():
            # No answer within the run (a machine too busy): wrk's zeros would read as instant.
            timing = (f"{got['p50']:6.1f} ms {got['p99']:6.1f} ms {got['max']:6.1f} ms" if got["rps"] else
                      f"{'none answered in ' + str(seconds) + ' s':>29}")
            print(f"  {label:42} {timing} {got['rps']:6.0f} {cpu[label]['cpu']:5.1f} ms {cpu[label]['statements']:4}  "
                  f"{got['errors']} {got['socket']}", flush=True)
        print(f"  {PHONES} phones, each opening the page at random intervals averaging "
              f"{' / '.join(f'{every:g}' for every in PACED_PAGE_S)} s (p50 / p99, ms; errors)")
        for label, runs in paced_rows.items():
            cells = "   ".join(f"{got['p50']:5.0f} / {got['p99']:5.0f}  ({got['errors']})" for got in runs.values())
            print(f"  {label:42} {cells}", flush=True)


if __name__ == "__main__":
    main()
