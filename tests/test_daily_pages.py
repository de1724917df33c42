"""The pages a team opens all day, with a lot on them: the caseload (my people first, 50 at a
time, search over everyone on the team, the offline copy), the team's week, and a bound on the
statements each page runs."""
import re
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Appointment, Person, User, Visit
from app.models.types import utcnow
from app.services import appointments, groups

LEVELS = ("very_high", "high", "medium")  # the rest of the team outranks my (low-risk) people


def add_people(engine, team_id: int, key_worker_id: int, names: list[str], *, risk_level: str = "medium",
               flags: list[str] | None = None) -> None:
    now = utcnow()
    with unit_of_work(engine) as session:
        session.execute(Person.__table__.insert(), [
            {"team_id": team_id, "key_worker_id": key_worker_id, "name": name, "status": "open",
             "risk_level": risk_level, "flags": flags or [], "consent_to_share": "not_asked", "sms_reminders": False,
             "created_at": now, "updated_at": now, "last_contact_at": now - timedelta(days=1)} for name in names])


@pytest.fixture
def big_team(engine, personas):
    """135 open people on team A: 5 of them the worker's (low risk), 130 the second worker's, one of
    whom, Zed Findme, falls on the third page; and 10 people on team B."""
    team, mine, theirs = personas["worker"].team_id, personas["worker"].id, personas["worker2"].id
    add_people(engine, team, mine, [f"Mine {n}" for n in range(5)], risk_level="low", flags=["dog"])
    for level in LEVELS:
        add_people(engine, team, theirs, [f"Theirs {level} {n:02d}" for n in range(40)], risk_level=level)
    add_people(engine, team, theirs, ["Zed Findme"] + [f"Theirs low {n}" for n in range(9)], risk_level="low")
    add_people(engine, personas["other_worker"].team_id, personas["other_worker"].id,
               [f"Beta {n}" for n in range(10)], risk_level="very_high")
    return personas


def names(html: str) -> list[str]:
    return re.findall(r'class="person-row__name" href="/people/\d+"(?: autofocus)?>([^<(]+)', html)


def more(client, page: int, htmx: bool = True, **filters):
    data = {"csrf_token": client.csrf_token("/caseload"), "scope": "team", "status": "open", "page": page, **filters}
    return client.post("/caseload", data=data, headers={"HX-Request": "true"} if htmx else {})


def test_my_people_come_first_and_the_team_follows_fifty_at_a_time(worker_client, big_team):
    html = worker_client.get("/caseload").get_data(as_text=True)
    first = names(html)
    assert len(first) == 50 and first[:5] == [f"Mine {n}" for n in range(5)]
    assert html.count("Your person ·") == 5 and "135 people" in html
    assert "Show 50 more (of 85 not shown)" in html and 'name="page" value="2"' in html

    second = more(worker_client, 2)
    body = second.get_data(as_text=True)
    assert "<html" not in body and 'id="caseload-list"' not in body  # only the next rows, for the button
    assert re.search(r'person-row__name" href="/people/\d+" autofocus', body)  # the focus moves to them
    assert len(names(body)) == 50 and not set(names(body)) & set(first)
    assert 'name="page" value="3"' in body

    third = names(more(worker_client, 3).get_data(as_text=True))
    assert len(third) == 35 and "Zed Findme" in third
    assert len(set(first) | set(names(body)) | set(third)) == 135
    assert not any(name.startswith("Beta") for name in first + names(body) + third)
    assert "Show" not in more(worker_client, 3).get_data(as_text=True).split("</ul>")[0].split("Zed")[-1]


def test_without_script_show_more_opens_the_next_page(worker_client, big_team):
    page = more(worker_client, 2, htmx=False).get_data(as_text=True)
    assert "<html" in page and "135 people, showing 51–100" in page and len(names(page)) == 50


