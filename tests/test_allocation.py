"""Allocation and weighted load: figures against a hand count, the unallocated list, the
append-only history on the person's page, and the rules of the allocate form."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.db import unit_of_work
from app.models import Alert, Allocation, AuditEvent, Order, Person, Plan, Requirement, User
from app.models.types import utcnow
from app.services import people, workload
from tests.test_leave import LONDON, away


def person(engine, persona, name, risk, key_worker_id=None, status="open"):
    with unit_of_work(engine) as session:
        author = session.get(User, persona.id)
        return people.create_person(session, author, people.PersonDetails(name=name, key_worker_id=key_worker_id,
                                                                          status=status),
                                    people.RiskUpdate(level=risk, flags=[], reason="Assessment"), now=utcnow()).id


def test_weighted_load_matches_a_hand_count(engine, personas):
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    for name, risk, holder in [("A", "low", worker), ("B", "high", worker), ("C", "very_high", worker),
                               ("D", "medium", worker2), ("E", "medium", worker2)]:
        person(engine, supervisor, name, risk, holder.id)
    person(engine, supervisor, "Closed", "very_high", worker2.id, status="closed")  # closed: no load
    with unit_of_work(engine) as session:
        actor = session.get(User, supervisor.id)
        workload.set_weighting(session, worker.team_id, actor, {"low": 1, "medium": 2, "high": 4, "very_high": 6}, 20,
                               now=utcnow())
        workload.set_capacity(session, worker.team_id, actor, worker2.id, 50, now=utcnow())
    with unit_of_work(engine) as session:
        loads = {load.worker.id: load for load in workload.team_loads(session, worker.team_id, utcnow(), LONDON)}
    # By hand: Wren 1 + 4 + 6 = 11 of 20 = 55 %; Ola 2 + 2 = 4 of 20 x 50 % = 10 -> 40 %.
    assert (loads[worker.id].points, loads[worker.id].people, loads[worker.id].percent) == (11, 3, 55)
    assert (loads[worker2.id].points, loads[worker2.id].percent) == (4, 40)
    assert loads[worker2.id].percent_with(6) == 100 and workload.load_words(100) == ("Near capacity", "warn")
    assert loads[worker2.id].percent_with(7) == 110 and workload.load_words(110) == ("Over capacity", "danger")
    assert loads[supervisor.id].points == 0 and workload.load_words(0) == ("Within capacity", "ok")
    with unit_of_work(engine) as session, pytest.raises(workload.ValidationError):
        workload.set_weighting(session, worker.team_id, session.get(User, supervisor.id),
                               {"low": -1, "medium": 2, "high": 3, "very_high": 5}, 20, now=utcnow())


def test_the_unallocated_list_says_why(engine, personas):
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    new = person(engine, supervisor, "New Person", "low")
    person(engine, supervisor, "Held", "low", worker2.id)
    left = person(engine, supervisor, "Left Behind", "low", worker.id)
    on_leave = person(engine, supervisor, "Worker Away", "low", worker2.id)
    with unit_of_work(engine) as session:
        session.get(User, worker.id).active = False
        session.get(Person, on_leave).key_worker_id = supervisor.id
    today = utcnow().astimezone(LONDON).date()
    away(engine, supervisor, worker2, today, today + timedelta(days=3))
    with unit_of_work(engine) as session:
        waiting = {u.person.id: u.reason for u in workload.unallocated(session, worker.team_id, utcnow())}
    assert waiting == {new: "New: no key worker yet", left: "Their worker has left",
                       on_leave: f"Their worker is away until {today + timedelta(days=3):%a %-d %b}"}


def test_allocating_keeps_the_history_on_the_persons_page(supervisor_client, worker_client, engine, personas):
    worker, worker2 = personas["worker"], personas["worker2"]
    person_id = person(engine, personas["supervisor"], "Dana Doorstep", "high")
    page = supervisor_client.get(f"/people/{person_id}/allocate").get_data(as_text=True)
    assert "Wren Walker" in page and "After: " in page and "3 points" in page
    refused = supervisor_client.post_form(f"/people/{person_id}/allocate", {"worker_id": "", "note": "Keep this"})
    assert refused.status_code == 422 and "Choose a worker in your team." in refused.get_data(as_text=True)
    assert "Keep this" in refused.get_data(as_text=True)
    assert supervisor_client.post_form(f"/people/{person_id}/allocate",
                                       {"worker_id": str(worker.id), "note": ""}).status_code == 303
    # Each choice says that worker's load if they are chosen: the key worker's stays as it is.
    rows = {re.search(r"<strong>([^<]+)</strong>", row).group(1): row for row in
            supervisor_client.get(f"/people/{person_id}/allocate").get_data(as_text=True).split('choice--person">')[1:]}
    now_points = {name: int(re.search(r"\((\d+) points?, ", row).group(1)) for name, row in rows.items()}
    assert "(key worker now)" in rows["Wren Walker"] and "After: no change" in rows["Wren Walker"]
    assert f"({now_points['Ola Other'] + 3} points)" in rows["Ola Other"].split("After:")[1]
    assert supervisor_client.post_form(f"/people/{person_id}/allocate",
                                       {"worker_id": str(worker2.id), "note": "Prefers mornings"}).status_code == 303
    again = supervisor_client.post_form(f"/people/{person_id}/allocate", {"worker_id": str(worker2.id)})
    assert again.status_code == 422 and "already allocated to Ola Other" in again.get_data(as_text=True)
    record = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Allocated to <strong>Ola Other</strong> (from Wren Walker) by Sade Super" in record
    assert "Prefers mornings" in record and "Allocated to <strong>Wren Walker</strong>" in record
    assert worker_client.get(f"/people/{person_id}/allocate").status_code == 404  # supervisors allocate
    other_team = person(engine, personas["other_supervisor"], "Elsewhere", "low")
    assert supervisor_client.get(f"/people/{other_team}/allocate").status_code == 404
    with unit_of_work(engine) as session:
        assert session.get(Person, person_id).key_worker_id == worker2.id
        assert [a.worker_id for a in session.exec(select(Allocation).order_by(Allocation.id))] == [worker.id, worker2.id]
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "person.allocate")).all()) == 2
    with pytest.raises(DBAPIError), unit_of_work(engine) as session:  # append-only in the database itself
        session.exec(select(Allocation)).first().note = "rewritten"


def test_capacity_and_weighting_pages(supervisor_client, worker_client, personas):
    assert worker_client.get("/team/load").status_code == 404
    bad = supervisor_client.post_form("/team/load", {"w-points_low": "1", "w-points_medium": "2", "w-points_high": "99",
                                                     "w-points_very_high": "5", "w-full_time_points": "30"},
                                      page="/team/load")
    assert bad.status_code == 422 and "Between 0 and 20 points." in bad.get_data(as_text=True)
    saved = supervisor_client.post_form("/team/load/capacity", {"c-user_id": str(personas["worker2"].id),
                                                                "c-percent": "60"}, page="/team/load")
    assert saved.status_code == 303
    assert "Ola Other</strong>: 60 % of full time" in supervisor_client.get("/team/load").get_data(as_text=True)


def test_orders_and_plans_add_to_the_weighted_load(engine, personas):
    worker, supervisor = personas["worker"], personas["supervisor"]
    on_licence = person(engine, supervisor, "On Licence", "medium", worker.id)
    planned = person(engine, supervisor, "With A Plan", "low", worker.id)
    ended = person(engine, supervisor, "Order Ended", "low", worker.id)
    today = utcnow().date()
    with unit_of_work(engine) as session:
        def order(person_id, kind, starts, ends):
            found = Order(team_id=worker.team_id, person_id=person_id, kind=kind, made_by="Court", starts_on=starts,
                          ends_on=ends, responsible_officer_id=worker.id, created_by_id=supervisor.id)
            session.add(found)
            session.flush()
            return found
        licence = order(on_licence, "licence", today - timedelta(days=30), today + timedelta(days=300))
        session.add_all([Requirement(order_id=licence.id, kind="residence"), Requirement(order_id=licence.id,
                                                                                         kind="curfew")])
        order(ended, "community_order", date(2020, 1, 1), date(2021, 1, 1))  # over: adds nothing
        session.add(Plan(team_id=worker.team_id, person_id=planned, review_due_on=today, created_by_id=worker.id))
        session.add(Plan(team_id=worker.team_id, person_id=ended, review_due_on=today, created_by_id=worker.id,
                         status="closed"))  # closed: adds nothing
    with unit_of_work(engine) as session:
        extra = workload.extra_points(session, {on_licence, planned, ended}, utcnow(), LONDON)
        loads = {load.worker.id: load for load in workload.team_loads(session, worker.team_id, utcnow(), LONDON)}
    # By hand: licence 3 + two requirements = 5; an open plan 1; the ended order and closed plan 0.
    assert extra == {on_licence: 5, planned: 1}
    # Risk: medium 2 + low 1 + low 1 = 4, plus 6 = 10 points of the default 30 -> 33 %.
    assert (loads[worker.id].points, loads[worker.id].percent) == (10, 33)


def test_a_key_worker_changed_on_the_edit_form_goes_into_the_allocation_history(supervisor_client, engine, personas):
    worker, worker2 = personas["worker"], personas["worker2"]
    person_id = person(engine, personas["supervisor"], "Edited Elsewhere", "low", worker.id)
    form = {"name": "Edited Elsewhere", "key_worker_id": str(worker2.id), "status": "open",
            "consent_to_share": "not_asked"}
    page = f"/people/{person_id}/edit"
    assert supervisor_client.post_form(page, form).status_code == 303
    assert supervisor_client.post_form(page, {**form, "phone": "01234 567890"}).status_code == 303  # not a move
    with unit_of_work(engine) as session:
        history = session.exec(select(Allocation).where(Allocation.person_id == person_id)).all()
        assert [(a.worker_id, a.previous_worker_id, a.by_id) for a in history] == [
            (worker2.id, worker.id, personas["supervisor"].id)]
    record = supervisor_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Allocated to <strong>Ola Other</strong> (from Wren Walker)" in record


def facts(page: str, name: str) -> str:
    """One worker's row of a load list (the allocate form's, or the unallocated page's), as text."""
    row = page.split(f"<strong>{name}</strong>", 1)[1]
    row = min(row.split("</li>", 1)[0], row.split("</label>", 1)[0], key=len)
    return " ".join(re.sub(r"<[^>]+>", " ", row).replace("&nbsp;", " ").split())


