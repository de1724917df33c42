"""The duty rota and the alarm that follows it: the rules as service functions with a real
database, the rota page, the board's warning, and one shift change through the real worker loop."""
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Delivery, RotaChange, RotaShift, SafetyEvent, Team, User
from app.models.types import utcnow
from app.services import push_subscriptions, rota, rota_handover, safety
from app.worker import Worker
from tests.peers import LOCAL_PUSH
from tests.test_safety_engine import receiver, set_team, start, wait_for  # noqa: F401 (fixture)

LONDON = "Europe/London"


def shift(weekday, starts, ends, supervisor_id=1, id=1, zone=LONDON):
    return RotaShift(id=id, team_id=1, supervisor_id=supervisor_id, weekday=weekday, starts_minute=starts,
                     ends_minute=ends, zone=zone, created_by_id=1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# Wednesday 1 July 2026 is in British Summer Time (UTC+1); Wednesday 2 December in GMT.
@pytest.mark.parametrize("rule, at, covered", [
    (shift(2, 9 * 60, 17 * 60), utc(2026, 7, 1, 8, 0), True),          # 09:00 BST, the first minute
    (shift(2, 9 * 60, 17 * 60), utc(2026, 7, 1, 7, 59), False),        # 08:59 BST
    (shift(2, 9 * 60, 17 * 60), utc(2026, 7, 1, 16, 0), False),        # 17:00 BST: the end is not in it
    (shift(2, 9 * 60, 17 * 60), utc(2026, 12, 2, 9, 0), True),         # 09:00 GMT: wall-clock time
    (shift(2, 9 * 60, 17 * 60), utc(2026, 12, 2, 8, 30), False),
    (shift(2, 22 * 60, 6 * 60), utc(2026, 12, 3, 5, 59), True),        # overnight, into Thursday
    (shift(2, 22 * 60, 6 * 60), utc(2026, 12, 3, 6, 0), False),
    (shift(2, 22 * 60, 6 * 60), utc(2026, 12, 2, 5, 0), False),        # Wednesday's early hours belong to Tuesday's
    (shift(2, 0, 0), utc(2026, 12, 2, 23, 59), True),                 # equal ends: the whole day
    (shift(2, 0, 0), utc(2026, 12, 3, 0, 0), False),
])
def test_a_weekly_shift_covers_its_wall_clock_hours(rule, at, covered):
    assert (rota.shift_start_covering(rule, at) is not None) is covered


def test_a_change_beats_the_weekly_shift_and_nothing_falls_to_the_fallback():
    day = shift(2, 9 * 60, 17 * 60, supervisor_id=10, id=1)
    late = shift(2, 12 * 60, 20 * 60, supervisor_id=11, id=2)
    change = RotaChange(id=1, team_id=1, supervisor_id=12, starts_at=utc(2026, 12, 2, 13), ends_at=utc(2026, 12, 2, 14),
                        created_at=utc(2026, 11, 1), created_by_id=1)
    team_rota = rota.TeamRota(99, [day, late], [change])
    assert rota.on_duty(team_rota, utc(2026, 12, 2, 10)) == rota.Cover(10, "shift")
    assert rota.on_duty(team_rota, utc(2026, 12, 2, 12, 30)) == rota.Cover(11, "shift")  # the later start wins
    assert rota.on_duty(team_rota, utc(2026, 12, 2, 13, 30)) == rota.Cover(12, "change")
    assert rota.on_duty(team_rota, utc(2026, 12, 2, 21)) == rota.Cover(99, "fallback")
    runs = [(s.starts_at.hour, s.ends_at.hour, s.cover.supervisor_id)
            for s in rota.segments(team_rota, utc(2026, 12, 2, 0), utc(2026, 12, 3, 0))]
    assert runs == [(0, 9, 99), (9, 12, 10), (12, 13, 11), (13, 14, 12), (14, 20, 11), (20, 0, 99)]


@contextmanager
def counted(engine):
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def add_shift(engine, team_id, supervisor_id, weekdays=range(7), starts=time(0), ends=time(0)):
    with unit_of_work(engine) as session:
        team, actor = session.get(Team, team_id), session.get(User, supervisor_id)
        rota.add_shifts(session, team, actor, supervisor_id=supervisor_id, weekdays=list(weekdays), starts=starts,
                        ends=ends, zone=LONDON, now=utcnow())


def add_change(engine, team_id, supervisor_id, starts_at, ends_at):
    with unit_of_work(engine) as session:
        return rota.add_change(session, session.get(Team, team_id), session.get(User, supervisor_id),
                               supervisor_id=supervisor_id, starts_at=starts_at, ends_at=ends_at,
                               now=starts_at - timedelta(seconds=1)).id


def test_duty_supervisors_of_many_teams_in_two_queries(engine, personas):
    team_a, team_b = personas["supervisor"].team_id, personas["other_supervisor"].team_id
    set_team(engine, team_b, duty_supervisor_id=personas["other_supervisor"].id)
    add_shift(engine, team_a, personas["supervisor"].id)
    now = utcnow()
    with unit_of_work(engine) as session, counted(engine) as statements:
        found = rota.covers(session, [team_a, team_b], now)
    assert found == {team_a: rota.Cover(personas["supervisor"].id, "shift"),
                     team_b: rota.Cover(personas["other_supervisor"].id, "fallback")}
    assert len(statements) == 2
    with unit_of_work(engine) as session:  # someone who stopped being a supervisor is passed over
        session.get(User, personas["supervisor"].id).role = "worker"
    with unit_of_work(engine) as session:
        assert rota.duty_supervisor_ids(session, [team_a], now) == {team_a: None}


def test_rota_edits_are_refused_for_someone_not_a_supervisor_of_the_team(engine, personas):
    with unit_of_work(engine) as session:
        team, actor = session.get(Team, personas["supervisor"].team_id), session.get(User, personas["supervisor"].id)
        with pytest.raises(rota.ValidationError) as refused:
            rota.add_shifts(session, team, actor, supervisor_id=personas["other_supervisor"].id, weekdays=[],
                            starts=None, ends=time(17), zone=LONDON, now=utcnow())
        assert set(refused.value.errors) == {"supervisor_id", "weekdays", "starts"}
        with pytest.raises(rota.ValidationError) as refused:
            rota.add_change(session, team, actor, supervisor_id=actor.id, starts_at=utcnow(),
                            ends_at=utcnow() - timedelta(hours=1), now=utcnow())
        assert "ends_at" in refused.value.errors


def test_gaps_in_the_next_week_are_the_hours_no_shift_covers(engine, personas):
    team_id = personas["supervisor"].team_id
    monday = datetime(2026, 12, 7, tzinfo=ZoneInfo(LONDON))
    with unit_of_work(engine) as session:
        assert rota.gaps(session, team_id, monday, monday + timedelta(days=7)) == []  # no rota kept: no gaps
    add_shift(engine, team_id, personas["supervisor"].id, weekdays=range(5), starts=time(8), ends=time(20))
    with unit_of_work(engine) as session:
        gaps = rota.gaps(session, team_id, monday.astimezone(UTC), (monday + timedelta(days=7)).astimezone(UTC))
    # By hand: the nights Monday to Thursday (12 h each), Monday's early hours, and Friday 20:00 to Monday.
    hours = [(g.ends_at - g.starts_at).total_seconds() / 3600 for g in gaps]
    assert hours == [8, 12, 12, 12, 12, 52]
    assert sum(hours) == 7 * 24 - 5 * 12


def test_an_open_alert_is_handed_to_the_next_duty_supervisor_once(engine, personas):
    team_id = personas["worker"].team_id
    with unit_of_work(engine) as session:
        session.get(User, personas["worker2"].id).role = "supervisor"
    now = utcnow()
    add_change(engine, team_id, personas["supervisor"].id, now - timedelta(hours=1), now + timedelta(minutes=10))
    add_shift(engine, team_id, personas["worker2"].id)  # every day, all day, under the change
    start(engine, personas["worker"], minutes=30, ago=timedelta(minutes=40))
    with unit_of_work(engine) as session:
        visit = session.exec(select(safety.Visit)).one()
        alert = safety.miss(session, visit, now=now)
        assert alert.duty_supervisor_id == personas["supervisor"].id
        assert [p.id for p in safety.responders(session, alert, 1)] == [personas["supervisor"].id]
    later = now + timedelta(minutes=11)
    with unit_of_work(engine) as session:
        assert rota_handover.handover_open_alerts(session, now + timedelta(minutes=5)) == 0  # same shift: nothing
        assert rota_handover.handover_open_alerts(session, later) == 1
    with unit_of_work(engine) as session, counted(engine) as statements:
        assert rota_handover.handover_open_alerts(session, later + timedelta(seconds=1)) == 0
    # the teams with an open alert, the rota's two queries and leave's, then only the open alerts
    # whose holder is no longer on duty: nothing per alert
    assert len(statements) == 5 and "duty_supervisor_id IS" in statements[-1]
    with unit_of_work(engine) as session:
        alert = session.exec(select(Alert)).one()
        assert alert.duty_supervisor_id == personas["worker2"].id
        handed = session.exec(select(SafetyEvent).where(SafetyEvent.kind == "handed_over")).one()
        assert handed.alert_id == alert.id and "Ola Other" in handed.detail
        told = {d.recipient_id for d in session.exec(select(Delivery).where(Delivery.title == rota_handover.HANDED_TITLE))}
        assert told == {personas["worker2"].id}
        safety.resolve(session, alert, session.get(User, personas["worker2"].id), outcome="false_alarm", note="",
                       now=later)
    with unit_of_work(engine) as session, counted(engine) as statements:
        assert rota_handover.handover_open_alerts(session, later) == 0
    assert len(statements) == 1  # no open alert: one query a tick


def test_rota_page_edited_by_a_supervisor_read_by_the_team(supervisor_client, worker_client, engine, personas):
    page = supervisor_client.get("/rota")
    assert page.status_code == 200 and "No weekly shifts" in page.get_data(as_text=True)
    refused = supervisor_client.post_form("/rota/shifts", {"supervisor_id": str(personas["supervisor"].id),
                                                           "starts": "09:00", "ends": ""}, page="/rota")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Choose at least one day." in body and 'value="09:00"' in body
    added = supervisor_client.post_form("/rota/shifts", {"supervisor_id": str(personas["supervisor"].id),
                                                         "weekdays": ["0", "2"], "starts": "09:00", "ends": "17:00"},
                                        page="/rota")
    assert added.status_code == 303
    read = worker_client.get("/rota").get_data(as_text=True)
    assert "Monday" in read and "Wednesday" in read and "09:00 to 17:00" in read and "Add a weekly shift" not in read
    assert worker_client.post_form("/rota/shifts", {"weekdays": ["1"]}, page="/rota").status_code == 404
    with unit_of_work(engine) as session:
        shift_id = session.exec(select(RotaShift.id)).first()
        session.add(RotaShift(team_id=personas["other_supervisor"].team_id, supervisor_id=personas["other_supervisor"].id,
                              weekday=1, starts_minute=0, ends_minute=0, zone=LONDON,
                              created_by_id=personas["other_supervisor"].id))
        session.flush()
        other_id = session.exec(select(RotaShift.id).where(RotaShift.weekday == 1)).one()
    assert supervisor_client.post_form(f"/rota/shifts/{other_id}/remove", {}, page="/rota").status_code == 404
    assert supervisor_client.post_form(f"/rota/shifts/{shift_id}/remove", {}, page="/rota").status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(RotaShift, shift_id).removed_at is not None
        from app.models import AuditEvent
        actions = [a.action for a in session.exec(select(AuditEvent).where(AuditEvent.action.like("rota.%")))]
    assert actions.count("rota.shift_add") == 2 and "rota.shift_remove" in actions


def test_the_board_warns_when_the_rota_leaves_now_uncovered(supervisor_client, engine, personas):
    team_id = personas["supervisor"].team_id
    set_team(engine, team_id, duty_supervisor_id=personas["supervisor"].id)
    assert "No shift on the rota covers now" not in supervisor_client.get("/board").get_data(as_text=True)
    now = utcnow()
    add_change(engine, team_id, personas["supervisor"].id, now + timedelta(days=1), now + timedelta(days=2))
    board = supervisor_client.get("/board").get_data(as_text=True)
    assert "No shift on the rota covers now: alerts go to the fallback duty supervisor, Sade Super." in board
    start(engine, personas["worker"], minutes=30, ago=timedelta(minutes=40))
    with unit_of_work(engine) as session:  # an alert raised now goes to the fallback
        alert = safety.miss(session, session.exec(select(safety.Visit)).one(), now=now)
        assert alert.duty_supervisor_id == personas["supervisor"].id
        assert [p.id for p in safety.responders(session, alert, 1)] == [personas["supervisor"].id]


def test_an_alert_open_across_a_shift_change_goes_to_the_next_duty_supervisor_with_a_real_worker(
        app, engine, personas, receiver):  # noqa: F811
    settings = app.extensions["fieldline.settings"]
    team_id = personas["worker"].team_id
    set_team(engine, team_id, escalation_seconds=600)  # no escalation: only the rota moves the alert
    with unit_of_work(engine) as session:
        session.get(User, personas["worker2"].id).role = "supervisor"
        for key in ("worker", "supervisor", "worker2"):
            push_subscriptions.register(session, session.get(User, personas[key].id), receiver.subscription(key),
                                        rule=LOCAL_PUSH, user_agent=None, now=utcnow())
    now = utcnow()
    shift_change = now + timedelta(seconds=4)
    add_change(engine, team_id, personas["supervisor"].id, now - timedelta(hours=1), shift_change)
    add_shift(engine, team_id, personas["worker2"].id)
    start(engine, personas["worker"], minutes=30, ago=timedelta(minutes=40))
    worker = Worker.for_settings(engine, settings.__class__(**{**settings.__dict__, "tick_seconds": 0.2}))
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(stop,))
    loop.start()
    try:
        assert wait_for(lambda: any(m.path == "/push/supervisor" for m in receiver.messages), 20)
        assert wait_for(lambda: any(m.path == "/push/worker2" for m in receiver.messages), 30)
    finally:
        stop.set()
        loop.join(10)
    titles = [(m.path, m.payload["title"]) for m in receiver.messages]
    assert ("/push/supervisor", "Safety alert — a check-in was missed") in titles
    assert [t for p, t in titles if p == "/push/worker2"] == [rota_handover.HANDED_TITLE]
    with unit_of_work(engine) as session:
        alert = session.exec(select(Alert)).one()
        handed = session.exec(select(SafetyEvent).where(SafetyEvent.kind == "handed_over")).one()
    assert alert.state == "open" and alert.level == 1 and alert.duty_supervisor_id == personas["worker2"].id
    assert handed.at >= shift_change


