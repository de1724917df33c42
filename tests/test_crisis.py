"""The Crisis alarm over real HTTP: top level at once, location, visit, silent mode, access."""
from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Delivery, SafetyEvent, Team
from app.models.types import utcnow
from tests.test_safety_web import running, start_visit

HERE = {"latitude": "51.50100", "longitude": "-0.12300", "accuracy": "15"}


def alarm(client, headers=None, **data):
    return client.post("/crisis/alarm", data={"csrf_token": client.csrf_token(), **data}, headers=headers or {})


def alerts(engine):
    with unit_of_work(engine) as session:
        return session.exec(select(Alert)).all()


def test_the_crisis_alarm_starts_at_the_top_with_location_visit_and_notes(worker_client, supervisor_client, engine,
                                                                           personas):
    start_visit(worker_client, sealed_notes="Two men, red van")
    visit = running(engine, personas["worker"])
    made_at = (utcnow() - timedelta(seconds=5)).isoformat()
    answer = alarm(worker_client, made_at=made_at, **HERE)
    [alert] = alerts(engine)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/crisis/alarms/{alert.id}"
    assert (alert.kind, alert.level, alert.state, alert.visit_id) == ("panic", 3, "open", visit.id)
    assert (alert.latitude, alert.longitude) == (51.501, -0.123)
    with unit_of_work(engine) as session:
        recipients = {d.recipient_id for d in session.exec(select(Delivery)
                                                            .where(Delivery.event_ref.like(f"alert:{alert.id}:%")))}
        pressed = session.exec(select(SafetyEvent).where(SafetyEvent.kind == "crisis_pressed")).one()
    assert personas["supervisor"].id in recipients and personas["worker"].id not in recipients
    assert pressed.made_at is not None and pressed.latitude == 51.501
    board = supervisor_client.get("/board", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Crisis button: Wren Walker" in board and "At 51.50100, -0.12300" in board
    card = supervisor_client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "Two men, red van" in card and "Crisis button held" in card
    assert "Crisis button, level 3 of 3" in card and "panic" not in card

    status = worker_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Help has been alerted" in status and "Nobody has responded yet" in status and 'href="tel:999"' in status
    assert "with your visit&#39;s details, with your location from" in status
    assert "It is on its way to 1 person." in status  # the supervisor: the worker is never sent their own
    supervisor_client.post_form(f"/alerts/{alert.id}/acknowledge", page=f"/alerts/{alert.id}")
    status = worker_client.get(answer.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Sade Super" in status and "is responding" in status and "<html" not in status


def test_holding_again_adds_the_new_location_to_the_same_alarm(worker_client, engine):
    alarm(worker_client, **HERE)
    answer = alarm(worker_client, latitude="51.6", longitude="-0.2", headers={"Accept": "application/json"})
    [alert] = alerts(engine)
    assert answer.status_code == 201 and answer.json == {"sent": True, "next": f"/crisis/alarms/{alert.id}"}
    assert (alert.latitude, alert.longitude) == (51.6, -0.2)
    with unit_of_work(engine) as session:
        assert session.exec(select(SafetyEvent).where(SafetyEvent.kind == "crisis_again")).one().latitude == 51.6


def test_an_alarm_with_no_or_a_bad_location_still_goes_and_says_no_location_was_sent(worker_client, engine):
    answer = alarm(worker_client, latitude="999", longitude="abc")
    assert answer.status_code == 303
    [alert] = alerts(engine)
    assert alert.kind == "panic" and alert.latitude is None
    status = worker_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Your location was not sent: your phone did not give it." in status
    assert "with your location" not in status and "visit&#39;s details" not in status


def test_a_replayed_alarm_is_one_alarm(worker_client, engine):
    for _ in range(3):
        assert alarm(worker_client, headers={"Idempotency-Key": "crisis-1"}, made_at="", **HERE).status_code == 303
    assert len(alerts(engine)) == 1


def test_silent_mode_shows_a_neutral_page_and_tells_the_worker_nothing(worker_client, supervisor_client, engine,
                                                                       personas):
    with unit_of_work(engine) as session:
        session.get(Team, personas["worker"].team_id).silent_crisis = True
    answer = alarm(worker_client, **HERE)
    [alert] = alerts(engine)
    assert answer.headers["Location"] == "/"
    assert worker_client.get(f"/crisis/alarms/{alert.id}").headers["Location"] == "/"
    supervisor_client.post_form(f"/alerts/{alert.id}/acknowledge", page=f"/alerts/{alert.id}")
    with unit_of_work(engine) as session:
        to_worker = session.exec(select(Delivery).where(Delivery.recipient_id == personas["worker"].id)).all()
    assert to_worker == []


def test_the_team_sets_silent_mode(supervisor_client, engine, personas):
    response = supervisor_client.post_form("/team/settings", {
        "duty_supervisor_id": "", "duty_phone": "07700900100", "grace_seconds": "300", "escalation_seconds": "300",
        "min_visit_minutes": "5", "max_visit_minutes": "240", "pin_policy": "optional", "silent_crisis": "y"})
    assert response.status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(Team, personas["supervisor"].team_id).silent_crisis is True


def test_nobody_else_sees_an_alarm_and_a_worker_never_sees_a_duress_one(app, worker_client, engine, personas):
    from tests.conftest import _signed_in
    worker2_client = _signed_in(app, personas["worker2"])
    other_supervisor_client = _signed_in(app, personas["other_supervisor"])
    alarm(worker_client, **HERE)
    [alert] = alerts(engine)
    assert worker2_client.get(f"/crisis/alarms/{alert.id}").status_code == 404
    assert other_supervisor_client.get(f"/alerts/{alert.id}").status_code == 404
    assert other_supervisor_client.post_form(f"/alerts/{alert.id}/acknowledge",
                                             page="/").status_code == 404
    with unit_of_work(engine) as session:
        alert = session.get(Alert, alert.id)
        alert.kind = "duress"
    assert worker_client.get(f"/crisis/alarms/{alert.id}").status_code == 404


def _visit_bar(client) -> str:
    html = client.get("/contacts/new").get_data(as_text=True)
    start = html.index('<section class="visit-bar')
    return html[start:html.index("</section>", start)]


def test_after_a_crisis_alarm_the_visit_bar_says_so_in_words_and_colour(worker_client, supervisor_client, engine):
    start_visit(worker_client)
    assert 'class="tag tag--ok" data-visit-status>OK<' in _visit_bar(worker_client)
    alarm(worker_client, **HERE)
    [alert] = alerts(engine)
    bar = _visit_bar(worker_client)
    assert 'visit-bar--danger' in bar and 'tag tag--danger" data-visit-status>Crisis alarm sent<' in bar
    assert ">OK<" not in bar and f'href="/crisis/alarms/{alert.id}"' in bar
    supervisor_client.post_form(f"/alerts/{alert.id}/acknowledge", page=f"/alerts/{alert.id}")
    assert 'data-visit-status>Help coming<' in _visit_bar(worker_client)  # short: one line at 360 px
    supervisor_client.post_form(f"/alerts/{alert.id}/resolve", {"outcome": "false_alarm", "note": ""},
                                page=f"/alerts/{alert.id}")
    assert ">OK<" in _visit_bar(worker_client)


def test_a_silent_teams_visit_bar_gives_nothing_away(worker_client, engine, personas):
    with unit_of_work(engine) as session:
        session.get(Team, personas["worker"].team_id).silent_crisis = True
    start_visit(worker_client)
    before = _visit_bar(worker_client)
    alarm(worker_client, **HERE)
    bar = _visit_bar(worker_client)
    assert "Crisis" not in bar and "/crisis/alarms/" not in bar and bar.count("tag--ok") == before.count("tag--ok")


def test_the_board_never_shows_a_visit_with_a_crisis_alarm_as_ok(worker_client, supervisor_client):
    start_visit(worker_client, place="Hope House, room 12")
    board = supervisor_client.get("/board", headers={"HX-Request": "true"}).get_data(as_text=True)
    visit_row = board[board.rindex("<li", 0, board.index("<span>Hope House, room 12")):]
    assert ">OK<" in visit_row
    alarm(worker_client, **HERE)
    board = supervisor_client.get("/board", headers={"HX-Request": "true"}).get_data(as_text=True)
    visit_row = board[board.rindex("<li", 0, board.index("<span>Hope House, room 12")):]
    assert ">OK<" not in visit_row and ">Alert<" in visit_row


def test_the_board_puts_a_crisis_above_a_later_missed_check_in(supervisor_client, engine, personas):
    now = utcnow()
    with unit_of_work(engine) as session:
        team_id = personas["worker"].team_id
        session.add(Alert(team_id=team_id, worker_id=personas["worker"].id, kind="panic", level=3,
                          raised_at=now - timedelta(minutes=4)))
        session.add(Alert(team_id=team_id, worker_id=personas["worker2"].id, kind="missed_check_in", level=2,
                          raised_at=now - timedelta(minutes=1)))
    board = supervisor_client.get("/board").get_data(as_text=True)
    assert board.index("Crisis button: Wren Walker") < board.index("Missed check-in: Ola Other")


def test_an_alarm_nobody_could_be_sent_says_so(worker_client, engine, personas):
    with unit_of_work(engine) as session:
        alert = Alert(team_id=personas["worker"].team_id, worker_id=personas["worker"].id, kind="panic", level=3)
        session.add(alert)
        session.flush()
        alert_id = alert.id
    page = worker_client.get(f"/crisis/alarms/{alert_id}").get_data(as_text=True)
    assert "<h1>No phone could be alerted</h1>" in page and "Call 999 or your duty phone now." in page
    assert "It is on your team&#39;s board" in page  # true: the supervisors' board lists it
    assert "Help has been alerted" not in page and "being alerted again" not in page
    with unit_of_work(engine) as session:
        team = session.get(Team, personas["worker"].team_id)
        team.duty_phone = "07700900123"
        session.get(Alert, alert_id).acknowledged_by_id = personas["supervisor"].id
    # Answered from the board: the heading says so at the next refresh, and the duty phone is a call away.
    fragment = worker_client.get(f"/crisis/alarms/{alert_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<h1>Someone is responding</h1>" in fragment and "No phone could be alerted" not in fragment
    assert "notice--error" not in fragment
    page = worker_client.get(f"/crisis/alarms/{alert_id}").get_data(as_text=True)
    assert 'href="tel:07700900123"' in page


def test_an_alarm_whose_every_send_failed_is_not_on_its_way(worker_client, engine, personas):
    """Failed rows, and the worker's own "help is coming", reach no responder."""
    alarm(worker_client, **HERE)
    [alert] = alerts(engine)
    with unit_of_work(engine) as session:
        for row in session.exec(select(Delivery).where(Delivery.event_ref.like(f"alert:{alert.id}:%"))).all():
            if row.recipient_id != personas["worker"].id:
                row.status = "failed"
    page = worker_client.get(f"/crisis/alarms/{alert.id}").get_data(as_text=True)
    assert "<h1>No phone could be alerted</h1>" in page and "on its way" not in page
