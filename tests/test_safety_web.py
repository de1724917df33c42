"""Visits and alerts over real HTTP: forms, duress, access, audit."""
import re
from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, AuditEvent, Team, User, Visit
from app.models.types import utcnow
from app.services import escalation, safety


def start_visit(client, **data):
    form = {"place": "14 Example Road", "minutes": "30", "sealed_notes": "Two men, red van", **data}
    return client.post_form("/visits/new", form)


def running(engine, persona):
    with unit_of_work(engine) as session:
        return safety.running_visit(session, persona.id)


def test_start_visit_shows_the_timer_and_primary_buttons_on_every_page(worker_client, engine, personas):
    response = start_visit(worker_client, latitude="51.5", longitude="-0.12", accuracy="12")
    assert response.status_code == 303
    visit = running(engine, personas["worker"])
    assert visit.place == "14 Example Road" and visit.latitude == 51.5
    for page in ("/", "/settings/notifications", "/crisis"):
        html = worker_client.get(page).get_data(as_text=True)
        assert "I'm safe" in html and "Extend +15" in html and "End visit" in html
        assert "Check in by" in html and 'data-deadline="' in html


def test_start_visit_errors_keep_what_was_typed(worker_client):
    response = start_visit(worker_client, place="Stairwell B, Hope House", minutes="custom", custom_minutes="",
                           sealed_notes="Dog in the flat")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose how long the visit will take." in html
    assert 'value="Stairwell B, Hope House"' in html and "Dog in the flat" in html


def test_the_teams_limits_apply(worker_client, engine, personas):
    with unit_of_work(engine) as session:
        session.get(Team, personas["worker"].team_id).max_visit_minutes = 60
    response = start_visit(worker_client, minutes="90")
    assert response.status_code == 422
    assert "Your team allows visits from 5 to 60 minutes." in response.get_data(as_text=True)


