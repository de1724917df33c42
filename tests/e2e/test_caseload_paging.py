"""The caseload's "Show more" in a real phone-sized Chromium: the next people appear below and the
focus moves to the first of them."""
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible, sign_in
from tests.test_daily_pages import add_people


@pytest.mark.parametrize("width", [360, 390])
def test_show_more_appends_the_next_people_and_moves_the_focus_to_them(phone, live_server, personas, engine, width):
    add_people(engine, personas["worker"].team_id, personas["worker2"].id, [f"Person {n:02d}" for n in range(60)])
    page = phone.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, live_server, personas["worker"])
    page.goto(live_server.url + "/caseload")
    rows = page.locator(".person-row__name")
    assert rows.count() == 50
    assert_accessible(page)
    more = page.get_by_role("button", name="Show 10 more (of 10 not shown)")
    assert more.bounding_box()["height"] >= 48
    more.click()
    rows.nth(59).wait_for()
    assert rows.count() == 60 and rows.nth(50).text_content() not in rows.nth(49).text_content()
    expect(rows.nth(50)).to_be_focused()  # the first of the new people, not lost on a removed button
    assert page.locator("#caseload-more").count() == 0
    assert page.url == live_server.url + "/caseload"  # nothing about the list went into the URL
    assert_accessible(page)
