"""Faults in a real worker process: killed (SIGKILL) mid-send it loses nothing; with the mail
server and the SMS gateway hung, safety pushes still leave on time."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Delivery, Team, User, Visit
from app.models.types import utcnow
from app.services import delivery as delivery_service
from app.services import push_subscriptions, safety, vapid
from app.services.delivery import Message
from tests.peers import LOCAL_PUSH, HangingServer, PushReceiver, SmsGateway

ROOT = Path(__file__).resolve().parent.parent


def _worker(settings, database_url, **extra):
    env = {**os.environ, "DATABASE_URL": database_url, "FIELDLINE_INSTANCE": str(settings.instance_path),
           "FIELDLINE_DELIVERY_LEASE_SECONDS": "2", "FIELDLINE_PUSH_TIMEOUT": "30", "FIELDLINE_TICK_SECONDS": "0.2",
           **extra}
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


def _missed_visit(session, worker_id, team_id, overdue_at):
    visit = Visit(worker_id=worker_id, team_id=team_id, place="14 Example Road", started_at=overdue_at,
                  planned_end_at=overdue_at, due_at=overdue_at, grace_seconds=0, overdue_at=overdue_at)
    session.add(visit)
    session.flush()
    return visit.id


def test_with_mail_and_sms_hung_safety_pushes_still_leave_on_time(app, engine, database_url, personas):
    """Every safety message also goes by email and SMS. Both providers hang (connections accepted,
    never answered); the pushes of missed check-ins, their escalation and a Crisis alarm must still
    reach the push service within their usual latency while those sends are stuck."""
    settings = app.extensions["fieldline.settings"]
    key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
    team_id, worker_id = personas["worker"].team_id, personas["worker"].id
    with PushReceiver(application_server_key=key) as receiver, HangingServer() as mail, SmsGateway() as gateway:
        gateway.statuses = ["hang"] * 1000
        with unit_of_work(engine) as session:
            session.get(Team, team_id).escalation_seconds = 3  # shorter than any UI allows, to see level 2
            push_subscriptions.register(session, session.get(User, personas["supervisor"].id),
                                        receiver.subscription("supervisor"), rule=LOCAL_PUSH, user_agent=None,
                                        now=utcnow())
            # Already overdue: its email and SMS hang the providers before the measured deadlines.
            _missed_visit(session, worker_id, team_id, utcnow())
        process = _worker(settings, database_url, SMTP_URL=mail.url, SMS_GATEWAY_URL=gateway.url + "/send",
                          FIELDLINE_TICK_SECONDS="1", FIELDLINE_DELIVERY_LEASE_SECONDS="60",
                          FIELDLINE_SMTP_TIMEOUT="30", FIELDLINE_SMS_TIMEOUT="30")  # hung for the whole test
        try:
            assert _wait_for(lambda: gateway.hung.is_set() and mail.connections, 60), "the providers were never tried"
            start = utcnow() + timedelta(seconds=2)
            deadlines = [start + timedelta(seconds=0.6 * n) for n in range(5)]
            with unit_of_work(engine) as session:
                visits = [_missed_visit(session, worker_id, team_id, moment) for moment in deadlines]
            time.sleep(max(0.0, (deadlines[-1] - utcnow()).total_seconds()) + 0.5)
            with unit_of_work(engine) as session:
                worker2 = session.get(User, personas["worker2"].id)
                crisis = safety.crisis_alarm(session, worker2, session.get(Team, team_id), now=utcnow())
                crisis_at, crisis_ref = crisis.raised_at, f"alert:{crisis.id}:level:3:0"

            def pushed(ref):
                return next((m for m in receiver.messages if m.payload["ref"] == ref), None)

            with unit_of_work(engine) as session:
                raised = {a.visit_id: a for a in session.exec(select(Alert).where(Alert.visit_id.in_(visits))).all()}
            assert _wait_for(lambda: pushed(crisis_ref) is not None and len(raised) == 5, 20), process
            level_two = {visit: f"alert:{raised[visit].id}:level:2:0" for visit in visits}
            assert _wait_for(lambda: all(pushed(ref) for ref in level_two.values()), 20)
            with unit_of_work(engine) as session:
                stuck = session.exec(select(Delivery).where(Delivery.channel != "push")).all()
            still_hung = bool(mail.connections) and gateway.hung.is_set()
        finally:
            process.terminate()
            try:
                stopped = process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                stopped = None
    lateness = [pushed(f"alert:{raised[visit].id}:level:1:0").received_at - moment.timestamp()
                for visit, moment in zip(visits, deadlines)]
    escalated = [pushed(level_two[visit]).received_at - (raised[visit].raised_at.timestamp() + 3) for visit in visits]
    crisis_late = pushed(crisis_ref).received_at - crisis_at.timestamp()
    assert still_hung and stuck and not any(row.status == "sent" for row in stuck)  # nothing got through those
    # Usually 0.1-0.3 s on a busy machine (tens of milliseconds on a quiet one); before the lanes,
    # each waited for the hung sends (15 s and more).
    assert max(lateness) < 2.0, lateness
    assert max(escalated) < 2.0, escalated
    assert crisis_late < 2.5, crisis_late  # raised by a request: the loop sees it within its 1 s tick
    assert stopped == 0  # and a hung provider does not keep the worker from stopping


def _queue_text_to(engine, persona, ref="alert:9:level:1:0"):
    with unit_of_work(engine) as session:
        delivery_service.enqueue(session, Message(kind="safety", event_ref=ref, title="Safety alert",
                                                  body="Open Fieldline", url="/alerts/9", topic="alert-9"),
                                 session.get(User, persona.id), now=utcnow())


def _sms_row(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(Delivery).where(Delivery.channel == "sms")).one()


def test_a_text_whose_answer_never_came_is_sent_again_under_the_same_key_and_reaches_the_phone_once(
        app, engine, database_url, personas):
    """The gateway took the text and the worker died before its answer came (kill -9): the next
    worker sends it again, with the same Idempotency-Key, and the gateway de-duplicates it."""
    settings = app.extensions["fieldline.settings"]
    with SmsGateway() as gateway:
        gateway.statuses = ["hang"]
        _queue_text_to(engine, personas["worker"])
        env = {"SMS_GATEWAY_URL": gateway.url + "/send", "SMTP_URL": ""}
        first = _worker(settings, database_url, **env)
        try:
            assert gateway.hung.wait(30), "the first worker never sent"
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        second = _worker(settings, database_url, **env)
        try:
            assert _wait_for(lambda: _sms_row(engine).status == "sent"), second.stdout
        finally:
            second.terminate()
            second.wait(20)
        requests, texts = list(gateway.requests), list(gateway.texts)
    keys = [request["idempotency_key"] for request in requests]
    assert len(requests) == 2 and keys[0] and keys[0] == keys[1]  # sent twice, the same reference both times
    assert all(request["json"]["reference"] == keys[0] for request in requests)
    assert keys[0].startswith("fl-") and "alert" not in keys[0]  # opaque
    assert len(texts) == 1  # and the phone got one text
    row = _sms_row(engine)
    assert row.attempts == 2 and row.sent_at is not None


def test_a_timed_out_text_is_retried_under_the_same_key(app, engine, personas):
    from tests.test_notifications import make_job

    settings = app.extensions["fieldline.settings"]
    with SmsGateway() as gateway:
        gateway.statuses = ["hang"]
        _queue_text_to(engine, personas["worker"])
        job = make_job(settings, sms_gateway_url=gateway.url, sms_timeout=0.5, smtp_url=None)
        job(engine, utcnow())
        row = _sms_row(engine)
        assert row.status == "pending" and "did not answer in time" in row.last_error
        with unit_of_work(engine) as session:
            session.get(Delivery, row.id).next_attempt_at = utcnow()
        job(engine, utcnow())
        assert _sms_row(engine).status == "sent"
        assert len(gateway.requests) == 2 and len(gateway.texts) == 1
        assert gateway.requests[0]["idempotency_key"] == gateway.requests[1]["idempotency_key"]


def test_a_text_that_waited_past_its_lease_is_sent_by_one_worker_only(app, engine, personas):
    """A slow gateway (0.7 s a text, one sending thread) and a 2 s lease: the texts queued behind the
    first outlive their lease while a second worker watches. Each is still sent exactly once: a
    lane renews a lease just before sending, and skips a row another worker has taken meanwhile."""
    from tests.test_notifications import make_job

    settings = app.extensions["fieldline.settings"]
    with SmsGateway() as gateway:
        gateway.delay = 0.7
        for n in range(8):
            _queue_text_to(engine, personas["worker"], ref=f"alert:{n}:level:1:0")
        jobs = [make_job(settings, owner=owner, lease=2, threads=1, sms_gateway_url=gateway.url, smtp_url=None).job
                for owner in ("first", "second")]
        jobs[0](engine, utcnow())  # claims them all (room for four a thread), sends them one by one
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(row.status == "sent" for row in _sms_rows(engine)):
            jobs[1](engine, utcnow())  # takes whatever lease has run out
            time.sleep(0.1)
        for job in jobs:
            assert job.drain(30)
        references = [request["idempotency_key"] for request in gateway.requests]
    assert all(row.status == "sent" for row in _sms_rows(engine))
    assert len(references) == 8 and len(set(references)) == 8  # no text was sent twice, even to be de-duplicated


def _sms_rows(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(Delivery).where(Delivery.channel == "sms")).all()
