"""A worker process killed (SIGKILL) between claiming a delivery and finishing it loses nothing."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from app.db import unit_of_work
from app.models import Delivery, User
from app.models.types import utcnow
from app.services import delivery as delivery_service
from app.services import push_subscriptions, vapid
from app.services.delivery import Message
from tests.peers import LOCAL_PUSH, PushReceiver

ROOT = Path(__file__).resolve().parent.parent


def _worker(settings, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "FIELDLINE_INSTANCE": str(settings.instance_path),
           "FIELDLINE_DELIVERY_LEASE_SECONDS": "2", "FIELDLINE_PUSH_TIMEOUT": "30", "FIELDLINE_TICK_SECONDS": "0.2"}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _row(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(Delivery)).one()


def _wait_for(predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_killed_mid_send_the_delivery_is_sent_again_after_the_lease(app, engine, database_url, personas):
    settings = app.extensions["fieldline.settings"]
    key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
    with PushReceiver(application_server_key=key) as receiver:
        with unit_of_work(engine) as session:
            user = session.get(User, personas["worker"].id)
            push_subscriptions.register(session, user, receiver.subscription(), rule=LOCAL_PUSH, user_agent=None, now=utcnow())
            delivery_service.enqueue(session, Message(kind="test", event_ref="alert:7:level:1", title="Safety alert",
                                                      body="Open Fieldline", url="/alerts/7", topic="alert-7"),
                                     user, now=utcnow())
        receiver.answer("phone", "hang")  # the first send never gets an answer...
        first = _worker(settings, database_url)
        try:
            assert receiver.hung.wait(30), "the first worker never sent"
            claimed = _row(engine)
            assert claimed.status == "sending" and claimed.attempts == 1
            first.send_signal(signal.SIGKILL)  # ...because its worker dies mid-send
            first.wait(10)
        finally:
            first.kill()
        assert receiver.messages == []

        second = _worker(settings, database_url)
        try:
            assert _wait_for(lambda: _row(engine).status == "sent"), second.stdout
        finally:
            second.terminate()
            second.wait(10)
        accepted = [m.payload["ref"] for m in receiver.messages]  # before the hung request is released
        attempts = list(receiver.attempts)
    row = _row(engine)
    assert row.attempts == 2 and row.sent_at is not None
    # Sent once more, not lost and not duplicated beyond that retry.
    assert accepted == ["alert:7:level:1"]
    # Every send carried the same Topic, so a phone that got both would show one notification.
    assert attempts and all(m.headers["topic"] == "alert-7" for m in attempts)