def test_supervisors_are_told_of_a_gap_the_day_before_once(engine, personas):
    team_id = personas["supervisor"].team_id
    # Monday 7 December 2026, 10:00 GMT: weekday shifts 08:00-20:00, so tonight 20:00 is a gap.
    monday = utc(2026, 12, 7, 10)
    with unit_of_work(engine) as session:
        session.add(RotaShift(team_id=team_id, supervisor_id=personas["supervisor"].id, weekday=0, starts_minute=8 * 60,
                              ends_minute=20 * 60, zone=LONDON, created_by_id=personas["supervisor"].id))
    with unit_of_work(engine) as session:
        notices = rota.gap_notices(session, monday, ZoneInfo(LONDON))
        assert [(m.title, m.body, p.id) for m, p in notices] == [
            ("Gap in the duty rota", "From Mon 7 Dec 20:00 no shift covers: open the rota to fill it.",
             personas["supervisor"].id)]
        later = rota.gap_notices(session, monday + timedelta(hours=3), ZoneInfo(LONDON))
        assert [m.event_ref for m, _ in later] == [notices[0][0].event_ref]  # the same gap: told once
        assert rota.gap_notices(session, monday + timedelta(hours=11), ZoneInfo(LONDON)) == []  # begun already


def test_alerts_open_at_the_upgrade_keep_their_buddy_and_duty_supervisor(tmp_path):
    from sqlalchemy import text

    from app.db import make_engine, upgrade
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0013")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO team (id, name, grace_seconds, escalation_seconds, max_visit_minutes, "
                                "min_visit_minutes, duty_supervisor_id, pin_policy, silent_crisis, created_at) "
                                "VALUES (1, 'T', 60, 60, 60, 1, 3, 'optional', 0, '2026-11-01 00:00:00')"))
        for user_id, role, buddy in ((1, "worker", 2), (2, "worker", None), (3, "supervisor", None)):
            connection.execute(text("INSERT INTO user (id, email, name, role, team_id, active, password_hash, buddy_id, "
                                    "remind_evening_before, remind_minutes_before, created_at) VALUES (:id, :email, 'N', "
                                    ":role, 1, 1, 'x', :buddy, 1, 30, '2026-11-01 00:00:00')"),
                               {"id": user_id, "email": f"{user_id}@x.org", "role": role, "buddy": buddy})
        for alert_id, state in ((1, "open"), (2, "resolved")):
            connection.execute(text("INSERT INTO alert (id, team_id, worker_id, kind, state, level, raised_at, repeats) "
                                    "VALUES (:id, 1, 1, 'panic', :state, 3, '2026-11-01 00:00:00', 0)"),
                               {"id": alert_id, "state": state})
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, buddy_id, duty_supervisor_id FROM alert ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(1, 2, 3), (2, None, None)]


