"""A crisis referral in a real phone-sized Chromium, with axe on each page."""
from sqlmodel import select

from app.db import unit_of_work
from app.models import Person, Referral
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_caseload import _person


def test_refer_a_person_to_the_crisis_team_from_their_page(phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    with unit_of_work(engine) as session:
        session.get(Person, person_id).consent_to_share = "yes"
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/people/{person_id}")
    page.get_by_role("link", name="Refer").click()
    assert_accessible(page)
    page.get_by_role("link", name="Mental-health crisis team").click()
    assert "Name: Dana Doorstep" in page.get_by_label("About the person", exact=False).input_value()
    assert page.get_by_role("radio", name="The person consents to this referral").is_checked()
    assert_accessible(page)
    page.get_by_label("What is happening now").fill("Talking about ending their life tonight.")
    page.get_by_label("Risk to themself", exact=False).fill("Has saved up tablets.")
    page.get_by_role("button", name="Save referral").click()
    page.get_by_text("Referral saved.").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Mark as sent").click()
    page.get_by_text("Marked as sent.").wait_for()
    with unit_of_work(engine) as session:
        referral = session.exec(select(Referral)).one()
    assert referral.status == "sent" and referral.answers["risk_to_self"] == "Has saved up tablets."
