"""Outcome measures on a 360 × 740 phone in a real Chromium: a PHQ-9 taken with no signal arrives
once, the item 9 prompt shows at once, the chart has two points, and axe passes on every new page."""
from datetime import date

from playwright.sync_api import expect
from sqlmodel import func, select

from app.db import unit_of_work
from app.models import MeasureResponse, Person, PlanGoal, User
from app.models.types import utcnow
from app.services import plans
from tests.e2e.conftest import PHONE, assert_accessible, sign_in
from tests.e2e.test_caseload import _person
from tests.e2e.test_offline import outbox, ready_for_the_door, wait_until

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}


def stored(engine) -> int:
    with unit_of_work(engine) as session:
        return session.exec(select(func.count()).select_from(MeasureResponse)).one()


def answer(page, choices):
    for number, label in enumerate(choices, 1):
        page.locator(f"#item-q{number}").get_by_label(label, exact=True).check()


def session_goal_id(engine) -> int:
    with unit_of_work(engine) as session:
        return session.exec(select(PlanGoal.id)).one()


def test_a_phq9_taken_offline_arrives_once_and_the_chart_shows_both_points(browser, live_server, personas, engine):
    context = browser.new_context(**SMALL_PHONE)
    context.set_default_timeout(10_000)
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    page = context.new_page()
    refused = []  # the CSP holds: nothing on these pages needs an inline style or script
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    sign_in(page, live_server, personas["worker"])
    ready_for_the_door(page, live_server, path="/")

    page.goto(f"{live_server.url}/people/{person_id}")
    page.get_by_role("link", name="Take a measure").click()
    assert_accessible(page)
    page.get_by_role("link", name="PHQ-9", exact=True).click()
    page.get_by_role("heading", name="PHQ-9 with Dana Doorstep").wait_for()
    assert_accessible(page)

    # The signal goes; the worker asks the nine questions and saves.
    context.set_offline(True)
    prompt = page.get_by_text("Ask about suicidal thoughts now")
    answer(page, ["Nearly every day"] * 4 + ["More than half the days"] * 4 + ["Not at all"])
    assert not prompt.is_visible()
    page.locator("#item-q9").get_by_label("Several days", exact=True).check()
    assert prompt.is_visible()  # at once, with no signal and no script
    page.locator("#item-q9").get_by_label("Not at all", exact=True).check()
    assert not prompt.is_visible()
    page.get_by_label("With help (I read it out or explained)").check()
    page.get_by_role("button", name="Save answers").click()
    page.get_by_text("Saved on this phone").last.wait_for()
    assert stored(engine) == 0 and len(outbox(page)) == 1

    # The signal returns: it is sent, and stored exactly once.
    context.set_offline(False)
    page.locator("[data-outbox-status]", has_text="All sent").wait_for(timeout=20_000)
    wait_until(page, lambda: stored(engine) == 1, message="the measure to arrive")
    page.wait_for_timeout(500)
    assert stored(engine) == 1 and outbox(page) == []
    with unit_of_work(engine) as session:
        first = session.exec(select(MeasureResponse)).one()
    assert (first.total, first.answered) == (20, "with_help")

    # A second PHQ-9, with signal and one question per screen: the result page, then the chart.
    page.goto(f"{live_server.url}/people/{person_id}/measures/phq9/new")
    page.get_by_role("link", name="One question per screen").click()
    page.wait_for_url("**layout=steps")
    assert_accessible(page)
    for number, label in enumerate(["Several days"] * 8 + ["Not at all"], 1):
        item = page.locator(f"#item-q{number}")
        expect(item).to_be_in_viewport()
        expect(page.locator(f"#item-q{number + 1}")).not_to_be_in_viewport()
        item.get_by_label(label, exact=True).check()
        item.get_by_role("link", name="Next question" if number < 10 else "Last step").click()
    page.locator("#item-q10").get_by_role("link", name="Last step").click()
    expect(page.get_by_role("button", name="Save answers")).to_be_in_viewport()
    page.get_by_role("button", name="Save answers").click()
    page.get_by_role("heading", name="PHQ-9: 8 of 27").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Correct these answers").click()
    assert_accessible(page)
    page.goto(f"{live_server.url}/people/{person_id}")
    card = page.locator("#measures")
    assert card.locator("svg circle").count() == 2
    assert "PHQ-9 down from 20 to 8 since" in card.inner_text() and "reliable improvement" in card.inner_text()
    assert card.get_by_role("img", name="PHQ-9 scores over time").is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/people/{person_id}/measures")
    assert_accessible(page)
    assert refused == []
    context.close()


def at_both_widths(page):
    for size in (SMALL_PHONE["viewport"], PHONE["viewport"]):
        page.set_viewport_size(size)
        assert_accessible(page)


def test_the_licence_page_core10_and_the_supervisors_pages_are_accessible(browser, phone, live_server, personas,
                                                                          engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    with unit_of_work(engine) as session:  # an active plan, for a figure with records behind it
        plans.add_goal(session, session.get(User, personas["worker"].id), session.get(Person, person_id),
                       plans.GoalDetails("accommodation", "A flat of my own", "A tenancy signed", "6"),
                       now=utcnow(), today=date.today())
    supervisor = browser.new_context(**SMALL_PHONE)
    supervisor.set_default_timeout(10_000)
    page = supervisor.new_page()
    sign_in(page, live_server, personas["supervisor"])
    page.goto(f"{live_server.url}/team/outcomes")
    page.get_by_role("heading", name="Team outcomes").wait_for()
    at_both_widths(page)
    page.get_by_role("link", name="1: Plans, People with an active plan — who").click()
    page.get_by_text("Dana Doorstep").first.wait_for()
    assert "/team/outcomes/records?" in page.url
    at_both_widths(page)
    page.goto(f"{live_server.url}/team/scales")
    page.get_by_role("button", name="Add scale").click()  # nothing typed: refused beside the fields
    page.locator(".error").first.wait_for()
    at_both_widths(page)
    supervisor.close()
    admin = browser.new_context(**SMALL_PHONE)
    admin.set_default_timeout(10_000)
    page = admin.new_page()
    sign_in(page, live_server, personas["admin"])
    page.goto(f"{live_server.url}/admin/licences")
    assert_accessible(page)
    page.get_by_label("Licence reference or who granted it").fill("Warwick licence 1234")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Licence recorded.").wait_for()
    admin.close()
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/people/{person_id}/measures/core10/new")
    assert page.get_by_text("© CORE System Trust").first.is_visible()
    page.get_by_role("button", name="Save answers").click()  # nothing answered: refused beside each item
    page.locator("#q1-error").wait_for()
    assert_accessible(page)
    page.goto(f"{live_server.url}/people/{person_id}/measures/swemwbs/new")
    page.get_by_role("heading", name="SWEMWBS with Dana Doorstep").wait_for()
    assert_accessible(page)
    page.goto(f"{live_server.url}/goals/{session_goal_id(engine)}/edit")
    page.get_by_role("heading", name="Change goal: Dana Doorstep").wait_for()
    at_both_widths(page)
