"""Who may see and stop an alarm: the rule as a table, then every alert route over real HTTP."""
from datetime import timedelta

import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Delivery, Team, User, Visit
from app.models.types import utcnow
from app.services import escalation, safety
from app.services.alert_access import may_see
from tests.conftest import _signed_in
from tests.test_crisis import alarm, alerts
from tests.test_notifications import bare_app, receiver, settings, subscribe  # noqa: F401 (fixtures)
from tests.test_safety_web import running, start_visit

WORKER, BUDDY, COLLEAGUE, SUPERVISOR, OUTSIDER, OTHER_SUPERVISOR, ADMIN = 1, 2, 3, 4, 5, 6, 7
ROLES = {WORKER: ("worker", 10), BUDDY: ("worker", 10), COLLEAGUE: ("worker", 10), SUPERVISOR: ("supervisor", 10),
         OUTSIDER: ("worker", 20), OTHER_SUPERVISOR: ("supervisor", 20), ADMIN: ("admin", None)}


@pytest.mark.parametrize("kind,viewer,recipients,allowed", [
    # A Crisis alarm or missed check-in: its recipients and the team's supervisors.
    ("panic", SUPERVISOR, set(), True),
    ("panic", BUDDY, {BUDDY, SUPERVISOR}, True),
    ("panic", COLLEAGUE, {BUDDY, SUPERVISOR}, False),
    ("missed_check_in", BUDDY, {BUDDY}, True),
    ("missed_check_in", COLLEAGUE, {BUDDY}, False),
    # Never the worker it is about (their duress alarm must stay silent), even as a "recipient".
    ("panic", WORKER, {WORKER}, False),
    ("duress", WORKER, {WORKER}, False),
    # A silent alarm: the team's supervisors; a colleague only as its recipient, which it has only
    # when the team has no active supervisor.
    ("duress", SUPERVISOR, set(), True),
    ("duress", BUDDY, set(), False),
    ("duress", BUDDY, {BUDDY}, True),
    ("duress", COLLEAGUE, set(), False),
    # Nobody from another team, nor an admin without a team, whatever they were sent.
    ("panic", OUTSIDER, {OUTSIDER}, False),
    ("panic", OTHER_SUPERVISOR, set(), False),
    ("panic", ADMIN, {ADMIN}, False),
])
def test_who_may_see_an_alert(kind, viewer, recipients, allowed):
    role, team_id = ROLES[viewer]
    alert = Alert(id=1, team_id=10, worker_id=WORKER, kind=kind)
    assert may_see(User(id=viewer, role=role, team_id=team_id), alert, recipients) is allowed


def _paths(alert_id):
    return [("get", f"/alerts/{alert_id}", None), ("post", f"/alerts/{alert_id}/acknowledge", {}),
            ("post", f"/alerts/{alert_id}/resolve", {"outcome": "false_alarm"})]


def _answers(client, alert_id):
    return [(client.get(path) if method == "get" else client.post_form(path, data, page="/")).status_code
            for method, path, data in _paths(alert_id)]


def test_a_colleague_cannot_open_acknowledge_or_resolve_a_crisis_alarm(app, worker_client, engine, personas):
    start_visit(worker_client, sealed_notes="Door code 4471")
    alarm(worker_client)
    [alert] = alerts(engine)
    colleague = _signed_in(app, personas["worker2"])
    assert _answers(colleague, alert.id) == [404, 404, 404]
    with unit_of_work(engine) as session:
        found = session.get(Alert, alert.id)
        pending = session.exec(select(Delivery).where(Delivery.event_ref.like(f"alert:{alert.id}:level:%"),
                                                      Delivery.status == "pending")).all()
    assert found.state == "open" and found.acknowledged_by_id is None  # the alarms were not cancelled
    assert pending


