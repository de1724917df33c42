"""A plan on a 360 × 740 phone in a real Chromium: a goal and two steps in at most 12 taps besides
typing (counted), the person's agreement, a step ticked done from the person's page with no
signal that arrives once when the signal returns, a review, the versions compared, and axe on every
new page at 360 and 390 px. (The PHQ-9 taken offline and its two-point chart: tests/e2e/test_measures.py.)"""
import re

from sqlmodel import select

from app.db import unit_of_work
from app.models import GoalNote, PlanAgreement, PlanStep, PlanVersion
from tests.e2e.conftest import PHONE, assert_accessible, sign_in
from tests.e2e.test_caseload import _person
from tests.e2e.test_offline import outbox, ready_for_the_door, wait_until

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}


def accessible_at_both_widths(page):
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    page.set_viewport_size(SMALL_PHONE["viewport"])


def steps(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(PlanStep).order_by(PlanStep.id)).all()


def notes(engine):
    with unit_of_work(engine) as session:
        return [tuple(row) for row in session.exec(select(GoalNote.kind, GoalNote.text)).all()]


def test_a_plan_with_a_goal_and_two_steps_agreed_ticked_offline_and_reviewed(browser, live_server, personas, engine):
    context = browser.new_context(**SMALL_PHONE)
    context.set_default_timeout(10_000)
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    sign_in(page, live_server, personas["worker"])
    ready_for_the_door(page, live_server, path="/")
    taps = []

    def tap(locator):
        taps.append(locator)
        locator.click()

    page.goto(f"{live_server.url}/people/{person_id}")
    tap(page.locator("#plan").get_by_role("link", name="Add goal"))
    page.get_by_role("heading", name="Add goal: Dana Doorstep").wait_for()
    accessible_at_both_widths(page)
    tap(page.get_by_role("radio", name="Accommodation"))
    page.get_by_label("What they want to achieve, in their words").fill("A flat of my own, near my sister")
    page.get_by_label("How we will know").fill("A tenancy signed")
    tap(page.get_by_label("6 months"))
    tap(page.get_by_role("button", name="Save goal"))
    page.get_by_role("heading", name="Add step").wait_for()
    accessible_at_both_widths(page)
    page.get_by_label("What the step is").fill("Fill in the housing register form")
    tap(page.get_by_label("The person", exact=True))
    tap(page.get_by_role("button", name="Save and add another step"))
    page.get_by_text("Step added.").wait_for()
    page.get_by_label("What the step is").fill("Ring the council about the deposit")
    tap(page.get_by_label("Me", exact=True))
    tap(page.get_by_role("button", name="Save step"))
    page.get_by_role("heading", name="Plan: Dana Doorstep").wait_for()
    assert len(taps) <= 12, len(taps)
    assert len(steps(engine)) == 2
    accessible_at_both_widths(page)

    tap(page.get_by_role("link", name="Record their agreement"))
    accessible_at_both_widths(page)
    page.get_by_label("Agrees", exact=True).check()
    page.get_by_label("Their own comment (optional)").fill("Housing first, then work")
    page.get_by_role("button", name="Save their answer").click()
    page.get_by_text("Their answer is recorded.").wait_for()
    with unit_of_work(engine) as session:
        assert session.exec(select(PlanAgreement.answer)).all() == ["agrees"]

    # At the door with no signal: the first step is ticked done from the person's page, and a
    # contact logged from the copy kept for no signal says it worked on the goal.
    page.goto(f"{live_server.url}/people/{person_id}")
    accessible_at_both_widths(page)
    page.evaluate("""async () => (await navigator.serviceWorker.ready).active.postMessage(
        {type: "refresh-pages", extra: ["/visits/0"]})""")  # (an extra page skips the five-minute wait)
    wait_until(page, lambda: "A flat of my own" in page.evaluate("""async () => {
        const kept = await (await caches.open("fieldline-pages")).match("/contacts/new");
        return kept ? await kept.text() : "";
    }"""), message="Log contact kept with the goal")
    context.set_offline(True)
    page.locator("#plan").get_by_role("button", name=re.compile(r"^Done\W+Fill in the housing register form$")).click()
    page.get_by_text("Saved on this phone").last.wait_for()
    assert steps(engine)[0].status == "not_started" and len(outbox(page)) == 1
    page.goto(f"{live_server.url}/contacts/new?person={person_id}")
    worked_on = page.get_by_role("group", name="Worked on with Dana Doorstep (optional)")
    page.get_by_role("radio", name="Dana Doorstep", checked=True).wait_for()  # chosen from the link
    worked_on.get_by_role("checkbox", name="A flat of my own, near my sister").check()
    accessible_at_both_widths(page)
    page.get_by_label("Notes").fill("Went through the register form together")
    page.get_by_role("button", name="Save contact").click()
    page.get_by_text("Saved on this phone — will send when you have signal.").last.wait_for()
    assert len(outbox(page)) == 2
    context.set_offline(False)
    page.locator("[data-outbox-status]", has_text="All sent").wait_for(timeout=20_000)
    wait_until(page, lambda: steps(engine)[0].status == "done" and notes(engine), message="the step and note to arrive")
    page.wait_for_timeout(500)
    with unit_of_work(engine) as session:
        done = session.exec(select(PlanVersion).where(PlanVersion.change.like("%: Done"))).all()
    assert len(done) == 1 and outbox(page) == []
    assert notes(engine) == [("contact", "Went through the register form together")]

    page.goto(f"{live_server.url}/people/{person_id}/plan/review")
    accessible_at_both_widths(page)
    page.get_by_role("button", name="Save review").click()  # nothing written: refused beside the goal
    page.locator("[id^=progress-][id$=-error]").wait_for()
    accessible_at_both_widths(page)
    page.get_by_label("Progress: “A flat of my own, near my sister” (Active)").fill("Form in; waiting to hear")
    page.get_by_role("button", name="Save review").click()
    page.get_by_text("Plan reviewed: version").wait_for()
    page.get_by_label("Compare version").select_option("1")
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("heading", name="What changed").wait_for()
    assert "Step added to “A flat of my own, near my sister”: Fill in the housing register form (The person, Done)" \
        in page.inner_text("main")
    accessible_at_both_widths(page)
    page.get_by_role("link", name="Read version 1").click()
    page.get_by_text("Not the latest").wait_for()
    accessible_at_both_widths(page)
    page.goto(f"{live_server.url}/people/{person_id}/close")  # Close case waits for the plan
    page.get_by_text("Their plan is still open.").wait_for()
    page.get_by_role("link", name="Close plan").click()
    page.get_by_role("heading", name="Close plan: Dana Doorstep").wait_for()
    accessible_at_both_widths(page)
    page.get_by_role("radio", name="Achieved").first.check()
    page.get_by_label("Warning signs").fill("Stops answering the phone")
    page.get_by_label("Who to contact").fill("Her sister; the housing officer")
    page.get_by_role("button", name="Close plan").click()
    page.get_by_text("Plan closed.").wait_for()
    page.goto(f"{live_server.url}/people/{person_id}")
    page.get_by_role("link", name="Close case").click()
    page.get_by_role("heading", name="Close case: Dana Doorstep").wait_for()
    page.get_by_role("radio", name="Other (say why in the note)").check()
    page.get_by_role("button", name="Close case").click()
    page.get_by_text("Say why the case is closing.").first.wait_for()  # refused beside the note
    accessible_at_both_widths(page)
    page.get_by_label("Note (what happened, who took over)").fill("Moved in with family abroad.")
    page.get_by_role("button", name="Close case").click()
    page.get_by_text("Case closed.").first.wait_for()
    assert "Moved in with family abroad." in page.inner_text("main")
    accessible_at_both_widths(page)
    assert refused == []
    context.close()
