"""A run of wrong PINs on a visit pauses PIN entry and raises a silent alarm; duress still works."""
from datetime import timedelta

import pytest
from sqlmodel import select

from app import create_app
from app.db import unit_of_work
from app.models import Alert, Delivery, SafetyEvent, User, Visit
from app.models.types import utcnow
from app.services import safety_rules as rules
from tests.conftest import _signed_in, app_config
from tests.helpers import FieldlineClient
from tests.test_safety_web import running, start_visit

JSON = {"Accept": "application/json"}


@pytest.mark.parametrize("failures,pause", [
    (0, None), (1, None), (4, None), (5, timedelta(minutes=5)), (6, None), (9, None),
    (10, timedelta(minutes=10)), (15, timedelta(minutes=20)), (25, timedelta(minutes=60)), (5000, timedelta(minutes=60)),
])
def test_every_fifth_wrong_pin_in_a_row_pauses_entry_for_longer(failures, pause):
    assert rules.pin_pause_after(failures) == pause


def _pin(client, visit_id, pin, action="check-in"):
    response = client.post_form(f"/visits/{visit_id}/{action}", {"pin": pin}, page="/", headers=JSON)
    return response.status_code, response.get_json()


def _alerts(engine, kind):
    with unit_of_work(engine) as session:
        return session.exec(select(Alert).where(Alert.kind == kind)).all()


@pytest.fixture
def second_app(database_url, tmp_path, app):
    """Another web process on the same database (its own engine, pool and memory)."""
    other = create_app(app_config(database_url, app.instance_path))
    other.test_client_class = FieldlineClient
    yield other
    other.extensions["fieldline.engine"].dispose()


def test_five_wrong_pins_pause_entry_across_processes_and_alert_supervisors_silently(app, second_app, engine,
                                                                                     worker_client, personas):
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        worker.buddy_id = personas["worker2"].id
        from app.services import safety
        safety.set_pins(worker, pin="1234", duress_pin="9876")
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    phones = [worker_client, _signed_in(second_app, personas["worker"])]
    answers = [_pin(phones[n % 2], visit.id, f"{1000 + n}") for n in range(4)]
    assert answers == [(422, {"errors": {"pin": "That PIN isn't right. Try again."}})] * 4
    assert _alerts(engine, "wrong_pins") == []
    paused = _pin(phones[0], visit.id, "0000")
    assert paused == (422, {"errors": {"pin": "Too many wrong PINs. Try again in 5 min."}})
    [alert] = _alerts(engine, "wrong_pins")
    assert alert.level == rules.TOP_LEVEL and alert.visit_id == visit.id
    with unit_of_work(engine) as session:
        sent_to = {d.recipient_id for d in session.exec(select(Delivery)).all()}
    assert sent_to == {personas["supervisor"].id}  # silent: not the worker's phone, not even the buddy

    # While paused, the right PIN gets the very same answer, on either process, and checks nobody in;
    # the duress PIN gets it too, and still raises its alarm.
    assert _pin(phones[1], visit.id, "1234") == paused
    assert _pin(phones[0], visit.id, "1234", action="end") == paused
    assert _pin(phones[1], visit.id, "9876") == paused
    [duress] = _alerts(engine, "duress")
    assert duress.visit_id == visit.id and duress.level == rules.TOP_LEVEL
    still = running(engine, personas["worker"])
    assert still.last_check_in_at is None and still.state == "active"
    page = worker_client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "Silent alarm" not in page and "PIN entry paused" not in page  # nothing shows on the phone

    # After the pause the real worker's PIN works again; the supervisors hear of it.
    with unit_of_work(engine) as session:
        session.get(Visit, visit.id).pin_paused_until = utcnow() - timedelta(seconds=1)
    assert phones[1].post_form(f"/visits/{visit.id}/check-in", {"pin": "1234"}, page="/").status_code == 303
    with unit_of_work(engine) as session:
        checked = session.get(Visit, visit.id)
        told = session.exec(select(Delivery).where(Delivery.event_ref.like(f"alert:{alert.id}:pin-ok:%"))).all()
        timeline = [e.kind for e in session.exec(select(SafetyEvent).where(SafetyEvent.visit_id == visit.id)
                                                 .order_by(SafetyEvent.id)).all()]
    assert checked.last_check_in_at is not None and checked.pin_failures == 0
    assert {d.recipient_id for d in told} == {personas["supervisor"].id}
    assert "pin_paused" in timeline and timeline[-1] == "checked_in"
    supervisor = _signed_in(app, personas["supervisor"])
    alert_page = supervisor.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "Silent alarm (repeated wrong PINs)" in alert_page and "PIN entry paused" in alert_page
    assert _signed_in(app, personas["worker2"]).get(f"/alerts/{alert.id}").status_code == 404


def test_the_next_run_of_wrong_pins_pauses_longer_on_the_same_alarm(worker_client, engine, personas):
    with unit_of_work(engine) as session:
        from app.services import safety
        safety.set_pins(session.get(User, personas["worker"].id), pin="1234", duress_pin=None)
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    for n in range(5):
        _pin(worker_client, visit.id, f"{2000 + n}")
    with unit_of_work(engine) as session:
        session.get(Visit, visit.id).pin_paused_until = utcnow() - timedelta(seconds=1)
    answers = [_pin(worker_client, visit.id, f"{3000 + n}")[1]["errors"]["pin"] for n in range(5)]
    assert answers[-1] == "Too many wrong PINs. Try again in 10 min."
    assert len(_alerts(engine, "wrong_pins")) == 1  # one alarm, a second pause on its timeline
