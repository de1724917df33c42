"""The safety engine with a real database, a real worker loop, SMTP server and push receiver."""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Delivery, SafetyEvent, Team, User, Visit
from app.models.types import utcnow
from app.services import ValidationError, escalation, push_subscriptions, safety, vapid
from app.worker import Worker
from tests.peers import LOCAL_PUSH, PushReceiver, smtp_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def receiver(app):
    settings = app.extensions["fieldline.settings"]
    key = vapid.application_server_key(vapid.load_or_create(None, settings.instance_path))
    with PushReceiver(application_server_key=key) as peer:
        yield peer


def set_team(engine, team_id, **values):
    with unit_of_work(engine) as session:
        team = session.get(Team, team_id)
        for name, value in values.items():
            setattr(team, name, value)


def start(engine, persona, *, minutes=30, ago=timedelta(0), **extra):
    with unit_of_work(engine) as session:
        worker = session.get(User, persona.id)
        team = session.get(Team, worker.team_id)
        request = safety.VisitRequest(place="14 Example Road", minutes=minutes, sealed_notes="Two men, red van",
                                      latitude=51.5, longitude=-0.12, **extra)
        return safety.start_visit(session, worker, team, request, now=utcnow() - ago).id


def do(engine, persona, action, visit_id, now=None, **kwargs):
    with unit_of_work(engine) as session:
        worker = session.get(User, persona.id)
        team = session.get(Team, worker.team_id)
        visit = safety.own_visit(session, worker, visit_id)
        return action(session, worker, team, visit, now=now or utcnow(), **kwargs)


def alerts(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(Alert).order_by(Alert.id)).all()


def events(engine, **where):
    with unit_of_work(engine) as session:
        query = select(SafetyEvent).order_by(SafetyEvent.id)
        for name, value in where.items():
            query = query.where(getattr(SafetyEvent, name) == value)
        return [e.kind for e in session.exec(query).all()]


