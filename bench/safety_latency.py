"""From a missed grace deadline to the first delivery attempt, with 10,000 visits running.

Real `fieldline worker` processes (1 or 2) watch 10,000 active visits. 600 of them fall due over
60 seconds (staggered), the rest later; then a burst of 1,000 falls due at the same instant. Each
alert's latency is its first delivery attempt (claimed for sending) minus the visit's grace
deadline. Recipients: the worker (email; no SMTP here, so it fails at once) and the duty
supervisor, whose phone is a push receiver in its own process that checks and decrypts everything.
Also: the cost of one idle tick (safety job + delivery job with nothing due) over 10,000 visits.

Run: .venv/bin/python bench/safety_latency.py [sqlite|postgresql+psycopg://...] [workers]
"""
import json
import os
import statistics
import subprocess
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
from app.models import Alert, Delivery, Visit  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import push_subscriptions, vapid  # noqa: E402
from tests.peers import LOCAL_PUSH  # noqa: E402
from app.services.delivery import DeliveryJob  # noqa: E402
from app.services.escalation import safety_job  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from app.worker import channel_config  # noqa: E402
from bench.delivery_throughput import RECEIVER  # noqa: E402

RUNNING = 10_000
STAGGERED = 600
STAGGER_SECONDS = 60
BURST = 1_000


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def setup(engine, subscription):
    with unit_of_work(engine) as session:
        team = create_team(session, TeamSettings(name="Bench", grace_seconds=60, escalation_seconds=3600))
        supervisor = create_user(session, email="duty@example.org", name="Duty", role="supervisor",
                                 password="bench password 1", team_id=team.id)
        team.duty_supervisor_id = supervisor.id
        push_subscriptions.register(session, supervisor, subscription, rule=LOCAL_PUSH, user_agent=None, now=utcnow())
        workers = [create_user(session, email=f"w{n}@example.org", name=f"Worker {n}", role="worker",
                               password="bench password 1", team_id=team.id) for n in range(100)]
        return team.id, [w.id for w in workers]


def add_visits(engine, team_id, worker_ids, deadlines):
    now = utcnow()
    rows = [{"worker_id": worker_ids[n % len(worker_ids)], "team_id": team_id, "state": "active",
             "place": f"Bench place {n}", "started_at": now, "planned_end_at": deadline - timedelta(seconds=60),
             "due_at": deadline - timedelta(seconds=60), "grace_seconds": 60, "overdue_at": deadline,
             "remind_at": None} for n, deadline in enumerate(deadlines)]
    with unit_of_work(engine) as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(Visit), rows[start:start + 1000])


def latencies(engine, since_ids):
    with unit_of_work(engine) as session:
        alerts = {a.id: a for a in session.exec(select(Alert).where(Alert.id > since_ids)).all()}
        overdue = {v.id: v.overdue_at for v in session.exec(
            select(Visit).where(Visit.id.in_([a.visit_id for a in alerts.values()]))).all()} if alerts else {}
        first = {}
        for ref, attempted in session.exec(select(Delivery.event_ref, Delivery.first_attempt_at)
                                           .where(Delivery.first_attempt_at.is_not(None))).all():
            parts = ref.split(":")
            alert_id = int(parts[1]) if parts[0] == "alert" else int(parts[3]) if parts[2] == "missed" else None
            if alert_id in alerts and (alert_id not in first or attempted < first[alert_id]):
                first[alert_id] = attempted
    return [(first[a] - overdue[alerts[a].visit_id]).total_seconds() for a in alerts if a in first], len(alerts)


def wait_until(engine, count, since_ids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        values, raised = latencies(engine, since_ids)
        if len(values) >= count:
            return values
        time.sleep(0.5)
    return latencies(engine, since_ids)[0]


def report(label, values):
    print(f"  {label:<34} n={len(values):<5} p50={statistics.median(values) * 1000:7.0f} ms  "
          f"p99={percentile(values, 0.99) * 1000:7.0f} ms  max={max(values) * 1000:7.0f} ms")


def run(database_url: str | None, workers: int, burst_only: bool = False) -> None:
    with tempfile.TemporaryDirectory() as instance:
        # The local push receiver is on http://127.0.0.1: a test-only setting.
        overrides = {"FIELDLINE_INSTANCE": instance, "FIELDLINE_PUSH_ALLOW_PRIVATE": "1"}
        if database_url:
            overrides["DATABASE_URL"] = database_url
        app = create_app(overrides)
        engine = app.extensions["fieldline.engine"]
        settings = app.extensions["fieldline.settings"]
        if database_url:
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade(engine)
        key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER % str(ROOT), key], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        subscription = json.loads(receiver.stdout.readline())
        team_id, worker_ids = setup(engine, subscription)

        # Idle tick over 10,000 running visits, none due.
        later = utcnow() + timedelta(hours=6)
        add_visits(engine, team_id, worker_ids, [later + timedelta(seconds=n) for n in range(RUNNING - STAGGERED)])
        delivery = DeliveryJob(channel_config(settings), owner="idle-probe", lease_seconds=60, threads=8)
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            safety_job(engine, utcnow())
            delivery(engine, utcnow())
            timings.append(time.perf_counter() - started)
        kind = "PostgreSQL" if database_url else "SQLite"
        print(f"{kind}, {workers} worker process{'es' if workers > 1 else ''}, {RUNNING} visits running")
        print(f"  idle tick (safety + delivery jobs)   median={statistics.median(timings) * 1000:.1f} ms  "
              f"max={max(timings) * 1000:.1f} ms")

        env = {**os.environ, "FIELDLINE_INSTANCE": instance, "FIELDLINE_TICK_SECONDS": "1",
               "FIELDLINE_PUSH_ALLOW_PRIVATE": "1"}
        if database_url:
            env["DATABASE_URL"] = database_url
        processes = [subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        try:
            time.sleep(2)
            last_alert = 0
            if not burst_only:
                start = utcnow() + timedelta(seconds=2)
                add_visits(engine, team_id, worker_ids,
                           [start + timedelta(seconds=STAGGER_SECONDS * n / STAGGERED) for n in range(STAGGERED)])
                staggered = wait_until(engine, STAGGERED, 0, STAGGER_SECONDS + 30)
                report(f"staggered ({STAGGERED} over {STAGGER_SECONDS} s)", staggered)
                with unit_of_work(engine) as session:
                    last_alert = max(session.exec(select(Alert.id)).all())
            burst_at = utcnow() + timedelta(seconds=2)
            add_visits(engine, team_id, worker_ids, [burst_at] * BURST)
            burst = wait_until(engine, BURST, last_alert, 60)
            report(f"burst ({BURST} due at once)", burst)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(20)
            receiver.stdin.write("report\n")
            receiver.stdin.flush()
            counts = json.loads(receiver.stdout.readline())
            receiver.stdin.close()
            receiver.wait(10)
        with unit_of_work(engine) as session:
            per_visit = session.exec(select(Alert.visit_id)).all()
        print(f"  alerts raised {len(per_visit)}, visits alerted twice {len(per_visit) - len(set(per_visit))}, "
              f"pushes accepted by the receiver {counts['accepted']}, rejected {counts['errors']}")
        engine.dispose()


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    run(None if target == "sqlite" else target, count, burst_only=sys.argv[3:] == ["burst"])
