"""A person's long timeline in a real phone-sized Chromium: "Earlier entries" appends the next page
below and the focus moves to it."""
from playwright.sync_api import expect

from app.record import TIMELINE_PAGE
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_caseload import _person
from tests.test_person_record import _many_contacts


def test_earlier_entries_appends_the_next_page_and_moves_the_focus_to_it(phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Lena Long")
    _many_contacts(engine, personas["worker"], person_id, TIMELINE_PAGE + 5)
    page = phone.new_page()
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/people/{person_id}")
    contacts = page.get_by_text("Old contact ")
    assert contacts.count() == TIMELINE_PAGE - 1  # the risk assessment, made now, is the newest
    assert_accessible(page)
    earlier = page.get_by_role("link", name="Earlier entries")
    assert earlier.bounding_box()["height"] >= 48
    earlier.click()
    page.get_by_text(f"Old contact {TIMELINE_PAGE + 4}.").wait_for()
    assert contacts.count() == TIMELINE_PAGE + 5
    expect(page.locator("li[autofocus]")).to_be_focused()  # not lost on the removed link
    assert page.get_by_role("link", name="Earlier entries").count() == 0
    assert page.url == f"{live_server.url}/people/{person_id}"
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