def wait_for(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_check_in_before_the_grace_deadline_keeps_the_visit_running(engine, personas):
    visit_id = start(engine, personas["worker"], minutes=30)
    with unit_of_work(engine) as session:
        overdue_at = session.get(Visit, visit_id).overdue_at
    do(engine, personas["worker"], safety.check_in, visit_id, now=overdue_at - timedelta(milliseconds=1), pin=None)
    assert alerts(engine) == []
    assert escalation.detect(engine, overdue_at) == 0  # the deadline moved on
    assert events(engine, visit_id=visit_id) == ["started", "checked_in"]


@pytest.mark.parametrize("late_by", [timedelta(0), timedelta(milliseconds=1)])
def test_check_in_at_or_after_the_grace_deadline_raises_the_alert_and_is_recorded_late(engine, personas, late_by):
    visit_id = start(engine, personas["worker"], minutes=30)
    with unit_of_work(engine) as session:
        overdue_at = session.get(Visit, visit_id).overdue_at
    do(engine, personas["worker"], safety.check_in, visit_id, now=overdue_at + late_by, pin=None)
    [alert] = alerts(engine)
    assert alert.kind == "missed_check_in" and alert.state == "open"
    assert events(engine, visit_id=visit_id) == ["started", "overdue", "alert_raised", "late_check_in"]
    assert escalation.detect(engine, overdue_at + late_by) == 0  # and nobody raises it twice


def test_late_check_in_after_the_engine_raised_the_alert_does_not_resolve_it(engine, personas):
    visit_id = start(engine, personas["worker"], minutes=30, ago=timedelta(minutes=40))
    assert escalation.detect(engine, utcnow()) == 1
    do(engine, personas["worker"], safety.check_in, visit_id, pin=None)
    [alert] = alerts(engine)
    assert alert.state == "open"
    assert events(engine, alert_id=alert.id)[-1] == "late_check_in"
    with pytest.raises(ValidationError):  # extending no longer makes sense
        do(engine, personas["worker"], safety.extend, visit_id, minutes=15)
    do(engine, personas["worker"], safety.end_visit, visit_id, pin=None)
    assert alerts(engine)[0].state == "open"  # still for a responder to resolve


def test_duress_pin_checks_in_exactly_like_a_normal_pin_and_raises_a_silent_top_level_alert(engine, personas):
    with unit_of_work(engine) as session:
        safety.set_pins(session.get(User, personas["worker"].id), pin="1234", duress_pin="9876")
    normal_id = start(engine, personas["worker"], minutes=120, every_minutes=30)
    do(engine, personas["worker"], safety.check_in, normal_id, pin="1234")
    with unit_of_work(engine) as session:
        normal = session.get(Visit, normal_id)
        normal_state = (normal.state, normal.due_at - normal.last_check_in_at)
    assert normal_state == ("active", timedelta(minutes=30))
    assert alerts(engine) == []
    do(engine, personas["worker"], safety.check_in, normal_id, pin="9876")
    with unit_of_work(engine) as session:
        visit = session.get(Visit, normal_id)
        assert (visit.state, visit.due_at - visit.last_check_in_at) == normal_state
        worker_deliveries = session.exec(select(Delivery).where(Delivery.recipient_id == personas["worker"].id)).all()
    [alert] = alerts(engine)
    assert alert.kind == "duress" and alert.level == 3
    assert worker_deliveries == []  # silent: nothing goes to the worker's own phone
    with pytest.raises(ValidationError):
        do(engine, personas["worker"], safety.check_in, normal_id, pin="0000")


def test_pin_rules(engine, personas):
    with unit_of_work(engine) as session:
        user = session.get(User, personas["worker"].id)
        with pytest.raises(ValidationError) as same:
            safety.set_pins(user, pin="1234", duress_pin="1234")
        assert "different" in same.value.errors["duress_pin"]
        with pytest.raises(ValidationError):
            safety.set_pins(user, pin="12a4", duress_pin=None)
    set_team(engine, personas["worker"].team_id, pin_policy="required")
    with pytest.raises(ValidationError) as refused:
        start(engine, personas["worker"])
    assert "requires a PIN" in refused.value.errors[""]


def test_pins_hashed_with_the_old_slow_settings_still_match_and_are_stored_again_with_the_current_ones(engine, personas):
    from argon2 import PasswordHasher

    old_settings = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)  # argon2-cffi's default
    with unit_of_work(engine) as session:
        user = session.get(User, personas["worker"].id)
        user.pin_hash, user.duress_pin_hash = old_settings.hash("1234"), old_settings.hash("9876")
        team = session.get(Team, user.team_id)
        assert safety.classify_pin(user, team, "1234") == "normal"
        assert safety.classify_pin(user, team, "9876") == "duress"
        with pytest.raises(ValidationError):
            safety.classify_pin(user, team, "5555")
    with unit_of_work(engine) as session:
        user = session.get(User, personas["worker"].id)
        for stored in (user.pin_hash, user.duress_pin_hash):
            assert stored.startswith("$argon2id$") and not safety._pins.check_needs_rehash(stored)
            assert "m=65536" not in stored
        assert safety.classify_pin(user, session.get(Team, user.team_id), "1234") == "normal"


def test_start_visit_validates_and_allows_one_running_visit(engine, personas):
    with pytest.raises(ValidationError) as bad:
        with unit_of_work(engine) as session:
            worker = session.get(User, personas["worker"].id)
            safety.start_visit(session, worker, session.get(Team, worker.team_id),
                               safety.VisitRequest(place=" ", minutes=999), now=utcnow())
    assert set(bad.value.errors) == {"place", "minutes"}
    start(engine, personas["worker"])
    with pytest.raises(ValidationError) as twice:
        start(engine, personas["worker"])
    assert "already have a visit running" in twice.value.errors[""]


def test_extend_respects_the_teams_longest_visit(engine, personas):
    set_team(engine, personas["worker"].team_id, max_visit_minutes=60)
    visit_id = start(engine, personas["worker"], minutes=45)
    with pytest.raises(ValidationError):
        do(engine, personas["worker"], safety.extend, visit_id, minutes=30)
    do(engine, personas["worker"], safety.extend, visit_id, minutes=15)
    assert events(engine, visit_id=visit_id) == ["started", "extended"]


