"""The person's page is composed from what each feature registers (app/record.py): every kind of
entry still shows, in time order, and the page's queries do not grow with the number of entries."""
import re
from contextlib import contextmanager
from io import BytesIO

import pytest
from sqlalchemy import event

from app.models.types import utcnow
from tests.test_appointments import LONDON, make, the_appointment
from tests.test_caseload import add_person, jpeg, log
from tests.test_measures import take
from tests.test_referrals import refer
from tests.test_safety_web import running, start_visit


@contextmanager
def counted(engine):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def a_full_record(client, engine, persona, contacts=1):
    """A person with every kind of entry: contacts (one with a photo), a risk review, a timed visit,
    an appointment outcome, a referral and outcome measures."""
    person_id = add_person(client, name="Remy Record", consent_to_share="yes", consent_recorded_on="2026-11-01")
    for number in range(contacts):
        extra = {"photos": [(BytesIO(jpeg(40, 30)), "door.jpg")]} if number == 0 else {}
        assert log(client, person_id=str(person_id), notes=f"Contact number {number}.", **extra).status_code == 303
    client.post_form(f"/people/{person_id}/risk", {"risk_level": "high", "reason": "Threats to staff"})
    assert start_visit(client, person_id=str(person_id)).status_code == 303
    visit = running(engine, persona)
    client.post_form(f"/visits/{visit.id}/end", {}, page="/")
    today = utcnow().astimezone(LONDON).date().isoformat()
    make(client, person_id, starts_local=f"{today}T08:00")
    appointment = the_appointment(engine)
    client.post_form(f"/appointments/{appointment.id}/outcome",
                     {"on": f"{today}T08:00", "outcome": "did_not_attend", "note": "No answer at the door."},
                     page=f"/appointments/{appointment.id}?on={today}T08:00")
    assert refer(client, person_id, "housing").status_code == 303
    for _ in range(contacts):
        assert take(client, person_id).status_code == 303
    return person_id


def test_every_kind_of_entry_is_on_the_timeline_newest_first(worker_client, engine, personas):
    person_id = a_full_record(worker_client, engine, personas["worker"])
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    timeline = page[page.index("<h2>Timeline</h2>"):]
    for text in ("PHQ-9: 18 of 27", "Contact number 0.", "Photo 1 from this contact", "Risk changed: High", "Threats to staff",
                 "Timed visit", "Did not attend", "No answer at the door.", "Referral: Housing"):
        assert text in timeline, text
    # Newest first: the referral was made last, the risk assessment at creation came first.
    order = [timeline.index(t) for t in ("Referral: Housing", "Timed visit", "Risk changed", "Risk assessed")]
    assert order == sorted(order)


def test_the_page_asks_the_database_the_same_number_of_times_however_long_the_record(worker_client, engine, personas):
    short = a_full_record(worker_client, engine, personas["worker"], contacts=1)
    long = a_full_record(worker_client, engine, personas["worker"], contacts=6)
    worker_client.get(f"/people/{short}")  # warm: the session's user is loaded the same way each time
    with counted(engine) as few:
        assert worker_client.get(f"/people/{short}").status_code == 200
    with counted(engine) as many:
        page = worker_client.get(f"/people/{long}").get_data(as_text=True)
    assert len(re.findall(r"Contact number \d\.", page)) == 6
    assert page.count("PHQ-9: 18 of 27") == 6
    # 15 statements for the five kinds moved onto the registry (as many as before it), one more
    # for the measures card and their timeline entries together, one for the orders card, three
    # for groups (the card's enrolments and keep-apart flags, and the window's attendance marks
    # rather than every session of every group), one for the reports card and theirs, one for the
    # Plan card, one for the allocation history, and one for the case's closes and reopens (its
    # card and its timeline entries together).
    assert len(many) == len(few) <= 24, (len(few), len(many))


def test_a_feature_adds_a_card_through_the_registry_and_a_kind_is_registered_once(app, worker_client, engine):
    from jinja2 import ChoiceLoader, DictLoader

    from app.record import registry

    app.jinja_loader = ChoiceLoader([DictLoader({"test/_card.html": "<div class=card><h2>{{ card.data.title }}</h2></div>"}),
                                     app.jinja_loader])
    record = registry(app)
    record.card("test", "test/_card.html", lambda view: {"title": f"Card for {view.person.name}"}, order=1)
    record.card("empty", "test/_card.html", lambda view: None, order=2)  # nothing to show: no card
    person_id = add_person(worker_client, name="Cass Card")
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert page.count("<div class=card>") == 1 and "Card for Cass Card" in page
    assert page.index("Card for Cass Card") < page.index("<h2>Timeline</h2>")
    with pytest.raises(ValueError):
        record.timeline("contact", lambda view: [], order=99)


