"""Input at the edge: dates at the ends of Python's calendar and ids past the database's 64 bits,
in a path, a query string or a form, are refused or not found, never a 500."""
import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import Appointment, SafetyEvent
from app.services import safety
from tests.test_appointments import make
from tests.test_caseload import add_person, log
from tests.test_safety_web import start_visit

EDGE_MOMENTS = ["9999-12-31T23:59", "0001-01-01T00:00", "2026-11-24T10:00+00:00"]  # the last: an offset
EDGE_DATES = ["9999-12-31", "0001-01-01"]


@pytest.fixture
def appointment_id(worker_client, engine):
    person_id = add_person(worker_client)
    assert make(worker_client, person_id, starts_local="2026-11-24T10:00", repeat="weekly").status_code == 303
    with unit_of_work(engine) as session:
        return person_id, session.exec(select(Appointment.id)).one()


@pytest.mark.parametrize("moment", EDGE_MOMENTS)
def test_an_occurrence_at_the_edge_of_the_calendar_or_with_an_offset_is_not_found(worker_client, appointment_id, moment):
    _, appointment = appointment_id
    answers = {
        "page": worker_client.get(f"/appointments/{appointment}?on={moment}"),
        "start visit": worker_client.get(f"/visits/new?appointment={appointment}&on={moment}"),
    }
    for action, data in (("outcome", {"outcome": "attended"}), ("move", {"starts_local": "2026-11-25T10:00"})):
        answers[action] = worker_client.post_form(f"/appointments/{appointment}/{action}", {"on": moment, **data},
                                                  page=f"/appointments/{appointment}?on=2026-11-24T10:00")
    assert {what: answer.status_code for what, answer in answers.items() if answer.status_code != 404} == {}


@pytest.mark.parametrize("day", EDGE_DATES)
def test_a_week_at_the_edge_of_the_calendar_shows_this_week(supervisor_client, day):
    answer = supervisor_client.get(f"/appointments/team?week={day}")
    assert answer.status_code == 200


@pytest.mark.parametrize("moment, day", list(zip(EDGE_MOMENTS, EDGE_DATES)))
def test_form_dates_at_the_edge_are_refused_next_to_the_field(worker_client, appointment_id, moment, day):
    person_id, appointment = appointment_id
    answers = {
        "new appointment": make(worker_client, person_id, starts_local=moment),
        "series until": make(worker_client, person_id, starts_local="2026-11-24T10:00", repeat="weekly",
                             repeat_until=day),
        "edit": worker_client.post_form(f"/appointments/{appointment}/edit", {
            "person_id": str(person_id), "kind": "home_visit", "starts_local": moment, "duration_minutes": "60",
            "repeat": "weekly", "repeat_until": day}),
        "move": worker_client.post_form(f"/appointments/{appointment}/move", {
            "on": "2026-11-24T10:00", "starts_local": moment}, page=f"/appointments/{appointment}?on=2026-11-24T10:00"),
        "contact": log(worker_client, person_id=str(person_id), happened_at=moment, follow_up_on=day),
        "person": worker_client.post_form("/people/new", {
            "name": "Edge Case", "status": "open", "consent_to_share": "yes", "consent_recorded_on": day,
            "risk_level": "low", "date_of_birth": day, "reason": "x"}),
    }
    assert {what: answer.status_code for what, answer in answers.items() if answer.status_code != 422} == {}
    for what, answer in answers.items():
        assert "Enter a date between 1900 and 2199." in answer.get_data(as_text=True), what


@pytest.mark.parametrize("made_at", ["0001-01-01T00:00+14:00", "9999-12-31T23:59-14:00"])
def test_a_phones_moment_at_the_edge_is_ignored_and_the_check_in_counts(worker_client, engine, personas, made_at):
    assert start_visit(worker_client).status_code == 303
    with unit_of_work(engine) as session:
        visit = safety.running_visit(session, personas["worker"].id)
    answer = worker_client.post_form(f"/visits/{visit.id}/check-in", {"made_at": made_at}, page="/")
    assert answer.status_code == 303
    with unit_of_work(engine) as session:
        event = session.exec(select(SafetyEvent).where(SafetyEvent.kind == "checked_in")).one()
    assert event.made_at is None


@pytest.mark.parametrize("big", [str(2**63), "99999999999999999999", "²"])
def test_an_id_no_database_can_hold_is_not_found_or_refused(worker_client, supervisor_client, big):
    person_id = add_person(worker_client)
    pages = {path: worker_client.get(path).status_code for path in (
        f"/people/{big}", f"/contacts/{big}", f"/photos/{big}", f"/visits/{big}", f"/alerts/{big}",
        f"/referrals/{big}", f"/appointments/{big}?on=2026-11-24T10:00")}
    assert set(pages.values()) == {404}, pages
    prefilled = {path: worker_client.get(path).status_code for path in (
        f"/contacts/new?person={big}", f"/visits/new?person={big}", f"/visits/new?appointment={big}",
        f"/appointments/new?person={big}")}
    assert set(prefilled.values()) == {200}, prefilled
    refused = {
        "contact": log(worker_client, person_id=big),
        "visit": start_visit(worker_client, person_id=big),
        "appointment": make(worker_client, big),
        "key worker": worker_client.post_form(f"/people/{person_id}/edit", {
            "name": "Dana Doorstep", "status": "open", "consent_to_share": "not_asked", "risk_level": "medium",
            "key_worker_id": big}),
    }
    assert {what: answer.status_code for what, answer in refused.items() if answer.status_code != 422} == {}


def test_a_nul_character_in_any_form_or_link_is_dropped_never_a_server_error(worker_client, engine):
    """PostgreSQL refuses NUL in text; every form and query string is read without it (app/request_class.py)."""
    from app.models import Contact, Person

    person_id = add_person(worker_client, name="Dana\x00 Doorstep", address="Flat 3\x00")
    assert log(worker_client, person_id=str(person_id), notes="Talked\x00 about housing.").status_code == 303
    assert worker_client.get("/caseload?q=Dana\x00").status_code == 200
    with unit_of_work(engine) as session:
        person = session.get(Person, person_id)
        contact = session.exec(select(Contact).where(Contact.person_id == person_id)).one()
        assert (person.name, person.address, contact.notes) == ("Dana Doorstep", "Flat 3", "Talked about housing.")


def test_a_refused_forms_address_opened_again_leads_to_the_page_it_was_on(worker_client, supervisor_client):
    from tests.test_orders import add_order

    person_id = add_person(worker_client)
    order_id = int(add_order(worker_client, person_id).headers["Location"].rsplit("/", 1)[1])
    html = {"Accept": "text/html,application/xhtml+xml"}
    refused = worker_client.post_form(f"/orders/{order_id}/requirements", {"kind": ""}, page=f"/orders/{order_id}")
    assert refused.status_code == 422  # drawn at the address it posts to
    again = worker_client.get(f"/orders/{order_id}/requirements", headers=html)
    assert again.status_code == 303 and again.headers["Location"] == f"/orders/{order_id}"
    assert supervisor_client.get("/rota/shifts", headers=html).headers["Location"] == "/rota"
    # Not a browser's page: still plainly not allowed.
    for other in ("application/json", "*/*"):  # fetch(), curl
        assert worker_client.get(f"/orders/{order_id}/requirements", headers={"Accept": other}).status_code == 405
    assert worker_client.get(f"/orders/{order_id}/requirements", headers={**html, "HX-Request": "true"}
                             ).status_code == 405
