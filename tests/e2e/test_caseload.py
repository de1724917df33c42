"""Caseload and Log contact in a real phone-sized Chromium."""
from sqlmodel import select

from app.db import unit_of_work
from app.models import Contact, User
from app.models.types import utcnow
from app.services import people
from tests.e2e.conftest import assert_accessible, sign_in


def _person(engine, persona, name, **risk):
    with unit_of_work(engine) as session:
        author = session.get(User, persona.id)
        return people.create_person(session, author, people.PersonDetails(name=name, key_worker_id=author.id,
                                                                          address="Hope House, room 12"),
                                    people.RiskUpdate(**{"level": "high", "flags": ["dog"], "reason": "Assessment",
                                                         **risk}), now=utcnow()).id


def test_log_contact_with_the_fewest_taps_lands_on_the_timeline(phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").click()
    assert page.get_by_text("Risk: High").first.is_visible() and page.get_by_text("Aggressive dog").first.is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Dana Doorstep").click()
    assert_accessible(page)

    # From the person's page: Log contact (tap 1), type the notes, Save (tap 2).
    taps = 0
    page.get_by_role("link", name="Log contact").first.click()
    taps += 1
    assert page.get_by_role("radio", name="Dana Doorstep").is_checked()
    assert page.get_by_role("radio", name="Face to face").is_checked()
    assert_accessible(page)
    page.get_by_label("Notes").fill("Talked about the rent arrears letter.")
    page.get_by_role("button", name="Save contact").click()
    taps += 1
    page.wait_for_selector("text=Contact saved.")
    assert taps <= 3
    assert page.url == f"{live_server.url}/people/{person_id}"
    assert page.get_by_text("Talked about the rent arrears letter.").is_visible()
    with unit_of_work(engine) as session:
        contact = session.exec(select(Contact)).one()
    assert contact.person_id == person_id and contact.author_id == personas["worker"].id


def test_searching_as_you_type_narrows_the_caseload(phone, live_server, personas, engine):
    _person(engine, personas["worker"], "Alex Able", level="low", flags=[])
    _person(engine, personas["worker"], "Brook Baker")
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(live_server.url + "/caseload")
    requests = []
    page.on("request", lambda request: requests.append((request.method, request.url)))
    page.get_by_label("Search by name, known-as or address").fill("brook")
    page.get_by_text("Alex Able").wait_for(state="detached")
    assert page.get_by_text("Brook Baker").is_visible()
    # The typed name went in a POST body, never into a URL.
    assert all("brook" not in url.lower() for _, url in requests)
    assert ("POST", live_server.url + "/caseload") in requests