def _many_contacts(engine, persona, person_id, count):
    """`count` contacts a day apart, the newest yesterday, written straight to the database (fast)."""
    from datetime import timedelta

    from app.db import unit_of_work
    from app.models import Contact

    now = utcnow()
    with unit_of_work(engine) as session:
        for number in range(count):
            session.add(Contact(team_id=persona.team_id, person_id=person_id, author_id=persona.id,
                                contact_type="face_to_face", happened_at=now - timedelta(days=1 + number),
                                notes=f"Old contact {number:02d}."))


def _earlier_link(page):
    found = re.search(r'href="(/people/\d+\?before=[^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_a_long_timeline_comes_a_page_at_a_time_and_earlier_pages_lose_nothing(worker_client, engine, personas):
    from app.record import TIMELINE_PAGE

    person_id = add_person(worker_client, name="Lena Long")
    _many_contacts(engine, personas["worker"], person_id, TIMELINE_PAGE + 12)
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    # The newest page only: the risk assessment (made now) and the newest contacts, then the link.
    first = re.findall(r"Old contact (\d\d)\.", page)
    assert "Risk assessed" in page and first == [f"{n:02d}" for n in range(TIMELINE_PAGE - 1)]
    link = _earlier_link(page)
    assert link is not None
    # htmx swaps the next page in for the link: just the entries, the rest of the record.
    worker_client.get(f"/people/{person_id}")  # warm, as the first page was
    with counted(engine) as first_statements:
        worker_client.get(f"/people/{person_id}")
    with counted(engine) as statements:
        fragment = worker_client.get(link, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Risk assessed" not in fragment
    assert re.findall(r"Old contact (\d\d)\.", fragment) == [f"{n:02d}" for n in range(TIMELINE_PAGE - 1,
                                                                                     TIMELINE_PAGE + 12)]
    assert _earlier_link(fragment) is None and "autofocus" in fragment
    assert len(statements) <= len(first_statements)
    # Without script the link opens the same page of the timeline on a page of its own.
    whole = worker_client.get(link).get_data(as_text=True)
    assert "Lena Long" in whole and "Old contact 31." in whole and "Old contact 00." not in whole
    # A cursor that is not a moment is the newest page, never an error.
    assert "Old contact 00." in worker_client.get(f"/people/{person_id}?before=soon").get_data(as_text=True)


def test_a_page_of_the_timeline_costs_the_same_however_long_the_record(worker_client, engine, personas):
    short, long = add_person(worker_client, name="Sam Short"), add_person(worker_client, name="Lou Long")
    _many_contacts(engine, personas["worker"], short, 3)
    _many_contacts(engine, personas["worker"], long, 300)
    worker_client.get(f"/people/{short}")
    with counted(engine) as few:
        small = worker_client.get(f"/people/{short}").get_data(as_text=True)
    with counted(engine) as many:
        big = worker_client.get(f"/people/{long}").get_data(as_text=True)
    assert len(few) == len(many)
    # and what is drawn does not grow either: a page of entries, not the whole record
    assert big.count('<li class="card">') <= small.count('<li class="card">') + 20 < 300


def test_the_page_reads_only_what_its_cards_show(worker_client, engine):
    """The Plan card shows no progress notes and the plan's lines no snapshot; charts and rows need
    scores, not each item's answer: none of them is read for the person's page."""
    from tests.test_plans import add_goal, add_step, rows
    from app.models import PlanGoal

    person_id = add_person(worker_client, name="Lean Read")
    assert add_goal(worker_client, person_id).status_code == 303
    goal, = rows(engine, PlanGoal)
    assert add_step(worker_client, goal.id).status_code == 303
    assert log(worker_client, person_id=str(person_id), worked_on=str(goal.id)).status_code == 303  # a progress note
    assert take(worker_client, person_id).status_code == 303
    worker_client.get(f"/people/{person_id}")
    with counted(engine) as statements:
        page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Fill in the housing form" in page and "PHQ-9: 18 of 27" in page and "Plan started" in page
    read = " ".join(statements)
    assert "goal_note" not in read and "plan_version.snapshot" not in read and "measure_response.answers" not in read
