"""Deliveries per second through the worker's delivery job to a local push receiver.

The receiver runs in its own process (it verifies VAPID and decrypts every message, like a real
push service would check and a phone would decrypt), so it does not compete with the sender for
the GIL. Run: .venv/bin/python bench/delivery_throughput.py [N] [DATABASE_URL]
"""
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from app import create_app  # noqa: E402
from app.db import unit_of_work, upgrade  # noqa: E402
from app.models import Delivery  # noqa: E402
from app.models.types import utcnow  # noqa: E402
from app.services import delivery as delivery_service  # noqa: E402
from app.services import push_subscriptions, vapid  # noqa: E402
from tests.peers import LOCAL_PUSH  # noqa: E402
from app.services.delivery import DeliveryJob, Message  # noqa: E402
from app.services.users import TeamSettings, create_team, create_user  # noqa: E402
from app.worker import channel_config  # noqa: E402

RECEIVER = """
import json, sys, time
sys.path.insert(0, %r)
from tests.peers import PushReceiver
with PushReceiver(application_server_key=sys.argv[1]) as receiver:
    print(json.dumps(receiver.subscription()), flush=True)
    for line in sys.stdin:
        print(json.dumps({"accepted": len(receiver.messages), "errors": len(receiver.errors)}), flush=True)
"""


def run(count: int, database_url: str | None, threads: int) -> None:
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
        with unit_of_work(engine) as session:
            team = create_team(session, TeamSettings(name="Bench"))
            user = create_user(session, email="bench@example.org", name="Bench", role="worker",
                               password="bench password 1", team_id=team.id)
            push_subscriptions.register(session, user, subscription, rule=LOCAL_PUSH, user_agent=None, now=utcnow())
            now = utcnow()
            for n in range(count):
                delivery_service.enqueue(session, Message(kind="test", event_ref=f"bench:{n}", title="Bench",
                                                          body="Open Fieldline", url="/"), user, now=now)
        job = DeliveryJob(channel_config(settings), owner="bench", lease_seconds=60, threads=threads)
        started = time.perf_counter()
        while delivery_service.claimable(engine, utcnow()):
            job(engine, utcnow())
            time.sleep(0.001)  # the job hands sends to its lanes and returns at once
        job.drain(600)
        elapsed = time.perf_counter() - started
        receiver.stdin.write("report\n")
        receiver.stdin.flush()
        report = json.loads(receiver.stdout.readline())
        receiver.stdin.close()
        receiver.wait(10)
        with unit_of_work(engine) as session:
            sent = len(session.exec(select(Delivery.id).where(Delivery.status == "sent")).all())
        engine.dispose()
    kind = "PostgreSQL" if database_url else "SQLite"
    print(f"{kind:<10} threads={threads:<2} {count} pushes in {elapsed:.2f} s = {count / elapsed:.0f}/s "
          f"(receiver accepted {report['accepted']}, rejected {report['errors']}; rows sent {sent})")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    url = sys.argv[2] if len(sys.argv) > 2 else None
    for pool in (1, 8):
        run(n, url, pool)
