"""One form, one outbox item, one key, one record: however many times Save is tapped."""
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlmodel import select

from app.db import unit_of_work
from app.models import Appointment, AuditEvent, Contact, SafetyEvent, Team, User
from app.models.types import utcnow
from app.services import appointments, safety
from tests.e2e.conftest import sign_in
from tests.e2e.test_caseload import _person
from tests.e2e.test_offline import outbox, wait_until


def _send_everything_now(page):
    """What a flush does once the browser's own send is past its grace: send what is left."""
    page.evaluate("""async () => {
        for (const item of await FieldlineOutbox.all()) await FieldlineOutbox.update(item.key, {state: "waiting"});
        await FieldlineOutbox.flush();
    }""")


def test_a_double_tap_on_save_makes_one_contact_and_leaves_nothing_to_resend(phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/contacts/new?person={person_id}")
    page.get_by_label("Notes").fill("Talked on the landing.")
    page.get_by_role("button", name="Save contact").dblclick()
    expect(page).to_have_url(re.compile(f"/people/{person_id}"))
    page.wait_for_load_state("load")
    wait_until(page, lambda: not [i for i in outbox(page) if i["state"] != "attention"], message="outbox drained")
    _send_everything_now(page)

    with unit_of_work(engine) as session:
        contacts = session.exec(select(Contact).where(Contact.person_id == person_id)).all()
    assert len(contacts) == 1
    assert outbox(page) == []
    assert page.get_by_text("All sent").is_visible()


def _events(engine, kind) -> int:
    with unit_of_work(engine) as session:
        return len(session.exec(select(SafetyEvent).where(SafetyEvent.kind == kind)).all())


def test_double_taps_on_the_safety_forms_each_count_once(phone, live_server, personas, engine):
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        safety.start_visit(session, worker, session.get(Team, worker.team_id),
                           safety.VisitRequest(place="Flat 3", minutes=30), now=utcnow())
        session.commit()
    page.goto(live_server.url + "/")

    page.get_by_role("button", name="I'm safe").dblclick()
    page.get_by_text("Checked in. Next check-in by").wait_for()
    page.locator("[data-visit-bar] summary").click()  # Extend and End visit sit behind More
    page.get_by_role("button", name="Extend +15 minutes").dblclick()
    page.get_by_text("Extended. Check in by").wait_for()
    page.locator("[data-visit-bar] summary").click()
    page.get_by_role("link", name="End visit or more").click()
    page.get_by_role("button", name="End visit").dblclick()
    page.get_by_text("Visit ended. Stay safe.").wait_for()
    page.goto(live_server.url + "/crisis")
    page.get_by_role("button", name="Send crisis alarm to my team").dblclick()
    expect(page).to_have_url(re.compile("/crisis/alarms/"))
    page.wait_for_load_state("load")
    _send_everything_now(page)

    assert [_events(engine, kind) for kind in ("checked_in", "extended", "ended", "crisis_pressed", "crisis_again")] \
        == [1, 1, 1, 1, 0]
    assert outbox(page) == []


def test_a_double_tap_on_an_appointment_outcome_records_it_once(phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    on = datetime.now(ZoneInfo("Europe/London")).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    with unit_of_work(engine) as session:
        appointment = appointments.create(session, session.get(User, personas["worker"].id), appointments.Details(
            person_id=person_id, kind="office", starts_local=on, duration_minutes=30), now=utcnow())
        appointment_id = appointment.id
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/appointments/{appointment_id}?on={on.isoformat(timespec='minutes')}")
    page.get_by_label("Attended").check()
    page.get_by_role("button", name="Save outcome").dblclick()
    page.get_by_text("Outcome saved.").wait_for()
    _send_everything_now(page)
    with unit_of_work(engine) as session:
        recorded = session.exec(select(AuditEvent).where(AuditEvent.action == "appointment.outcome")).all()
    assert len(recorded) == 1 and outbox(page) == []


def test_a_double_tap_on_any_other_save_makes_one_record(phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/appointments/new?person={person_id}")
    page.get_by_label("Starts").fill("2026-12-24T10:00")
    # A slow answer (a bad signal): the second tap lands while the first is on its way.
    inner = live_server.server.app

    def slow_posts(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            time.sleep(1)
        return inner(environ, start_response)

    live_server.server.app = slow_posts
    save = page.get_by_role("button", name="Save appointment")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    page.get_by_text("Appointment saved.").wait_for()
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Appointment)).all()) == 1