def _page_text(client):
    html = client.get("/").get_data(as_text=True)
    # Tokens, the exact deadline instant, the visit's own id and the user's id differ between any
    # two workers' visits.
    html = re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"|data-deadline="[^"]*"|/visits/\d+|data-user="\d+"', "", html)
    return html


def test_duress_check_in_looks_exactly_like_a_normal_one(app, engine, personas):
    """Two workers on identical visits; one uses the normal PIN, the other the duress PIN."""
    from tests.conftest import _signed_in

    with unit_of_work(engine) as session:
        for key in ("worker", "worker2"):
            safety.set_pins(session.get(User, personas[key].id), pin="1234", duress_pin="9876")
        session.get(User, personas["worker2"].id).name = personas["worker"].name  # same page text
    clients = {key: _signed_in(app, personas[key]) for key in ("worker", "worker2")}
    for client in clients.values():
        start_visit(client, minutes="60", every_minutes="30")
    answers = {}
    for key, pin in (("worker", "1234"), ("worker2", "9876")):
        visit = running(engine, personas[key])
        response = clients[key].post_form(f"/visits/{visit.id}/check-in", {"pin": pin}, page="/")
        answers[key] = (response.status_code, response.headers["Location"], _page_text(clients[key]))
    assert answers["worker"] == answers["worker2"]
    assert "Checked in. Next check-in by" in answers["worker"][2]
    with unit_of_work(engine) as session:
        [alert] = session.exec(select(Alert)).all()
    assert alert.kind == "duress" and alert.worker_id == personas["worker2"].id and alert.level == 3
    # Nothing on the worker's own pages gives it away, and the alert itself is hidden from them.
    # (The Crisis button's hidden no-signal panel is on every page of every worker.)
    page = re.sub(r'<div class="crisis-panel".*?</div>', "", answers["worker2"][2], flags=re.S)
    assert "alert" not in page.lower().replace("alerts", "")
    assert clients["worker2"].get(f"/alerts/{alert.id}").status_code == 404
    visit = running(engine, personas["worker2"])
    own_page = clients["worker2"].get(f"/visits/{visit.id}").get_data(as_text=True)
    own_page = re.sub(r'<div class="crisis-panel".*?</div>', "", own_page, flags=re.S)
    assert "Checked in" in own_page and "alert" not in own_page.lower() and "duress" not in own_page.lower()


def test_wrong_pin_is_refused_without_checking_in(worker_client, engine, personas):
    with unit_of_work(engine) as session:
        safety.set_pins(session.get(User, personas["worker"].id), pin="1234", duress_pin=None)
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    response = worker_client.post_form(f"/visits/{visit.id}/check-in", {"pin": "1111"}, page="/")
    assert response.status_code == 303
    assert "That PIN isn&#39;t right" in worker_client.get(response.headers["Location"]).get_data(as_text=True)
    assert running(engine, personas["worker"]).last_check_in_at is None


def test_extend_and_end(worker_client, engine, personas):
    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    response = worker_client.post_form(f"/visits/{visit.id}/extend", {"minutes": "15"}, page="/")
    assert response.status_code == 303
    assert running(engine, personas["worker"]).due_at - visit.due_at == timedelta(minutes=15)
    made_at = (utcnow() - timedelta(minutes=3)).isoformat()
    worker_client.post_form(f"/visits/{visit.id}/end", {"made_at": made_at}, page=f"/visits/{visit.id}")
    assert running(engine, personas["worker"]) is None
    assert "Visit ended. Stay safe." in worker_client.get("/").get_data(as_text=True)


def test_other_people_cannot_touch_a_visit_or_see_an_alert(worker_client, other_worker_client, app, engine, personas):
    from tests.conftest import _signed_in

    start_visit(worker_client)
    visit = running(engine, personas["worker"])
    for path in (f"/visits/{visit.id}/check-in", f"/visits/{visit.id}/extend", f"/visits/{visit.id}/end"):
        assert other_worker_client.post_form(path, {"minutes": "15"}, page="/").status_code == 404
    assert other_worker_client.get(f"/visits/{visit.id}").status_code == 404
    with unit_of_work(engine) as session:
        session.get(Visit, visit.id).overdue_at = utcnow() - timedelta(seconds=1)
    escalation.detect(engine, utcnow())
    with unit_of_work(engine) as session:
        alert = session.exec(select(Alert)).one()
    other_supervisor = _signed_in(app, personas["other_supervisor"])
    for client in (other_worker_client, other_supervisor):
        assert client.get(f"/alerts/{alert.id}").status_code == 404
        assert client.post_form(f"/alerts/{alert.id}/acknowledge", {}, page="/").status_code == 404
    assert worker_client.get("/board").status_code == 404
    assert worker_client.get("/team/settings").status_code == 404


def test_alert_page_unseals_the_notes_and_audits_it(supervisor_client, worker_client, engine, personas):
    start_visit(worker_client, latitude="51.5", longitude="-0.12")
    visit = running(engine, personas["worker"])
    with unit_of_work(engine) as session:
        session.get(Visit, visit.id).overdue_at = utcnow() - timedelta(seconds=1)
    escalation.detect(engine, utcnow())
    with unit_of_work(engine) as session:
        alert = session.exec(select(Alert)).one()
    board = supervisor_client.get("/board", headers={"HX-Request": "true"})
    assert board.headers["Vary"] == "Cookie, HX-Request" or "HX-Request" in board.headers["Vary"]
    assert "<html" not in board.get_data(as_text=True)
    assert "Missed check-in: Wren Walker" in board.get_data(as_text=True)
    with unit_of_work(engine) as session:
        for _ in range(3):
            safety.escalate(session, session.get(Alert, alert.id), now=utcnow())
    page = supervisor_client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "Two men, red van" in page and "openstreetmap.org/?mlat=51.500000&amp;mlon=-0.120000" in page
    # The timeline in words: never the codes it is stored with.
    assert "Missed check-in, level 1 of 3" in page and "to level 3 of 3, sent again (1)" in page
    assert "missed_check_in" not in page and "repeat 1" not in page
    assert 'href="tel:999"' in page
    with unit_of_work(engine) as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.actor_id == personas["supervisor"].id)).all()
    assert "visit.unseal" in actions and "alert.view" in actions
    # The service worker's acknowledge: same endpoint, JSON answer.
    ack = supervisor_client.post(f"/alerts/{alert.id}/acknowledge",
                                 headers={"X-CSRFToken": supervisor_client.csrf_token(), "Accept": "application/json"})
    assert ack.json == {"acknowledged": True, "first": True}
    # An incident needs a note; nothing chosen needs a choice: the page again, what was typed kept.
    no_note = supervisor_client.post_form(f"/alerts/{alert.id}/resolve", {"outcome": "incident"},
                                          page=f"/alerts/{alert.id}")
    html = no_note.get_data(as_text=True)
    assert 'aria-describedby="note-error note-hint"' in html  # what to fix, then the advice
    assert no_note.status_code == 422 and 'id="note-error"' in html and re.search(r'<input checked [^>]*value="incident"', html)
    no_choice = supervisor_client.post_form(f"/alerts/{alert.id}/resolve", {"note": "Rang her, she was on the bus."},
                                            page=f"/alerts/{alert.id}")
    html = no_choice.get_data(as_text=True)
    assert no_choice.status_code == 422 and "Choose what happened." in html and "Rang her, she was on the bus." in html
    with unit_of_work(engine) as session:
        assert session.get(Alert, alert.id).state == "acknowledged"
    resolved = supervisor_client.post_form(f"/alerts/{alert.id}/resolve", {"outcome": "false_alarm"},
                                           page=f"/alerts/{alert.id}")
    assert resolved.status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(Alert, alert.id).state == "resolved"


