"""Orders on a phone in a real Chromium: a worker adds an order with two requirements, makes an
appointment enforceable, records an unacceptable absence, gives the warning, records a second one
with no signal (the outbox sends it), and the supervisor records the breach decision; axe passes
on every new page at 360 and 390 px."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.db import unit_of_work
from sqlmodel import select

from app.models import ComplianceEvent, Contact, EvidencePack, Order, User
from app.services import appointments, orders
from tests.e2e.conftest import PHONE, assert_accessible, sign_in
from tests.e2e.test_caseload import _person
from tests.e2e.test_offline import wait_until

LONDON = ZoneInfo("Europe/London")


def recorded(engine) -> int:
    with unit_of_work(engine) as session:
        return len(session.exec(select(ComplianceEvent).where(ComplianceEvent.outcome == "unacceptable_absence")).all())


def accessible_at_both_widths(page):
    for width in (360, 390):
        page.set_viewport_size({"width": width, "height": 780})
        assert_accessible(page)


def test_an_order_from_adding_it_to_the_breach_decision(browser, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    first = (datetime.now(LONDON) - timedelta(days=15)).replace(hour=10, minute=0, second=0, microsecond=0,
                                                                tzinfo=None)
    # The second instruction: today, a minute ago, so it falls after the warning given today.
    now_local = datetime.now(LONDON).replace(tzinfo=None)
    later = max((now_local - timedelta(minutes=1)).replace(second=0, microsecond=0),
                now_local.replace(hour=0, minute=0, second=0, microsecond=0))
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        appointment_id, second_id = (appointments.create(session, worker, appointments.Details(
            person_id=person_id, kind="office", starts_local=on, duration_minutes=60, repeat=repeat),
            now=datetime.now(LONDON)).id for on, repeat in ((first, "weekly"), (later, "none")))
        contact = Contact(team_id=worker.team_id, person_id=person_id, author_id=worker.id, contact_type="phone",
                          happened_at=datetime.now(LONDON) - timedelta(days=1),
                          notes="Missed again: said the bus never came")
        session.add(contact)
        session.flush()
        contact_id = contact.id

    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 780}})
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []  # the CSP holds: nothing on these pages needs an inline style or script
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/people/{person_id}")
    page.get_by_role("link", name="Add order").click()
    accessible_at_both_widths(page)
    page.get_by_label("Kind of order").select_option("community_order")
    page.get_by_label("Made by (court or body)").fill("Leeds Magistrates' Court")
    page.get_by_label("Starts").fill((first.date() - timedelta(days=30)).isoformat())
    page.get_by_label("Ends", exact=True).fill((first.date() + timedelta(days=335)).isoformat())
    page.get_by_role("button", name="Add order").click()
    page.get_by_role("heading", name="Community order: Dana Doorstep").wait_for()

    for kind, extra in (("rehabilitation_activity", ("Days or hours ordered", "20")),
                        ("curfew", ("What it says", "19:00 to 07:00 at home"))):
        page.get_by_text("Add a requirement").click()
        page.get_by_label("Requirement", exact=True).select_option(kind)
        page.get_by_label(extra[0]).fill(extra[1])
        page.get_by_role("button", name="Add requirement").click()
        page.get_by_text("added.").wait_for()
    page.get_by_text("Make an appointment enforceable").click()
    page.get_by_label("Appointment", exact=True).select_option(str(appointment_id))
    page.get_by_label("Under the requirement").select_option(label="Rehabilitation activity")
    page.get_by_label("How they were told").select_option("in_person")
    page.get_by_label("When they were told").fill(first.date().isoformat())
    page.get_by_role("button", name="Make enforceable").click()
    page.get_by_text("is now enforceable").wait_for()
    accessible_at_both_widths(page)

    with unit_of_work(engine) as session:
        order = session.exec(select(Order)).one()
        orders.make_enforceable(session, order, session.get(User, personas["worker"].id), appointment_id=second_id,
                                requirement_id=None, told_how="letter", told_on=first.date(), now=datetime.now(LONDON))

    def absent(on: datetime, appointment=appointment_id, check=False):
        page.goto(f"{live_server.url}/appointments/{appointment}?on={on.isoformat(timespec='minutes')}")
        if check:
            accessible_at_both_widths(page)
        page.get_by_label("Unacceptable absence").check()
        page.get_by_role("button", name="Record outcome").click()
        page.get_by_text("Outcome recorded").wait_for()

    absent(first, check=True)
    page.get_by_role("link", name="Give warning").click()
    accessible_at_both_widths(page)
    page.get_by_role("button", name="Give warning").click()
    page.get_by_text("Warning recorded").wait_for()
    # The week after, an acceptable absence whose evidence is late: the officer chases it.
    week = first + timedelta(weeks=1)
    page.goto(f"{live_server.url}/appointments/{appointment_id}?on={week.isoformat(timespec='minutes')}")
    page.get_by_label("Acceptable absence", exact=True).check()
    page.get_by_label("Why the absence is acceptable").select_option("medical")
    page.get_by_label("Evidence due by (optional)").fill((week.date() + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Record outcome").click()
    page.get_by_text("Outcome recorded").wait_for()
    page.goto(f"{live_server.url}/orders/{order.id}")
    page.get_by_text("Evidence chased", exact=True).click()
    accessible_at_both_widths(page)
    page.get_by_label("Chased on").fill((week.date() + timedelta(days=2)).isoformat())
    page.get_by_label("How it was chased").select_option("phone")
    page.get_by_role("button", name="Record evidence chased").click()
    page.get_by_text("Evidence chased by phone").first.wait_for()
    # The second one is recorded at the door with no signal: the outbox keeps it, and sends it
    # when the signal returns (the rule judges it on its own date).
    page.goto(f"{live_server.url}/appointments/{second_id}?on={later.isoformat(timespec='minutes')}")
    context.set_offline(True)
    page.get_by_label("Unacceptable absence").check()
    page.get_by_role("button", name="Record outcome").click()
    page.get_by_text("Saved on this phone").last.wait_for()
    assert recorded(engine) == 1
    context.set_offline(False)
    page.locator("[data-outbox-status]", has_text="All sent").wait_for(timeout=20_000)
    wait_until(page, lambda: recorded(engine) == 2, message="the absence to arrive")
    page.goto(f"{live_server.url}/orders/{order.id}")
    page.get_by_text("Breach decision due").first.wait_for()

    boss = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 780}})
    boss.set_default_timeout(10_000)
    desk = boss.new_page()
    sign_in(desk, live_server, personas["supervisor"])
    desk.goto(f"{live_server.url}/team/compliance")
    accessible_at_both_widths(desk)
    # The supervisor's board (their Today) carries the same list, with the working-day clock.
    desk.goto(f"{live_server.url}/")
    desk.locator("#compliance-due", has_text="Breach decision due").wait_for()
    accessible_at_both_widths(desk)
    desk.get_by_role("link", name="Record decision for Dana Doorstep").click()
    accessible_at_both_widths(desk)
    desk.get_by_label("Breach: back to court").check()
    desk.get_by_role("button", name="Record decision").click()
    desk.get_by_text("Breach in progress").wait_for()
    desk.get_by_role("link", name="Breach evidence pack").click()
    accessible_at_both_widths(desk)
    # A contact note goes into the pack by ticking it; a refused form keeps the tick.
    note = desk.get_by_role("checkbox", name="Missed again: said the bus never came")
    note.check()
    desk.get_by_role("button", name="Build the pack").click()
    desk.get_by_text("Write the officer's statement.").first.wait_for()
    assert note.is_checked()
    desk.get_by_label("Officer's statement").fill("Two unacceptable absences since the warning.")
    desk.get_by_role("button", name="Build the pack").click()
    desk.get_by_text("Version 1 of the pack is ready.").wait_for()
    with unit_of_work(engine) as session:
        assert session.exec(select(EvidencePack)).one().contact_ids == [contact_id]
    desk.goto(f"{live_server.url}/people/{person_id}")
    desk.get_by_text("2 unacceptable").wait_for()
    accessible_at_both_widths(desk)
    assert refused == []
    boss.close()
    context.close()