def test_ladder_with_a_real_worker_loop_smtp_and_push_until_acknowledged(app, engine, personas, receiver):
    settings = app.extensions["fieldline.settings"]
    team_id = personas["worker"].team_id
    set_team(engine, team_id, escalation_seconds=1, duty_supervisor_id=personas["supervisor"].id)
    with unit_of_work(engine) as session:
        for key in ("worker", "supervisor", "worker2"):
            push_subscriptions.register(session, session.get(User, personas[key].id), receiver.subscription(key),
                                        rule=LOCAL_PUSH, user_agent=None, now=utcnow())
        session.get(User, personas["worker2"].id).role = "supervisor"  # a second supervisor for level 2
    visit_id = start(engine, personas["worker"], minutes=30, ago=timedelta(minutes=40))
    with smtp_server() as mailbox:
        settings_for_loop = settings.__class__(**{**settings.__dict__, "smtp_url": mailbox.url, "tick_seconds": 0.2})
        worker = Worker.for_settings(engine, settings_for_loop)
        stop = threading.Event()
        loop = threading.Thread(target=worker.run, args=(stop,))
        loop.start()
        try:
            assert wait_for(lambda: any(a.level == 3 and a.repeats >= 1 for a in alerts(engine))), alerts(engine)
            titles = {(m.path, m.payload["title"]) for m in receiver.messages}
            assert ("/push/worker", "Are you OK? Check in now") in titles
            assert ("/push/supervisor", "Safety alert — a check-in was missed") in titles  # level 1: duty supervisor
            assert ("/push/worker2", "Safety alert — escalated") in titles  # level 2: every supervisor
            assert ("/push/worker2", "EMERGENCY — nobody has responded") in titles  # level 3, repeated
            assert not any(path == "/push/worker2" and "missed" in title for path, title in titles)
            assert wait_for(lambda: any(m["Subject"] == "Fieldline: EMERGENCY — nobody has responded"
                                        for _, m in mailbox.messages))
            with unit_of_work(engine) as session:
                alert = session.exec(select(Alert)).one()
                safety.acknowledge(session, alert, session.get(User, personas["supervisor"].id), now=utcnow())
            acked_at = utcnow()
            time.sleep(2.5)  # more than two escalation periods
        finally:
            stop.set()
            loop.join(10)
    [alert] = alerts(engine)
    assert alert.state == "acknowledged"
    with unit_of_work(engine) as session:
        after = session.exec(select(SafetyEvent).where(SafetyEvent.kind == "escalated", SafetyEvent.at > acked_at)).all()
        pending = session.exec(select(Delivery).where(Delivery.status == "pending",
                                                      Delivery.event_ref.like("alert:%:level:%"))).all()
    assert after == [] and pending == []
    told = {(m.path, m.payload["title"]) for m in receiver.messages}
    assert ("/push/worker", "Help is on the way") in told
    assert ("/push/worker2", "Safety alert — someone is responding") in told  # what happened, never who
    kinds = events(engine, alert_id=alert.id)
    assert kinds[:3] == ["alert_raised", "escalated", "escalated"] and kinds[-1] == "acknowledged"
    assert events(engine, visit_id=visit_id)[:3] == ["started", "overdue", "alert_raised"]


def test_resolve_needs_an_outcome_and_a_note_for_incidents(engine, personas):
    start(engine, personas["worker"], ago=timedelta(minutes=40))
    escalation.detect(engine, utcnow())
    with unit_of_work(engine) as session:
        alert = session.exec(select(Alert)).one()
        supervisor = session.get(User, personas["supervisor"].id)
        with pytest.raises(ValidationError):
            safety.resolve(session, alert, supervisor, outcome="incident", note="", now=utcnow())
        safety.resolve(session, alert, supervisor, outcome="false_alarm", note="", now=utcnow())
    [alert] = alerts(engine)
    assert alert.state == "resolved" and alert.outcome == "false_alarm"
    assert escalation.escalate_due(engine, utcnow() + timedelta(hours=1)) == 0