def test_supervisor_sets_the_duty_supervisor_and_pin_policy(supervisor_client, engine, personas):
    response = supervisor_client.post_form("/team/settings", {
        "duty_supervisor_id": str(personas["supervisor"].id), "duty_phone": "07700900100", "grace_seconds": "60",
        "escalation_seconds": "60", "min_visit_minutes": "1", "max_visit_minutes": "240", "pin_policy": "required",
    })
    assert response.status_code == 303
    with unit_of_work(engine) as session:
        team = session.get(Team, personas["supervisor"].team_id)
    assert (team.duty_supervisor_id, team.pin_policy, team.grace_seconds) == (personas["supervisor"].id, "required", 60)
    bad = supervisor_client.post_form("/team/settings", {
        "duty_supervisor_id": str(personas["other_supervisor"].id), "grace_seconds": "60", "escalation_seconds": "60",
        "min_visit_minutes": "1", "max_visit_minutes": "240", "pin_policy": "required"})
    assert bad.status_code == 422


def test_safety_settings_set_pins_buddy_and_description(worker_client, engine, personas):
    bad = worker_client.post_form("/settings/safety", {"pin": "1234", "duress_pin": "1234", "buddy_id": ""})
    assert bad.status_code == 422 and "must be different" in bad.get_data(as_text=True)
    foreign = worker_client.post_form("/settings/safety", {"buddy_id": str(personas["other_worker"].id)})
    assert foreign.status_code == 422
    ok = worker_client.post_form("/settings/safety", {"pin": "1234", "duress_pin": "9876",
                                                      "buddy_id": str(personas["worker2"].id),
                                                      "description": "Green coat, red rucksack"})
    assert ok.status_code == 303
    with unit_of_work(engine) as session:
        user = session.get(User, personas["worker"].id)
    assert user.pin_hash.startswith("$argon2") and user.duress_pin_hash and user.buddy_id == personas["worker2"].id


def test_a_visit_to_a_person_puts_their_flags_on_the_emergency_card(worker_client, supervisor_client,
                                                                     other_worker_client, engine, personas):
    from tests.test_caseload import add_person
    person_id = add_person(worker_client, name="Kit Example", risk_level="very_high", flags=["not_alone", "dog"],
                           address="Flat 9, Lock Street")
    form = worker_client.get(f"/visits/new?person={person_id}").get_data(as_text=True)
    assert "their record says do not visit alone and their risk is Very high" in form
    assert 'value="Flat 9, Lock Street"' in form and f'<option selected value="{person_id}">' in form
    # Another team cannot start a visit to (or learn about) this person.
    assert other_worker_client.get(f"/visits/new?person={person_id}").status_code == 404
    assert start_visit(other_worker_client, person_id=str(person_id), place="").status_code == 404
    # Left empty, the place is the person's address.
    assert start_visit(worker_client, person_id=str(person_id), place="").status_code == 303
    visit = running(engine, personas["worker"])
    assert visit.person_id == person_id and visit.place == "Flat 9, Lock Street"
    with unit_of_work(engine) as session:
        session.get(Visit, visit.id).overdue_at = utcnow() - timedelta(seconds=1)
    escalation.detect(engine, utcnow())
    with unit_of_work(engine) as session:
        alert = session.exec(select(Alert)).one()
    card = supervisor_client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    card = card[card.index("Emergency action card"):card.index("Timeline")]
    assert "Kit Example" in card and "Risk: Very high" in card
    assert "Do not visit alone" in card and "Aggressive dog" in card
    # The visit is on the person's timeline, without the sealed notes.
    timeline = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Timed visit" in timeline and "overdue — alert raised" in timeline and "Two men, red van" not in timeline


def test_an_other_length_typed_beside_a_chip_is_never_silently_ignored(worker_client, engine, personas):
    response = start_visit(worker_client, minutes="30", custom_minutes="45")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and running(engine, personas["worker"]) is None
    assert "You typed 45 minutes but chose 30 min: choose Other to use 45 minutes, or clear this box." in html
    assert 'value="45"' in html
    assert start_visit(worker_client, minutes="custom", custom_minutes="45").status_code == 303
    visit = running(engine, personas["worker"])
    assert visit.planned_end_at - visit.started_at == timedelta(minutes=45)


def test_every_refused_form_lists_its_problems_as_links_to_the_fields(worker_client, admin_client, personas):
    html = worker_client.post_form("/contacts/new", {"notes": "Talked on the landing.", "contact_type": "face_to_face"},
                                   page="/contacts/new").get_data(as_text=True)
    assert "There is a problem" in html and "Please correct the highlighted fields" not in html
    assert '<a href="#person_id">Who — ' in html
    html = admin_client.post_form("/admin/users/new", {"name": "Typed Name", "email": personas["worker"].email,
                                                       "role": "worker", "team_id": "", "password": "short"}
                                  ).get_data(as_text=True)
    assert '<a href="#email">Email' in html and "Someone already uses this email address." in html
