"""From a missed grace deadline to the alarm arriving, with 10,000 visits running.

Real `fieldline worker` processes (1 or 2) watch 10,000 active visits. 600 of them fall due over
60 seconds (staggered), the rest later; then a burst of 1,000 falls due at the same instant. For
each alert: when its first push arrived at the push receiver, and when the SMS gateway got its
first request, minus the visit's grace deadline. The duty supervisor has a phone (a push receiver
in its own process that checks the VAPID signature and decrypts every message, as a push service
and a phone would — after the run: it answers at once, timing each push by its arrival and Topic,
so that its checks do not take the 2 cores' time from the worker as a real push service's would
not) and a mobile number (a local SMS gateway stand-in in another process that
speaks the gateway's HTTP protocol). Lost: alerts whose push never arrived; duplicated: visits
alerted twice, and alarms that arrived twice on the phone.
Also: the cost of one idle tick (safety job + delivery job with nothing due) over 10,000 visits.

Run: .venv/bin/python bench/safety_latency.py [sqlite|postgresql+psycopg://...] [workers] [burst]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from app import create_app  # noqa: E402
from app.db import unit_of_work, upgrade  # noqa: E402
from app.models import Alert, Delivery, Visit, WorkerHeartbeat  # noqa: E402
from app.services.delivery import reference  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import push_subscriptions, vapid  # noqa: E402
from tests.peers import LOCAL_PUSH  # noqa: E402
from app.services.delivery import DeliveryJob  # noqa: E402
from app.services.escalation import safety_job  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from app.worker import channel_config  # noqa: E402

# Each peer in its own process, so it never competes with the worker for a GIL. On "report" each
# prints what it got: (the push's ref or the text's Idempotency-Key, when the request came in).
RECEIVER = """
import json, sys
sys.path.insert(0, %r)
from tests.peers import PushReceiver
with PushReceiver(application_server_key=sys.argv[1], check_later=True) as receiver:
    receiver.delay = float(sys.argv[2])
    print(json.dumps(receiver.subscription()), flush=True)
    for line in sys.stdin:
        if line.strip() == "check":  # after the run: every message's signature and payload
            receiver.check_what_came()
            print(json.dumps({"accepted": len(receiver.messages), "errors": len(receiver.errors),
                              "why": sorted(set(receiver.errors))[:3],
                              "checked": [[m.payload["ref"], {k.lower(): v for k, v in m.headers.items()}.get("topic")]
                                          for m in receiver.messages]}), flush=True)
            continue
        with receiver.lock:
            taken = list(receiver.unchecked)
        print(json.dumps({"arrivals": [[{k.lower(): v for k, v in headers.items()}.get("topic"), at]
                                       for _, headers, _, at in taken]}), flush=True)
"""
GATEWAY = """
import json, sys
sys.path.insert(0, %r)
from tests.peers import SmsGateway
with SmsGateway() as gateway:
    gateway.delay = float(sys.argv[1])
    print(json.dumps(gateway.url), flush=True)
    for line in sys.stdin:
        print(json.dumps({"arrivals": [[r["idempotency_key"], r["at"]] for r in gateway.requests]}), flush=True)