def test_the_allocate_lists_show_each_workers_open_alerts_and_leave_by_a_hand_count(supervisor_client, engine,
                                                                                     personas):
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    now = utcnow()
    with unit_of_work(engine) as session:
        for who, state in [(worker, "open"), (worker, "acknowledged"), (worker, "resolved"), (worker2, "open"),
                           (personas["other_worker"], "open")]:  # another team's: not counted here
            session.add(Alert(team_id=who.team_id, worker_id=who.id, kind="panic", state=state, raised_at=now))
    today = now.astimezone(LONDON).date()
    away(engine, worker2, supervisor, today - timedelta(days=1), today + timedelta(days=3), by=supervisor)
    away(engine, supervisor, worker, today + timedelta(days=10), today + timedelta(days=12))
    away(engine, worker, worker2, today - timedelta(days=9), today - timedelta(days=2), by=supervisor)  # over
    person_id = person(engine, supervisor, "Needs Someone", "low")
    until = f"{today + timedelta(days=3):%a %-d %b}"
    coming = f"{today + timedelta(days=10):%a %-d %b} to {today + timedelta(days=12):%a %-d %b}"
    # By hand: Wren has two alerts not yet resolved and no leave to come; Ola one, and is away now;
    # Sade none, and is away from ten days on.
    for page in (supervisor_client.get("/allocate"), supervisor_client.get(f"/people/{person_id}/allocate")):
        body = page.get_data(as_text=True)
        assert "2 open alerts" in facts(body, "Wren Walker") and "Away" not in facts(body, "Wren Walker")
        assert f"1 open alert · Away until {until}" in facts(body, "Ola Other")
        assert f"Away {coming}" in facts(body, "Sade Super") and "open alert" not in facts(body, "Sade Super")


def test_a_person_whose_key_worker_is_away_shows_the_cover_on_their_page(supervisor_client, worker_client, engine,
                                                                          personas):
    worker, worker2, supervisor = personas["worker"], personas["worker2"], personas["supervisor"]
    person_id = person(engine, supervisor, "Covered Person", "medium", worker.id)
    page = f"/people/{person_id}"
    away(engine, worker, worker2, date(2030, 12, 7), date(2030, 12, 11))  # to come: not yet
    assert "Key worker away" not in worker_client.get(page).get_data(as_text=True)
    today = utcnow().astimezone(LONDON).date()
    away(engine, worker, worker2, today, today + timedelta(days=2))
    for client in (worker_client, supervisor_client):
        record = client.get(page).get_data(as_text=True)
        assert "Key worker away</span> Wren Walker is away until " f"{today + timedelta(days=2):%a %-d %b}. " \
               "Cover: <strong>Ola Other</strong>" in record
