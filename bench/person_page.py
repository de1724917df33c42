"""A person's page under load: gunicorn (2 sync workers, as in the Procfile) driven by wrk with 32
connections back to back and with 1 (a worker alone), then by 32 paced phones (as daily_pages.py), for a person with nothing on their record and for one with a long record (30
contacts, 40 outcome measure responses across PHQ-9, GAD-7, CORE-10 and a team scale, with their
charts, and a plan of 10 goals with 3 steps each, reviewed once). Budget: a page opened every day under 150 ms at p99.

Before wrk: each page's CPU time per request in-process (Flask's test client, the median of 30,
and its statement count), which does not depend on how loaded the machine is as much as wrk does.
`BENCH_PROFILE=file` writes a cProfile of 30 requests for the long record there (pstats format).

Run: .venv/bin/python bench/person_page.py [sqlite|DATABASE_URL] [seconds]
"""
import cProfile
import os
import re
import statistics
import sys
import tempfile
from time import process_time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from app.db import unit_of_work  # noqa: E402
from app.instruments import INSTRUMENTS  # noqa: E402
from app.models import Contact, Plan  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import measures, people, plan_reviews, plans  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from bench.contact_load import PASSWORD, email, fresh_app, gunicorn, paced, wrk  # noqa: E402
from bench.daily_pages import PACED_PAGE_S  # noqa: E402


def seed(engine) -> tuple[int, int]:
    """A team with a supervisor (to add a team scale) and a worker; an empty and a long record."""
    now = utcnow()
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench team"))
        worker = create_user(session, email=email(0), name="Bench Worker", role="worker", password=PASSWORD,
                             team_id=team.id)
        supervisor = create_user(session, email="boss@example.org", name="Bench Boss", role="supervisor",
                                 password=PASSWORD, team_id=team.id)
        empty, full = (people.create_person(session, worker, people.PersonDetails(name=name, key_worker_id=worker.id),
                                            people.RiskUpdate(level="high", flags=["dog"], reason="bench"), now=now)
                       for name in ("Empty Record", "Long Record"))
        for n in range(30):
            session.add(Contact(team_id=team.id, person_id=full.id, author_id=worker.id, contact_type="face_to_face",
                                happened_at=now - timedelta(days=3 * n), notes=f"Contact {n}: talked about housing."))
        scale = measures.add_scale(session, supervisor, measures.ScaleDetails(
            "Housing", "How settled is your housing?", "not at all", "completely"), now=now)
        kinds = [INSTRUMENTS["phq9"], INSTRUMENTS["gad7"], INSTRUMENTS["core10"], measures.as_instrument(scale)]
        for n in range(40):
            instrument = kinds[n % 4]
            answers = {item.key: item.options[(n // 4) % len(item.options)].value for item in instrument.scored_items}
            measures.take(session, worker, full, instrument, measures.Taken(answers, "alone", now - timedelta(days=20 * n)),
                          now=now)
        add_plan(session, worker, full, now)
        return empty.id, full.id


def add_plan(session, worker, person, now) -> None:
    today = now.date()
    goals = []
    for n in range(10):
        goal = plans.add_goal(session, worker, person, plans.GoalDetails(
            plans.AREAS[n % len(plans.AREAS)], f"Goal {n}, in their words", "A plain-words test", "6"),
            now=now, today=today)
        for step in range(3):
            plans.add_step(session, worker, goal, plans.StepDetails(f"Step {n}.{step}", "person"), now=now, today=today)
        goals.append(goal)
    plan = session.get(Plan, goals[0].plan_id)
    plan_reviews.review(session, worker, plan, person, {g.id: "Going well" for g in goals}, now=now, today=today)


def in_process(app, engine, pages: dict[str, int], repeats: int = 30) -> dict[str, dict]:
    """CPU ms per request (median of `repeats`, after one warm-up) and statements, per page."""
    from sqlalchemy import event

    from tests.helpers import FieldlineClient

    app.test_client_class = FieldlineClient
    client = app.test_client()
    assert client.login(email(0), PASSWORD).status_code == 303
    statements = []
    listener = lambda *_: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    results = {}
    for name, person_id in pages.items():
        assert client.get(f"/people/{person_id}").status_code == 200
        times = []
        for _ in range(repeats):
            statements.clear()
            started = process_time()
            client.get(f"/people/{person_id}")
            times.append((process_time() - started) * 1000)
        results[name] = {"cpu": statistics.median(times), "statements": len(statements)}
    event.remove(engine, "before_cursor_execute", listener)
    if profile_to := os.environ.get("BENCH_PROFILE"):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(repeats):
            client.get(f"/people/{pages['30 contacts, 40 measures, plan']}")
        profiler.disable()
        profiler.dump_stats(profile_to)
    return results


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with tempfile.TemporaryDirectory() as instance:
        env, app, engine = fresh_app(target, instance)
        empty, full = seed(engine)
        cpu = in_process(app, engine, {"empty record": empty, "30 contacts, 40 measures, plan": full})
        engine.dispose()
        with gunicorn("app:create_app()", env) as (base, port):
            browser = requests.Session()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                              browser.get(base + "/login").text).group(1)
            browser.post(base + "/login", data={"email": email(0), "password": PASSWORD, "csrf_token": token})
            cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
            assert "Long Record" in browser.get(f"{base}/people/{full}").text
            script = f'wrk.headers["Cookie"] = "{cookie}"\n'
            long_record = f"{base}/people/{full}"
            # One connection first: after 32 the workers still owe seconds of queued answers.
            results = {"long record, 1 conn": wrk(long_record, script, seconds, connections=1),
                       "empty record, 32 conn": wrk(f"{base}/people/{empty}", script, seconds),
                       "long record, 32 conn": wrk(long_record, script, seconds)}
            for every in PACED_PAGE_S:  # as daily_pages.py: 32 phones, each opening the page now and then
                results[f"long record, 32 phones ~{every:g} s"] = paced(
                    port, [(f"/people/{full}", None, cookie)] * 32, every=every, seconds=max(seconds, 10))
    print(f"GET /people/<id> ({target}), in-process: CPU per request, median of 30")
    for name, result in cpu.items():
        print(f"  {name:30} {result['cpu']:7.1f} ms CPU  {result['statements']} statements")
    print(f"GET /people/<id> ({target}): gunicorn 2 sync workers; wrk back to back on 32 connections and on 1, "
          f"{seconds} s; then 32 paced phones (a new connection each time)")
    for name, result in results.items():
        print(f"  {name:32} p50 {result['p50']:7.1f} ms  p99 {result['p99']:7.1f} ms  {result['rps']:7.1f} req/s"
              f"  errors {result['errors']} {result['socket']}")


if __name__ == "__main__":
    main()