"""

RUNNING = 10_000
# BENCH_ROUND_TRIP_MS: how long the push service and the SMS gateway take to answer each request,
# as a provider across the internet would (the stand-ins here answer at once by default). An
# arrival is timed when the request arrives, but a sending thread waits for the answer.
ROUND_TRIP_S = float(os.environ.get("BENCH_ROUND_TRIP_MS", "0")) / 1000
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
        supervisor.phone = "+447700900001"
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


class Peer:
    """A peer process (push receiver or SMS gateway) and what it has received."""

    def __init__(self, script, *args):
        self.process = subprocess.Popen([sys.executable, "-c", script % str(ROOT), *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.hello = json.loads(self.process.stdout.readline())

    def report(self) -> dict:
        return self.ask("report")

    def ask(self, what: str) -> dict:
        self.process.stdin.write(what + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait(10)


def deadlines(engine, after_alert):
    """The alerts raised after `after_alert`: {alert id: its visit's grace deadline (epoch s)}, and
    the SMS references of their first alarm: {reference: alert id}."""
    with unit_of_work(engine) as session:
        rows = session.exec(select(Alert.id, Visit.overdue_at).join(Visit, Visit.id == Alert.visit_id)
                            .where(Alert.id > after_alert)).all()
        alarms = session.exec(select(Delivery.dedupe_key, Delivery.created_at, Delivery.event_ref)
                              .where(Delivery.channel == "sms", Delivery.event_ref.like("alert:%:level:1:0"))).all()
    due = {alert_id: overdue.replace(tzinfo=timezone.utc).timestamp() for alert_id, overdue in rows}
    texts = {reference(key, created): int(ref.split(":")[1]) for key, created, ref in alarms}
    return due, texts


def first_arrivals(arrivals, key_to_alert):
    first, repeats = {}, 0
    for key, at in arrivals:
        alert_id = key_to_alert(key)
        if alert_id is None:
            continue
        if alert_id in first:
            repeats += 1
        first[alert_id] = min(at, first.get(alert_id, at))
    return first, repeats


def push_alert(topic):
    """The alert whose alarm this push was, from its Topic header (the run raises no escalation:
    an alarm is the first level's). After the run each payload is decrypted and its ref checked
    against its topic (check_pushes)."""
    return int(topic.split("-", 1)[1]) if topic and topic.startswith("alert-") else None


def check_pushes(receiver) -> dict:
    """Every push's VAPID signature checked and its payload decrypted; a first-level alarm whose
    decrypted ref names another alert than its Topic counts as rejected."""
    checked = receiver.ask("check")
    wrong = sum(1 for ref, topic in checked["checked"]
                if ref.startswith("alert:") and push_alert(topic) != int(ref.split(":")[1]))
    if checked["why"]:
        print("  rejected because:", "; ".join(checked["why"]))
    return {"accepted": checked["accepted"] - wrong, "errors": checked["errors"] + wrong}


def measure(engine, receiver, gateway, after_alert, count, timeout):
    """Wait until `count` alarms have arrived as pushes and as texts (or the timeout), then each
    alert's latency per channel."""
    give_up = time.monotonic() + timeout
    while True:
        due, texts = deadlines(engine, after_alert)
        pushes, push_repeats = first_arrivals(receiver.report()["arrivals"], push_alert)
        sms, sms_repeats = first_arrivals(gateway.report()["arrivals"], texts.get)
        pushed = {a: t - due[a] for a, t in pushes.items() if a in due}
        texted = {a: t - due[a] for a, t in sms.items() if a in due}
        if (len(pushed) >= count and len(texted) >= count) or time.monotonic() > give_up:
            return pushed, texted, push_repeats, len(due)
        time.sleep(0.5)


def summary(label, values, count) -> dict:
    values = sorted(values)
    if not values:
        return {"case": label, "n": 0, "lost": count}
    spread = max(values) - min(0.0, min(values))
    return {"case": label, "n": len(values), "p50": statistics.median(values), "p99": percentile(values, 0.99),
            "max": max(values), "rate": len(values) / spread if spread > 0 else 0.0, "lost": count - len(values)}


def report(label, values, count) -> dict:
    row = summary(label, values, count)
    if not row["n"]:
        print(f"  {label:<30} nothing arrived; lost {count}")
    else:
        print(f"  {label:<30} n={row['n']:<5} p50={row['p50'] * 1000:6.0f} ms  p99={row['p99'] * 1000:6.0f} ms  "
              f"max={row['max'] * 1000:6.0f} ms  {row['rate']:5.0f} alerts/s  lost={row['lost']}")
    return row


def profiler(process, n):
    """BENCH_PROFILE=dir: py-spy watches worker n and its sending children (100 Hz, only the thread
    holding the GIL, per thread) until they stop, and writes collapsed stacks to dir/worker-n.txt."""
    folder = os.environ.get("BENCH_PROFILE")
    if not folder:
        return None
    return subprocess.Popen(["py-spy", "record", "--gil", "--threads", "--subprocesses", "--rate", "100",
                             "--format", "raw", "--nonblocking", "-o", str(Path(folder) / f"worker-{n}.txt"),
                             "--pid", str(process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(worker_pids: list[int], database: str | None) -> tuple[float, float, float]:
    """CPU time used so far by the workers, by their sending children, and by the PostgreSQL
    processes serving `database`: a cost per alert that a busy machine inflates less than latency."""
    tick = os.sysconf("SC_CLK_TCK")
    ours, children, serving = 0.0, 0.0, 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        pid, parent, used = int(entry.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        if pid in worker_pids:
            ours += used
        elif parent in worker_pids:
            children += used
        elif database and name.startswith("postgres"):
            try:
                if f" {database} ".encode() in (entry / "cmdline").read_bytes():
                    serving += used
            except OSError:
                pass
    return ours, children, serving


def wait_for_workers(engine, count: int, timeout: float = 60) -> None:
    """Until every worker has ticked twice (started and ready): a burst alone measures sending,
    not how long a worker takes to start (the whole run has the staggered minute before it)."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        with unit_of_work(engine) as session:
            ready = session.exec(select(WorkerHeartbeat).where(
                WorkerHeartbeat.ticked_at > WorkerHeartbeat.started_at)).all()
        if len(ready) >= count:
            return
        time.sleep(0.2)


def run(database_url: str | None, workers: int, burst_only: bool = False) -> list[dict]:
    """Prints each case as it is measured; returns them (with the duplicates) for a summary."""
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
        receiver = Peer(RECEIVER, key, str(ROUND_TRIP_S))
        gateway = Peer(GATEWAY, str(ROUND_TRIP_S))
        team_id, worker_ids = setup(engine, receiver.hello)

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
        print(f"{kind}, {workers} worker process{'es' if workers > 1 else ''}, {RUNNING} visits running"
              + (f", the push service and SMS gateway answering after {ROUND_TRIP_S * 1000:g} ms" if ROUND_TRIP_S else ""))
        print(f"  idle tick (safety + delivery jobs)   median={statistics.median(timings) * 1000:.1f} ms  "
              f"max={max(timings) * 1000:.1f} ms")

        env = {**os.environ, "FIELDLINE_INSTANCE": instance, "FIELDLINE_TICK_SECONDS": "1",
               "FIELDLINE_PUSH_ALLOW_PRIVATE": "1", "SMS_GATEWAY_URL": gateway.hello}
        if database_url:
            env["DATABASE_URL"] = database_url
        processes = [subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        profilers, repeats, rows = [], 0, []
        try:  # from here on the workers are stopped whatever happens (a failing profiler too)
            profilers.extend(profiler(process, n) for n, process in enumerate(processes))
            wait_for_workers(engine, workers) if burst_only else time.sleep(2)
            last_alert = 0
            if not burst_only:
                start = utcnow() + timedelta(seconds=2)
                add_visits(engine, team_id, worker_ids,
                           [start + timedelta(seconds=STAGGER_SECONDS * n / STAGGERED) for n in range(STAGGERED)])
                pushed, texted, repeats, _raised = measure(engine, receiver, gateway, 0, STAGGERED,
                                                           STAGGER_SECONDS + 30)
                rows.append(report("staggered, push", pushed.values(), STAGGERED))
                rows.append(report("staggered, SMS hook", texted.values(), STAGGERED))
                with unit_of_work(engine) as session:
                    last_alert = max(session.exec(select(Alert.id)).all())
            burst_at = utcnow() + timedelta(seconds=2)
            add_visits(engine, team_id, worker_ids, [burst_at] * BURST)
            stand_ins = [receiver.process.pid, gateway.process.pid]
            cpu_before = cpu_seconds([p.pid for p in processes], database_url and database_url.rsplit("/", 1)[1])
            stand_ins_before = cpu_seconds(stand_ins, None)[0]
            shares_before = [sum(cpu_seconds([p.pid], None)[:2]) for p in processes]
            pushed, texted, repeats, _raised = measure(engine, receiver, gateway, last_alert, BURST, 60)
            cpu_after = cpu_seconds([p.pid for p in processes], database_url and database_url.rsplit("/", 1)[1])
            stand_ins_after = cpu_seconds(stand_ins, None)[0]
            shares = [sum(cpu_seconds([p.pid], None)[:2]) - before for p, before in zip(processes, shares_before)]
            used = [(after - before) / BURST * 1000 for before, after in zip(cpu_before, cpu_after)]
            print(f"  CPU per alert of the burst: workers {used[0]:.2f} ms and their senders {used[1]:.2f} ms, "
                  f"database server {used[2]:.2f} ms, "
                  f"push receiver and SMS gateway stand-ins {(stand_ins_after - stand_ins_before) / BURST * 1000:.2f} ms")
            if workers > 1:  # how evenly the workers (each with its senders) shared the burst
                print("  CPU of each worker with its senders during the burst: "
                      + ", ".join(f"{share:.2f} s" for share in shares))
            rows.append(report(f"burst of {BURST}, push", pushed.values(), BURST))
            rows.append(report(f"burst of {BURST}, SMS hook", texted.values(), BURST))
        finally:
            for process in processes:
                process.terminate()
            for process in processes + [p for p in profilers if p]:
                process.wait(30)
            counts = check_pushes(receiver)
            receiver.close()
            gateway.close()
        with unit_of_work(engine) as session:
            per_visit = session.exec(select(Alert.visit_id)).all()
        twice = len(per_visit) - len(set(per_visit))
        print(f"  alerts raised {len(per_visit)}, visits alerted twice {twice}, "
              f"alarms that arrived twice {repeats}, pushes accepted {counts['accepted']}, "
              f"rejected {counts['errors']}")
        engine.dispose()
        for row in rows:
            row["duplicated"] = twice + repeats
        return rows


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    run(None if target == "sqlite" else target, count, burst_only=sys.argv[3:] == ["burst"])
