"""Leave and cover: who stands in, and the alarm, the rota and reminders following it."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, Delivery, Leave, User
from app.models.types import utcnow
from app.services import appointment_reminders, leave, push_subscriptions, rota, safety
from tests.peers import LOCAL_PUSH
from tests.test_appointments import make
from tests.test_caseload import add_person
from tests.test_rota import counted
from tests.test_safety_engine import receiver, set_team, start  # noqa: F401 (fixture)

LONDON = ZoneInfo("Europe/London")


def away(engine, persona, cover, starts_on, ends_on, by=None):
    with unit_of_work(engine) as session:
        return leave.add_leave(session, persona.team_id, session.get(User, (by or persona).id), user_id=persona.id,
                               cover_id=cover.id, starts_on=starts_on, ends_on=ends_on, zone=LONDON,
                               now=datetime(2026, 1, 1, tzinfo=LONDON)).id


def test_who_stands_in_follows_covers_who_are_away_too_in_one_query(engine, personas):
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    away(engine, worker, worker2, date(2026, 12, 7), date(2026, 12, 11))
    away(engine, worker2, supervisor, date(2026, 12, 9), date(2026, 12, 9))
    monday, wednesday = datetime(2026, 12, 7, 12, tzinfo=LONDON), datetime(2026, 12, 9, 23, 59, tzinfo=LONDON)
    with unit_of_work(engine) as session, counted(engine) as statements:
        assert leave.stand_in_ids(session, [worker.id, supervisor.id], monday) == {worker.id: worker2.id}
    assert len(statements) == 1
    with unit_of_work(engine) as session:
        assert leave.stand_in_ids(session, [worker.id], wednesday) == {worker.id: supervisor.id}  # cover away too
        assert leave.stand_in_ids(session, [worker.id], datetime(2026, 12, 12, tzinfo=LONDON)) == {}  # back
        assert leave.standing_in(session, worker.id, datetime(2026, 12, 6, 23, 59, tzinfo=LONDON)) == worker.id
    away(engine, supervisor, worker, date(2026, 12, 9), date(2026, 12, 9), by=supervisor)
    with unit_of_work(engine) as session:  # round in a circle: nobody can stand in
        assert leave.stand_in_ids(session, [worker.id], wednesday) == {worker.id: None}


def test_leave_is_refused_with_what_to_fix(engine, personas):
    with unit_of_work(engine) as session:
        actor = session.get(User, personas["supervisor"].id)
        with pytest.raises(leave.ValidationError) as refused:
            leave.add_leave(session, actor.team_id, actor, user_id=personas["worker"].id,
                            cover_id=personas["other_worker"].id, starts_on=date(2026, 12, 9),
                            ends_on=date(2026, 12, 8), zone=LONDON, now=utcnow())
    assert set(refused.value.errors) == {"cover_id", "ends_on"}


def test_a_buddy_or_duty_supervisor_away_has_their_alerts_go_to_the_cover(engine, personas):
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    now = utcnow()
    today = now.astimezone(LONDON).date()
    with unit_of_work(engine) as session:
        session.get(User, worker.id).buddy_id = worker2.id
    buddy_away = away(engine, worker2, supervisor, today, today + timedelta(days=2))
    start(engine, worker, minutes=30, ago=timedelta(minutes=40))
    with unit_of_work(engine) as session:
        alert = safety.miss(session, session.exec(select(safety.Visit)).one(), now=now)
        assert alert.buddy_id == supervisor.id
        assert [p.id for p in safety.responders(session, alert, 1)] == [supervisor.id]  # not the buddy away

    # The rota's duty supervisor goes on leave: whoever covers gets the team's alerts.
    with unit_of_work(engine) as session:
        session.get(User, worker2.id).role = "supervisor"
        leave.remove_leave(session, worker.team_id, session.get(User, supervisor.id), buddy_away, now=now)
    set_team(engine, worker.team_id, duty_supervisor_id=supervisor.id)
    away(engine, supervisor, worker2, today, today, by=supervisor)
    with unit_of_work(engine) as session:
        assert rota.duty_supervisor_ids(session, [worker.team_id], now) == {worker.team_id: worker2.id}


def test_reminders_of_someone_away_go_to_their_cover(engine, personas, worker_client, receiver):  # noqa: F811
    with unit_of_work(engine) as session:
        for key in ("worker", "worker2"):
            push_subscriptions.register(session, session.get(User, personas[key].id), receiver.subscription(key),
                                        rule=LOCAL_PUSH, user_agent=None, now=utcnow())
    make(worker_client, add_person(worker_client), starts_local="2026-11-24T10:00")
    away(engine, personas["worker"], personas["worker2"], date(2026, 11, 23), date(2026, 11, 24))
    appointment_reminders.ReminderJob(LONDON, every=timedelta(0))(engine, datetime(2026, 11, 23, 18, 0, tzinfo=LONDON))
    with unit_of_work(engine) as session:
        told = {d.recipient_id for d in session.exec(select(Delivery).where(Delivery.kind == "reminder"))}
    assert told == {personas["worker2"].id}


def test_supervisors_mark_leave_on_the_team_page(supervisor_client, worker_client, engine, personas):
    refused = supervisor_client.post_form("/team/leave", {"user_id": str(personas["worker"].id), "starts_on": "2026-12-07",
                                                          "ends_on": "", "cover_id": ""})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Enter the last day away." in body and 'value="2026-12-07"' in body
    added = supervisor_client.post_form("/team/leave", {"user_id": str(personas["worker"].id), "starts_on": "2030-12-07",
                                                        "ends_on": "2030-12-11", "cover_id": str(personas["worker2"].id)})
    assert added.status_code == 303
    page = supervisor_client.get("/team/leave").get_data(as_text=True)
    assert "Wren Walker</strong>, Sat 7 Dec 2030 to Wed 11 Dec 2030. Cover: Ola Other" in page
    assert worker_client.get("/team/leave").status_code == 404
    with unit_of_work(engine) as session:
        leave_id = session.exec(select(Leave.id)).one()
        assert session.exec(select(AuditEvent.action).where(AuditEvent.action == "leave.add")).all() == ["leave.add"]
    assert supervisor_client.post_form(f"/team/leave/{leave_id}/remove", {}, page="/team/leave").status_code == 303
    assert "Nobody is away" in supervisor_client.get("/team/leave").get_data(as_text=True)
