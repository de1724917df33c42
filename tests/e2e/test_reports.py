"""A report in a real phone-sized Chromium: drafted from the record, the signal lost mid-edit and
the draft recovered through the outbox, sent for sign-off and approved, the contacts a MARAC
contribution quotes picked from a list; axe at 390 and 360 px."""
from sqlmodel import select

from app.db import unit_of_work
from app.models import Report, ReportVersion
from tests.e2e.conftest import PHONE, assert_accessible, sign_in
from tests.e2e.test_caseload import _person
from tests.e2e.test_offline import outbox, wait_until
from tests.test_reports import END, START, seed_record


def accessible_at_both_widths(page):
    for width in (390, 360):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)


def recommendation(engine, rid) -> str:
    with unit_of_work(engine) as session:
        return next(s["text"] for s in session.get(Report, rid).sections if s["key"] == "recommendation")


def test_draft_lose_signal_recover_ask_for_sign_off_and_approve(browser, phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    seed_record(engine, person_id, personas["worker"].id, contacts=4)
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    page.goto(f"{live_server.url}/people/{person_id}")
    page.get_by_role("link", name="Write report").click()
    accessible_at_both_widths(page)
    page.get_by_label("Progress report").check()
    page.get_by_label("Who it is for").fill("Crown Court")
    page.get_by_label("Period from").fill(START.isoformat())
    page.get_by_label("Period to").fill(END.isoformat())
    page.get_by_role("button", name="Write report").click()
    page.get_by_text("Drafted from the record.").wait_for()
    rid = int(page.url.rsplit("/", 1)[1])
    assert "contacts between" in page.get_by_label("Engagement and compliance").input_value()
    accessible_at_both_widths(page)

    box = page.get_by_label("Recommendation")
    box.fill("A community order.")
    page.get_by_text("Draft saved at").wait_for(timeout=20_000)
    assert recommendation(engine, rid) == "A community order."

    phone.set_offline(True)  # the signal goes mid-edit
    box.fill("A community order.\nWritten with no signal.")
    page.get_by_text("Saved on this phone").wait_for(timeout=20_000)
    assert [i["label"] for i in outbox(page)] == ["Report draft"]
    assert recommendation(engine, rid) == "A community order."
    phone.set_offline(False)  # back: the outbox sends it
    wait_until(page, lambda: recommendation(engine, rid).endswith("Written with no signal."), timeout=20,
               message="the draft kept on the phone to reach the server")
    wait_until(page, lambda: outbox(page) == [], message="the outbox to empty")
    page.reload()
    assert page.get_by_label("Recommendation").input_value() == "A community order.\nWritten with no signal."

    page.get_by_role("button", name="Ask for sign-off").click()
    page.get_by_text("Sent for sign-off").wait_for()

    supervisor = browser.new_context(**PHONE)
    try:
        review = supervisor.new_page()
        sign_in(review, live_server, personas["supervisor"])
        review.goto(f"{live_server.url}/reports")
        accessible_at_both_widths(review)
        review.get_by_role("link", name="Progress report").click()
        assert "Written with no signal." in review.locator("main").inner_text()
        accessible_at_both_widths(review)
        review.get_by_role("button", name="Approve").click()
        review.get_by_text("Approved: version 1").wait_for()
        accessible_at_both_widths(review)
    finally:
        supervisor.close()
    with unit_of_work(engine) as session:
        approved = session.exec(select(ReportVersion).where(ReportVersion.report_id == rid)).one()
        assert approved.approved_by_id == personas["supervisor"].id and approved.pdf.startswith(b"%PDF")

    # A change to the approved report is version 2, compared line by line with version 1.
    page.reload()
    page.get_by_role("button", name="Change this report (new version)").click()
    page.get_by_label("Recommendation").fill("A community order.\nWith a curfew.")
    page.get_by_text("Draft saved at").wait_for(timeout=20_000)
    page.get_by_role("link", name="Compare with version 1").click()
    assert page.locator("ins", has_text="With a curfew.").is_visible()
    accessible_at_both_widths(page)

    # A MARAC contribution: the worker picks, on the phone, which contacts it quotes.
    page.goto(f"{live_server.url}/people/{person_id}/reports/new")
    page.get_by_label("MARAC contribution").check()
    page.get_by_label("Who it is for").fill("MARAC")
    page.get_by_label("Period from").fill(START.isoformat())
    page.get_by_label("Period to").fill(END.isoformat())
    page.get_by_role("button", name="Write report").click()
    page.get_by_role("link", name="Choose extracts").click()
    boxes = page.get_by_role("checkbox")
    assert boxes.count() == 4 and all(boxes.nth(n).is_checked() for n in range(4))
    accessible_at_both_widths(page)  # ends at 360 px: each choice still a full-size target
    assert all(page.locator("label.choice").nth(n).bounding_box()["height"] >= 48 for n in range(4))
    for n in (1, 2, 3):
        boxes.nth(n).uncheck()
    page.get_by_role("button", name="Quote the ticked contacts").click()
    page.get_by_text("1 extract in").wait_for()
    assert page.get_by_label("What the service knows").input_value().count("talked about housing and money") == 1


def test_an_admin_records_a_subject_access_request_and_a_legal_hold(phone, live_server, personas, engine):
    person_id = _person(engine, personas["worker"], "Dana Doorstep")
    page = phone.new_page()
    sign_in(page, live_server, personas["admin"])
    page.get_by_role("link", name="Subject access and retention").click()
    accessible_at_both_widths(page)
    page.get_by_label("Person's reference number").fill(str(person_id))
    page.get_by_label("Received on").fill(END.isoformat())
    page.get_by_role("button", name="Record the request").click()
    page.get_by_role("heading", name="Subject access export: Dana Doorstep").wait_for()
    assert page.get_by_role("button", name="Subject access export").is_visible()
    accessible_at_both_widths(page)
    page.get_by_role("link", name="Legal hold and erasure").click()
    page.get_by_label("Keep everything", exact=False).check()
    page.get_by_label("Why", exact=False).fill("A claim has been made.")
    page.get_by_role("button", name="Legal hold").click()
    page.get_by_text("Legal hold on:").wait_for()
    accessible_at_both_widths(page)
