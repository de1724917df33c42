"""The register in a real Chromium at a phone's size: twelve attendees marked with no signal in a
handful of taps, kept in the outbox, sent once when the signal returns, each mark confirmed from the
server on screen and on the person's timeline."""
from datetime import timedelta

from sqlmodel import func, select

from app.db import unit_of_work
from app.models import Attendance, AuditEvent, Delivery, Group, GroupSession, Person, User, Visit
from app.models.types import utcnow
from app.services import groups, non_association
from tests.conftest import _signed_in
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_offline import outbox, ready_for_the_door, wait_until
from tests.helpers import LONDON

NAMES = ["Ali Acre", "Bea Birch", "Cal Cedar", "Dot Dale", "Eli Elm", "Fay Fern", "Gus Glen", "Hal Heath",
         "Ivy Isle", "Jo Juniper", "Kit Knoll", "Lu Larch"]


def a_group_in_session(engine, personas) -> tuple[int, list[int]]:
    """Twelve people enrolled in a group whose first session began a few minutes ago."""
    began = (utcnow() - timedelta(minutes=5)).astimezone(LONDON).replace(tzinfo=None, second=0, microsecond=0)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        programme = groups.create_programme(session, worker, groups.ProgrammeDetails("Life skills", 6), now=utcnow())
        group = groups.create_group(session, worker, groups.GroupDetails(
            programme.id, "Tuesday evening", "Riverside Centre", began, 120, "weekly", 12, [worker.id]), now=utcnow())
        people = [Person(team_id=worker.team_id, name=name, key_worker_id=personas["worker2"].id) for name in NAMES]
        session.add_all(people)
        session.flush()
        for person in people:
            groups.enrol(session, worker, group, person, now=utcnow(), zone=LONDON)
        meeting = session.exec(select(GroupSession).where(GroupSession.group_id == group.id,
                                                          GroupSession.number == 1)).one()
        return meeting.id, [p.id for p in people]


def count(engine, model, *where) -> int:
    with unit_of_work(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_the_register_for_twelve_taken_with_no_signal_arrives_once(phone, live_server, personas, engine, app):
    meeting_id, people = a_group_in_session(engine, personas)
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    path = f"/group-sessions/{meeting_id}"
    ready_for_the_door(page, live_server, path)  # opened once with signal: the page is kept on the phone

    phone.set_offline(True)
    assert page.reload().from_service_worker  # the register opens with no signal at all
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 780})
    assert_accessible(page)

    taps = 0

    def tap(locator):
        nonlocal taps
        locator.click()
        taps += 1

    def person(name):
        return page.get_by_role("group", name=name)

    def mark(name, label):  # the big target a thumb taps: the whole choice, not its small circle
        return person(name).locator("label.choice").filter(has=page.get_by_text(label, exact=True))

    tap(page.get_by_role("button", name="Everyone here"))
    tap(mark("Bea Birch", "Absent: acceptable"))
    tap(person("Bea Birch").get_by_text("Reason, note, tell the key worker"))
    person("Bea Birch").get_by_label("Reason (needed for an acceptable absence)").fill("Hospital appointment")
    tap(mark("Cal Cedar", "Absent: not acceptable"))
    tap(person("Cal Cedar").get_by_text("Reason, note, tell the key worker"))
    person("Cal Cedar").get_by_label("Note", exact=True).fill("Third absence")
    tap(person("Cal Cedar").get_by_label("Tell the key worker"))
    tap(mark("Dot Dale", "Attended late"))
    tap(page.get_by_role("button", name="Save register"))
    assert taps <= 20, taps

    page.get_by_text("Saved on this phone — will send when you have signal.").wait_for()
    assert person("Eli Elm").get_by_text("On this phone only: Attended").is_visible()
    assert person("Bea Birch").get_by_role("radio", name="Absent: acceptable").is_checked()  # still on screen
    assert [item["label"] for item in outbox(page)] == ["Register"]
    assert count(engine, Attendance) == 0

    phone.set_offline(False)
    wait_until(page, lambda: count(engine, Attendance) == 12, timeout=20, message="the register reaching the server")
    wait_until(page, lambda: page.get_by_text("On the server:").count() == 12, timeout=20,
               message="every mark confirmed on screen")
    assert person("Dot Dale").get_by_text("On the server: Attended late").is_visible()
    page.wait_for_timeout(1500)  # a second flush or Background Sync would be here by now
    assert outbox(page) == []
    assert count(engine, Attendance) == 12
    assert count(engine, AuditEvent, AuditEvent.action == "group_session.register") == 1
    assert count(engine, Delivery, Delivery.kind == "group", Delivery.recipient_id == personas["worker2"].id) >= 1
    with unit_of_work(engine) as session:
        marks = {a.person_id: a.mark for a in session.exec(select(Attendance)).all()}
    assert marks[people[1]] == "acceptable_absence" and marks[people[2]] == "unacceptable_absence"
    assert marks[people[3]] == "late" and sum(m == "attended" for m in marks.values()) == 9

    keyworker = _signed_in(app, personas["worker"])
    for person_id in people:
        timeline = keyworker.get(f"/people/{person_id}").get_data(as_text=True)
        assert "Tuesday evening, session" in timeline, person_id
    assert "Hospital appointment" in keyworker.get(f"/people/{people[1]}").get_data(as_text=True)


def both_widths_accessible(page, widths=(390, 360)):
    for width in widths:
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 780})
        assert_accessible(page)


def test_group_pages_are_accessible_enrol_warns_and_start_session_times_the_facilitator(
        phone, live_server, personas, engine):
    meeting_id, people = a_group_in_session(engine, personas)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        group_id = session.get(GroupSession, meeting_id).group_id
        programme_id = session.get(Group, group_id).programme_id
        newcomer = Person(team_id=worker.team_id, name="Mo Newcomer")
        session.add(newcomer)
        session.flush()
        non_association.keep_apart(session, worker, newcomer, session.get(Person, people[0]), "Co-defendants", now=utcnow())
        newcomer_id = newcomer.id
    page = phone.new_page()
    sign_in(page, live_server, personas["worker"])
    # The plain lists and forms at the narrowest width (where problems show); the rest at both.
    page.set_viewport_size({"width": 360, "height": 780})
    for path in ("/groups", "/programmes/new", f"/programmes/{programme_id}", "/groups/new",
                 f"/people/{newcomer_id}/keep-apart"):
        page.goto(live_server.url + path)
        assert_accessible(page)
    page.goto(live_server.url + f"/programmes/{programme_id}/sessions/1")
    both_widths_accessible(page)

    page.goto(live_server.url + f"/groups/{group_id}")
    page.get_by_label("Person").select_option(label="Mo Newcomer")
    page.get_by_role("button", name="Enrol").click()
    page.get_by_text("they must not meet Ali Acre").wait_for()  # the group is full too, but this comes first
    both_widths_accessible(page)

    page.goto(live_server.url + f"/group-sessions/{meeting_id}")
    page.get_by_role("button", name="Start session").click()  # one tap
    page.get_by_text("Your visit timer is running").wait_for()
    assert page.get_by_role("button", name="I'm safe").count() >= 1  # the visit bar, as for any visit
    both_widths_accessible(page, widths=(360,))  # the register at both widths: the test above
    with unit_of_work(engine) as session:
        meeting = session.get(GroupSession, meeting_id)
        assert meeting.started_at is not None and session.get(Visit, meeting.visit_id).state == "active"