def test_the_board_lists_the_weeks_gaps_in_cover_for_a_few_statements(app, supervisor_client, engine, personas):
    from app.console.presenters import when
    from tests.test_daily_pages import statements

    team_id = personas["supervisor"].team_id
    set_team(engine, team_id, duty_supervisor_id=personas["supervisor"].id)
    supervisor_client.get("/board")  # warm
    with statements(engine) as without_rota:
        board = supervisor_client.get("/board").get_data(as_text=True)
    assert "Gaps in cover" not in board
    # Every day is covered round the clock but the one three days ahead (London time).
    london = ZoneInfo(LONDON)
    gap_day = (utcnow().astimezone(london) + timedelta(days=3)).date()
    add_shift(engine, team_id, personas["supervisor"].id, weekdays=[d for d in range(7) if d != gap_day.weekday()])
    with statements(engine) as with_gap:
        board = supervisor_client.get("/board").get_data(as_text=True)
    gap_starts = datetime.combine(gap_day, time()).replace(tzinfo=london)
    gap_ends = datetime.combine(gap_day + timedelta(days=1), time()).replace(tzinfo=london)
    shown = app.extensions["fieldline.settings"].zone
    assert "Gaps in cover in the next 7 days" in board
    assert f"<li>{when(gap_starts, shown)} to {when(gap_ends, shown)}: the fallback, Sade Super</li>" in board
    listed = board.split("Gaps in cover in the next 7 days", 1)[1].split("</ul>", 1)[0]
    assert listed.count("<li>") == 1  # that one gap, nothing else uncovered
    assert 'href="/rota">Fill the gaps on the rota' in board and "No shift on the rota covers now" not in board
    assert len(with_gap) <= len(without_rota) + 1, (len(without_rota), len(with_gap))  # the fallback's name