def test_search_finds_anyone_on_the_team_and_nobody_else(worker_client, other_worker_client, big_team):
    token = worker_client.csrf_token("/caseload")
    found = worker_client.post("/caseload", data={"q": "findme", "scope": "team", "status": "open", "csrf_token": token},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert names(found) == ["Zed Findme"] and "1 person" in found and "Show" not in found
    assert "findme" not in worker_client.get("/caseload").request.url  # the search never sits in a URL
    other = worker_client.post("/caseload", data={"q": "beta", "csrf_token": token}).get_data(as_text=True)
    assert names(other) == [] and "Nobody matches." in other
    theirs = other_worker_client.get("/caseload").get_data(as_text=True)
    assert names(theirs) == [f"Beta {n}" for n in range(10)] and "Show" not in theirs.split("</ul>")[0]
    beyond = more(worker_client, 9).get_data(as_text=True)  # past the end: nothing, no error
    assert names(beyond) == [] and "Nobody matches." in beyond


def test_mine_only_and_the_offline_copy_keep_my_people_with_risk_and_flags(worker_client, big_team):
    mine = more(worker_client, 1, scope="mine").get_data(as_text=True)
    assert names(mine) == [f"Mine {n}" for n in range(5)]
    offline = worker_client.get("/caseload/offline").get_data(as_text=True)
    # The kept copy names people without linking to records that need a connection.
    assert re.findall(r'<span class="person-row__name">([^<(]+)', offline) == [f"Mine {n}" for n in range(5)]
    assert offline.count("Risk: Low") == 5 and offline.count("Aggressive dog") == 5 and "Theirs" not in offline


def test_a_bad_page_number_is_refused(worker_client, big_team):
    assert more(worker_client, 0).status_code == 404
    assert more(worker_client, "two").status_code == 404


def test_a_week_looks_only_at_the_series_that_can_fall_in_it(engine, personas):
    """A team's week loads what can happen in it (and what can move into it), not years of one-offs."""
    team, worker = personas["worker"].team_id, personas["worker"].id
    add_people(engine, team, worker, ["Week Person"])
    week = datetime(2026, 12, 7)
    with unit_of_work(engine) as session:
        person_id = session.exec(select(Person.id).where(Person.name == "Week Person")).one()

        def add(name, starts_local, repeat="none", repeat_until=None):
            session.add(Appointment(team_id=team, worker_id=worker, person_id=person_id, kind="office",
                                    place=name, starts_local=starts_local, duration_minutes=30, repeat=repeat,
                                    repeat_until=repeat_until))

        add("old one-off", week - timedelta(days=90))
        add("ended series", week - timedelta(days=300), "weekly", (week - timedelta(days=60)).date())
        add("years-old series", week - timedelta(weeks=66) + timedelta(days=1), "fortnightly")  # no end: still on
        add("running series", week - timedelta(days=100), "weekly")
        add("moving in", week + timedelta(days=20, hours=10))
        add("next year", week + timedelta(days=200))
        session.flush()
        between = (week, week + timedelta(days=7))
        every = appointments.for_team(session, team)
        live = {"running series", "years-old series", "moving in"}
        assert {a.place for a in appointments.for_team(session, team, between)} == live
        assert {a.place for a in appointments.for_worker(session, worker, between)} == live
        moving = next(a for a in every if a.place == "moving in")
        appointments.move_occurrence(session, moving, moving.starts_local, starts_local=week + timedelta(days=2),
                                     place=None)
        session.flush()
        expanded = []  # each series is expanded over the week only: the moved-in one comes from its record
        real_series_starts = appointments.series_starts
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(appointments, "series_starts",
                          lambda a, start, end: expanded.append(end - start) or real_series_starts(a, start, end))
            found = appointments.occurrences(session, appointments.for_team(session, team, between), *between,
                                             ZoneInfo("Europe/London"))
        assert sorted(o.appointment.place for o in found) == ["moving in", "running series", "years-old series"]
        assert expanded and max(expanded) <= timedelta(days=7)
        assert found == appointments.occurrences(session, every, *between, ZoneInfo("Europe/London"))


def test_a_teams_week_finds_the_changes_by_the_team_not_by_a_list_of_ids(engine, personas):
    """Hundreds of series: their changes are looked up by the team (a list of hundreds of ids cost 4
    times the CPU on PostgreSQL), and the same occurrences come out, a change to a series not asked
    about (another kind) left out."""
    team, worker = personas["worker"].team_id, personas["worker"].id
    add_people(engine, team, worker, ["Team Week Person"])
    week, zone = datetime(2026, 12, 7), ZoneInfo("Europe/London")
    between = (week, week + timedelta(days=7))
    with unit_of_work(engine) as session:
        person_id = session.exec(select(Person.id).where(Person.name == "Team Week Person")).one()
        made = {}
        for place, kind, starts_local, repeat in (("weekly", "office", week - timedelta(days=14, hours=-10), "weekly"),
                                                   ("moving in", "office", week + timedelta(days=20, hours=9), "none"),
                                                   ("a call", "phone", week + timedelta(days=1, hours=9), "none")):
            made[place] = Appointment(team_id=team, worker_id=worker, person_id=person_id, kind=kind, place=place,
                                      starts_local=starts_local, duration_minutes=30, repeat=repeat)
            session.add(made[place])
        session.flush()
        for place, moved_to in (("moving in", week + timedelta(days=2, hours=9)),
                                ("a call", week + timedelta(days=3, hours=9)), ("weekly", None)):
            appointment = made[place]
            original = appointment.starts_local + (timedelta(weeks=2) if place == "weekly" else timedelta())
            appointments.move_occurrence(session, appointment, original, starts_local=moved_to or original,
                                         place="Room 2" if moved_to is None else None)
        session.flush()
        offices = appointments.series_for_team(session, team, between, kind="office")
        with statements(engine) as seen:
            found = appointments.occurrences(session, offices, *between, zone, team_id=team)
        assert found == appointments.occurrences(session, offices, *between, zone)
        assert [(o.appointment.place, o.place) for o in found] == [("weekly", "Room 2"), ("moving in", "moving in")]
        assert len(seen) == 1 and "appointment.team_id" in seen[0] and " IN " not in seen[0].upper()


@contextmanager
def statements(engine):
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def busy_day(engine, personas, copies: int) -> None:
    """`copies` of everything the daily pages show: people, today's appointments and a
    did-not-attend to follow up, running visits, open alerts."""
    team, worker = personas["worker"].team_id, personas["worker"].id
    add_people(engine, team, worker, [f"Busy {copies} {n}" for n in range(copies)], risk_level="high")
    now = utcnow()
    today = datetime.combine(now.date(), time(9))
    with unit_of_work(engine) as session:
        people = session.exec(select(Person.id).where(Person.name.startswith(f"Busy {copies} "))).all()
        for n, person_id in enumerate(people):
            appointment = Appointment(team_id=team, worker_id=worker, person_id=person_id, kind="office",
                                      starts_local=today - timedelta(weeks=1, minutes=-10 * n), duration_minutes=30,
                                      repeat="weekly")
            session.add(appointment)
            session.flush()
            appointments.record_outcome(session, appointment, appointment.starts_local,
                                        session.get(User, worker),
                                        outcome="did_not_attend", note=None, now=now)
            for worker_id in (worker, personas["worker2"].id):
                visit = Visit(worker_id=worker_id, team_id=team, place="1 Street", person_id=person_id,
                              started_at=now, planned_end_at=now + timedelta(hours=1), due_at=now + timedelta(hours=1),
                              grace_seconds=300, overdue_at=now + timedelta(hours=1, minutes=5),
                              state="active" if worker_id != worker else "ended")
                session.add(visit)
                session.flush()
                session.add(Alert(team_id=team, worker_id=worker_id, visit_id=visit.id, kind="missed_check_in",
                                  state="open", raised_at=now))
        # Group sessions today that the worker facilitates (Today and the team's week list them).
        facilitator = session.get(User, worker)
        programme = groups.create_programme(session, facilitator, groups.ProgrammeDetails(f"Busy {copies}", 2),
                                            now=now)
        for n in range(copies):
            groups.create_group(session, facilitator, groups.GroupDetails(
                programme.id, f"Busy group {n}", "Hall", today + timedelta(minutes=n), 60, "weekly", 10, [worker]),
                now=now)


@pytest.mark.parametrize("who, path, shown", [("worker", "/caseload", "Busy"), ("worker", "/", "Busy"),
                                              ("worker", "/caseload/offline", "Busy"),
                                              ("supervisor", "/", "Ola Other"),
                                              ("supervisor", "/appointments/team", "Busy")])
def test_the_daily_pages_run_a_bounded_number_of_statements(app, engine, personas, who, path, shown):
    """However much a team has, each page runs the same few statements (an N+1 would grow)."""
    from tests.conftest import _signed_in

    client = _signed_in(app, personas[who])
    counts, seen_on_page = [], []
    for copies in (2, 8):
        busy_day(engine, personas, copies)
        client.get(path)  # warm: the first request of a session may do more
        with statements(engine) as seen:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(len(seen))
        seen_on_page.append(response.get_data(as_text=True).count(shown))
    assert seen_on_page[1] > seen_on_page[0] > 0  # the page did show the extra people, visits and alerts
    if (who, path) in (("worker", "/"), ("supervisor", "/appointments/team")):
        assert "Busy group 7" in response.get_data(as_text=True)  # and the group sessions
    assert counts[0] == counts[1] and counts[1] <= 14, counts


def test_occurrences_moved_into_a_window_are_found_by_an_index(engine):
    """A week's look at the team's series asks for the changes in the week, by what they were and
    where they moved: both by index, not every outcome the series ever had."""
    from sqlalchemy import inspect

    indexes = inspect(engine).get_indexes("appointment_occurrence")
    assert ["appointment_id", "starts_local"] in [index["column_names"] for index in indexes]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM appointment_occurrence WHERE appointment_id IN (1, 2, 3) AND "
                "((original_local >= '2026-12-07' AND original_local < '2026-12-14') OR "
                "(starts_local >= '2026-12-07' AND starts_local < '2026-12-14'))"))
        assert "MULTI-INDEX OR" in plan and "starts_local>?" in plan, plan


def test_a_persons_visits_are_read_by_the_persons_index_not_the_teams(engine, personas):
    """The person's page reads a page of their timed visits: by the person's index, not by walking
    the team's visits newest first (SQLite's choice without statistics, 7 ms with a team of 500)."""
    from app.record import PersonView
    from app.safety.record import visits_to

    worker = personas["worker"]
    add_people(engine, worker.team_id, worker.id, ["Vic Visited"])
    with unit_of_work(engine) as session:
        person = session.exec(select(Person).where(Person.name == "Vic Visited")).one()
        with statements_and_parameters(engine) as seen:
            assert visits_to(PersonView(session, worker, person, utcnow(), ZoneInfo("Europe/London"))) == []
        (statement, parameters), = seen
        assert "visit.team_id" in statement  # still only the team's
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters))
            assert "ix_visit_person_id" in plan, plan


@contextmanager
def statements_and_parameters(engine):
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)