def test_reminder_before_the_deadline_is_pushed_once(engine, personas, receiver, app):
    with unit_of_work(engine) as session:
        push_subscriptions.register(session, session.get(User, personas["worker"].id), receiver.subscription(),
                                    rule=LOCAL_PUSH, user_agent=None, now=utcnow())
    visit_id = start(engine, personas["worker"], minutes=30)
    with unit_of_work(engine) as session:
        remind_at = session.get(Visit, visit_id).remind_at
    assert escalation.remind(engine, remind_at - timedelta(seconds=1)) == 0
    assert escalation.remind(engine, remind_at) == 1
    assert escalation.remind(engine, remind_at + timedelta(seconds=1)) == 0
    with unit_of_work(engine) as session:
        [row] = session.exec(select(Delivery)).all()
    assert row.title == "Check in due in 5 min" and row.kind == "visit"


def _worker_process(app, database_url, **env):
    settings = app.extensions["fieldline.settings"]
    environment = {**os.environ, "DATABASE_URL": database_url, "FIELDLINE_INSTANCE": str(settings.instance_path),
                   "FIELDLINE_TICK_SECONDS": "0.2", **env}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=environment, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_worker_processes_raise_each_alert_exactly_once(app, engine, database_url, personas):
    with unit_of_work(engine) as session:
        team = session.get(Team, personas["worker"].team_id)
        workers = [session.get(User, personas[k].id) for k in ("worker", "worker2")]
        now = utcnow()
        for n in range(300):
            worker = workers[n % 2]
            session.add(Visit(worker_id=worker.id, team_id=team.id, place=f"Place {n}", started_at=now,
                              planned_end_at=now, due_at=now, grace_seconds=60,
                              overdue_at=now + timedelta(milliseconds=300 + n * 5)))
    processes = [_worker_process(app, database_url) for _ in range(2)]
    try:
        assert wait_for(lambda: len(alerts(engine)) >= 300, 60)
        time.sleep(1)
    finally:
        for process in processes:
            process.terminate()
        outputs = [process.communicate(timeout=20)[0] for process in processes]
    per_visit = Counter(alert.visit_id for alert in alerts(engine))
    assert len(per_visit) == 300 and set(per_visit.values()) == {1}, outputs
    with unit_of_work(engine) as session:
        assert set(session.exec(select(Visit.state)).all()) == {"overdue"}


def test_worker_killed_after_claiming_a_missed_visit_loses_nothing(app, engine, database_url, personas, receiver):
    with unit_of_work(engine) as session:
        push_subscriptions.register(session, session.get(User, personas["supervisor"].id),
                                    receiver.subscription("supervisor"), rule=LOCAL_PUSH, user_agent=None, now=utcnow())
    receiver.answer("supervisor", "hang")  # the first send of the alert never completes
    visit_id = start(engine, personas["worker"], ago=timedelta(minutes=40))
    with smtp_server() as mailbox:
        env = {"FIELDLINE_DELIVERY_LEASE_SECONDS": "2", "FIELDLINE_PUSH_TIMEOUT": "30", "SMTP_URL": mailbox.url}
        first = _worker_process(app, database_url, **env)
        try:
            assert receiver.hung.wait(30), "the first worker never claimed the visit"

            def others_recorded():  # the kill lands while the push is in flight, after the rest
                with unit_of_work(engine) as session:
                    return not session.exec(select(Delivery).where(Delivery.status == "sending",
                                                                   Delivery.channel != "push")).all()
            assert wait_for(others_recorded, 10)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        [alert] = alerts(engine)  # claimed and committed with its deliveries before the kill
        second = _worker_process(app, database_url, **env)
        try:
            def all_sent():
                with unit_of_work(engine) as session:
                    rows = session.exec(select(Delivery).where(Delivery.event_ref == f"alert:{alert.id}:level:1:0")).all()
                return rows and all(row.status in ("sent", "failed") for row in rows)
            assert wait_for(all_sent, 30)
            accepted = [m.path for m in receiver.messages if m.payload["ref"] == f"alert:{alert.id}:level:1:0"]
            emails = [m for to, m in mailbox.messages if m["Subject"] == "Fieldline: Safety alert — a check-in was missed"]
        finally:
            second.terminate()
            second.wait(10)
    assert accepted == ["/push/supervisor"]  # delivered once, after the lease ran out
    assert len(emails) == 1
    assert len(alerts(engine)) == 1 and events(engine, visit_id=visit_id).count("alert_raised") == 1
