"""Appointments in a real phone-sized Chromium: create one, see it on Today, start the visit, record
the outcome."""
from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import AppointmentOccurrence, Visit
from app.models.types import utcnow
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_caseload import _person


def test_an_appointment_on_today_starts_a_visit_and_gets_its_outcome(phone, live_server, personas, engine):
    zone = live_server.app.extensions["fieldline.settings"].zone
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.get_by_role("link", name="New appointment").click()
    assert_accessible(page)
    page.get_by_label("With").select_option(str(person_id))
    now = utcnow().astimezone(zone)
    # In a few minutes, unless that is tomorrow (Today lists today's): then a few minutes ago.
    starts = now + timedelta(minutes=5)
    if starts.date() != now.date():
        starts = now - timedelta(minutes=5)
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Length (minutes)").fill("45")
    page.get_by_role("button", name="Save appointment").click()
    page.get_by_text("Appointment saved.").wait_for()

    agenda = page.locator(".agenda__item", has_text="Dana Doorstep")
    assert agenda.get_by_text("Home visit").is_visible() and agenda.get_by_text("Aggressive dog").is_visible()
    assert_accessible(page)
    agenda.get_by_role("link", name="Start visit").click()
    assert page.get_by_label("Who are you visiting? (optional)").input_value() == str(person_id)
    assert page.get_by_label("Where are you going?").input_value() == "Hope House, room 12"
    assert page.get_by_role("radio", name="45 min").is_checked()
    page.get_by_role("button", name="Start visit").click()
    page.get_by_text("Visit started.").wait_for()
    with unit_of_work(engine) as session:
        visit = session.exec(select(Visit)).one()
    assert visit.person_id == person_id and round((visit.planned_end_at - visit.started_at).total_seconds()) == 2700

    page.locator(".agenda__item", has_text="Dana Doorstep").get_by_role("link", name="Dana Doorstep").click()
    # Forgot to say what happened: told what to fix, on the same page, with the note still there.
    page.get_by_label("Note (optional)").fill("Went well, dog shut in the kitchen.")
    page.get_by_role("button", name="Save outcome").click()
    page.locator("p.error", has_text="Choose what happened.").wait_for()  # beside the field (and in the summary)
    assert page.get_by_label("Note (optional)").input_value() == "Went well, dog shut in the kitchen."
    assert_accessible(page)
    page.get_by_role("radio", name="Attended").check()
    page.get_by_role("button", name="Save outcome").click()
    page.get_by_text("Outcome saved.").wait_for()
    assert page.locator(".agenda__item", has_text="Dana Doorstep").get_by_text("Attended").is_visible()
    with unit_of_work(engine) as session:
        occurrence = session.exec(select(AppointmentOccurrence)).one()
    assert occurrence.outcome == "attended" and occurrence.outcome_note == "Went well, dog shut in the kitchen."