def test_the_buddy_gets_and_may_stop_a_crisis_alarm_but_never_sees_a_duress_one(app, worker_client, engine,
                                                                                  personas):
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        worker.buddy_id = personas["worker2"].id
        safety.set_pins(worker, pin="1234", duress_pin="9876")
    buddy = _signed_in(app, personas["worker2"])
    start_visit(worker_client, sealed_notes="Door code 4471")
    visit = running(engine, personas["worker"])
    worker_client.post_form(f"/visits/{visit.id}/check-in", {"pin": "9876"}, page="/")
    alarm(worker_client)
    by_kind = {a.kind: a for a in alerts(engine)}
    duress, crisis = by_kind["duress"], by_kind["panic"]
    with unit_of_work(engine) as session:
        sent_to = {kind: {d.recipient_id for d in session.exec(select(Delivery).where(
            Delivery.event_ref.like(f"alert:{a.id}:%"))).all()} for kind, a in by_kind.items()}
    assert sent_to["duress"] == {personas["supervisor"].id}  # a silent alarm reaches no colleague
    assert sent_to["panic"] == {personas["worker2"].id, personas["supervisor"].id}
    page = buddy.get(f"/alerts/{crisis.id}")
    assert page.status_code == 200 and "Door code 4471" in page.get_data(as_text=True)
    assert "duress" not in page.get_data(as_text=True).lower()  # not even on the visit's timeline
    assert _answers(buddy, duress.id) == [404, 404, 404]
    assert buddy.post_form(f"/alerts/{crisis.id}/acknowledge", {}, page="/").status_code == 303
    supervisor = _signed_in(app, personas["supervisor"])
    assert supervisor.get(f"/alerts/{duress.id}").status_code == 200
    assert "Silent alarm (duress PIN), level 3 of 3" in supervisor.get(f"/alerts/{crisis.id}").get_data(as_text=True)
    assert f"/alerts/{duress.id}" in supervisor.get("/board").get_data(as_text=True)


def test_a_missed_check_in_is_open_to_whoever_the_ladder_reached(app, worker_client, engine, personas):
    """No buddy: level 1 goes to every supervisor; a colleague is no recipient."""
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    with unit_of_work(engine) as session:
        session.get(Visit, visit.id).overdue_at = utcnow() - timedelta(seconds=1)
    escalation.detect(engine, utcnow())
    [alert] = alerts(engine)
    assert _answers(_signed_in(app, personas["worker2"]), alert.id) == [404, 404, 404]
    assert _signed_in(app, personas["supervisor"]).get(f"/alerts/{alert.id}").status_code == 200


def test_a_silent_alarm_in_a_team_with_no_active_supervisor_still_reaches_the_buddy(app, worker_client, engine,
                                                                                      personas):
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        worker.buddy_id = personas["worker2"].id
        safety.set_pins(worker, pin="1234", duress_pin="9876")
        session.get(User, personas["supervisor"].id).active = False
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    worker_client.post_form(f"/visits/{visit.id}/check-in", {"pin": "9876"}, page="/")
    (duress,) = [a for a in alerts(engine) if a.kind == "duress"]
    with unit_of_work(engine) as session:
        sent_to = {d.recipient_id for d in session.exec(select(Delivery).where(
            Delivery.event_ref.like(f"alert:{duress.id}:%"))).all()}
    assert sent_to == {personas["worker2"].id}
    buddy = _signed_in(app, personas["worker2"])
    assert _answers(buddy, duress.id) == [200, 303, 303]
    colleague_page = worker_client.get(f"/alerts/{duress.id}")
    assert colleague_page.status_code == 404  # never the worker it is about



def test_a_silent_alarm_no_supervisor_can_be_sent_goes_to_the_ladder(bare_app, engine, personas, receiver):
    """The supervisor is active but has no phone, and neither email nor SMS is set up: a duress alarm
    would reach nobody, so the buddy (who has alerts on a phone) gets it, and may open it."""
    bare = bare_app.extensions["fieldline.engine"]
    subscribe(engine, personas["worker2"], receiver.subscription("buddy"))
    with unit_of_work(bare) as session:
        worker = session.get(User, personas["worker"].id)
        worker.buddy_id = personas["worker2"].id
        duress = safety.raise_alert(session, kind="duress", worker=worker, team=session.get(Team, worker.team_id),
                                    now=utcnow())
        duress_id = duress.id
    with unit_of_work(engine) as session:
        sent_to = {d.recipient_id for d in session.exec(select(Delivery).where(
            Delivery.event_ref.like(f"alert:{duress_id}:%"))).all()}
    assert sent_to == {personas["worker2"].id}
    buddy = _signed_in(bare_app, personas["worker2"])
    assert buddy.get(f"/alerts/{duress_id}").status_code == 200
