"""Closing a person's case with a reason and reopening it: the rules against a real database, the
pages over real HTTP (422 beside the field, team scoping, audit, the timeline, the caseload)."""
import re
from datetime import timedelta

from sqlmodel import select

from app.db import unit_of_work
from app.models import Appointment, AuditEvent, CaseEvent, Person
from app.models.types import utcnow
from app.services import appointments, audit as audit_service
from tests.test_appointments import LONDON, make
from tests.test_caseload import add_person
from tests.test_plans import add_goal


def _local(delta: timedelta) -> str:
    return (utcnow().astimezone(LONDON) + delta).strftime("%Y-%m-%dT%H:%M")


def _person(engine, person_id) -> Person:
    with unit_of_work(engine) as session:
        return session.get(Person, person_id)


def test_a_close_needs_a_reason_and_other_needs_a_note_each_beside_its_field_keeping_what_was_typed(worker_client,
                                                                                                    engine):
    person_id = add_person(worker_client)
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert f'href="/people/{person_id}/close">Close case</a>' in page
    response = worker_client.post_form(f"/people/{person_id}/close", {"note": "Typed before choosing"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="reason-error"' in body and "Choose why the case is closing." in body
    assert "Typed before choosing</textarea>" in body
    response = worker_client.post_form(f"/people/{person_id}/close", {"reason": "other", "note": "  "})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="note-error"' in body and "Say why the case is closing." in body
    assert re.search(r'checked[^>]*value="other"|value="other"[^>]*checked', body)
    assert _person(engine, person_id).status == "open"
    with unit_of_work(engine) as session:
        assert session.exec(select(CaseEvent)).all() == []


def test_closing_cancels_future_appointments_keeps_the_past_and_leaves_the_caseload(worker_client, engine, personas):
    person_id = add_person(worker_client, name="Cleo Closing")
    past_weekly = _local(-timedelta(days=15))
    assert make(worker_client, person_id, starts_local=past_weekly, repeat="weekly").status_code == 303
    assert make(worker_client, person_id, starts_local=_local(timedelta(days=3))).status_code == 303
    assert make(worker_client, person_id, starts_local=_local(-timedelta(days=2))).status_code == 303  # past one-off
    page = worker_client.get(f"/people/{person_id}/close").get_data(as_text=True)
    assert "Future appointments to be cancelled (2)" in page and "(every week)" in page
    before = utcnow()
    response = worker_client.post_form(f"/people/{person_id}/close", {"reason": "moved_away", "note": "Moved to Leeds."})
    assert response.status_code == 303
    page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Case closed. 2 future appointments cancelled." in page
    person = _person(engine, person_id)
    assert person.status == "closed" and person.closed_at >= before
    with unit_of_work(engine) as session:
        series = session.exec(select(Appointment).where(Appointment.person_id == person_id)
                              .order_by(Appointment.id)).all()
        weekly, future, past = series
        assert future.cancelled_at is not None and past.cancelled_at is None  # the past one-off stays as it was
        assert weekly.cancelled_at is None and weekly.repeat_until is not None  # ended, not erased
        now_local = utcnow().astimezone(LONDON).replace(tzinfo=None)
        shown = appointments.occurrences(session, list(series), now_local - timedelta(days=20),
                                         now_local + timedelta(days=60), LONDON)
        assert [o for o in shown if o.starts_local >= now_local and not o.cancelled
                and o.appointment.cancelled_at is None] == []
        assert len([o for o in shown if o.appointment.id == weekly.id]) >= 2  # its past weeks are still there
        event, = session.exec(select(CaseEvent)).all()
        assert (event.kind, event.reason, event.note, event.cancelled_appointments, event.by_id) == (
            "closed", "moved_away", "Moved to Leeds.", 2, personas["worker"].id)
        audited = session.exec(select(AuditEvent).where(AuditEvent.action == "person.close")).one()
        assert audited.record_id == str(person_id) and "appointments_cancelled=2" in audited.detail
    # On the record: the closed card and the timeline, through the registry; no Close case action.
    assert "Moved out of the area" in page and "Moved to Leeds." in page
    timeline = page[page.index("<h2>Timeline</h2>"):]
    assert "Case closed</strong>: Moved out of the area" in timeline and "2 future appointments cancelled." in timeline
    assert f"/people/{person_id}/close" not in page and f"/people/{person_id}/reopen" in page
    # The default caseload shows open cases; the Closed filter shows this one.
    assert "Cleo Closing" not in worker_client.get("/caseload").get_data(as_text=True)
    closed = worker_client.post_form("/caseload", {"status": "closed", "scope": "team"}, page="/caseload",
                                     headers={"HX-Request": "true"})
    assert "Cleo Closing" in closed.get_data(as_text=True)


def test_an_open_plan_is_closed_first_and_another_team_or_an_admin_cannot_close(worker_client, other_worker_client,
                                                                                admin_client, engine):
    person_id = add_person(worker_client)
    assert add_goal(worker_client, person_id).status_code == 303
    page = worker_client.get(f"/people/{person_id}/close").get_data(as_text=True)
    assert "Their plan is still open." in page and f'href="/people/{person_id}/plan/close">Close plan</a>' in page
    assert "<form" not in page.split('<main', 1)[-1].split("</main>")[0]
    response = worker_client.post_form(f"/people/{person_id}/close", {"reason": "disengaged"},
                                       page=f"/people/{person_id}")
    assert response.status_code == 422 and _person(engine, person_id).status == "open"
    for client in (other_worker_client, admin_client):
        assert client.get(f"/people/{person_id}/close").status_code == 404
        assert client.post_form(f"/people/{person_id}/close", {"reason": "died"}, page="/").status_code == 404


def test_a_closed_case_is_reopened_with_a_reason_and_both_events_stay_on_the_timeline(supervisor_client, engine,
                                                                                     personas):
    person_id = add_person(supervisor_client)
    assert supervisor_client.post_form(f"/people/{person_id}/close", {"reason": "in_custody"}).status_code == 303
    response = supervisor_client.post_form(f"/people/{person_id}/reopen", {"note": ""})
    assert response.status_code == 422 and "Say why the case is reopening." in response.get_data(as_text=True)
    assert _person(engine, person_id).closed_at is not None
    assert supervisor_client.post_form(f"/people/{person_id}/reopen",
                                       {"note": "Released; asked for help again."}).status_code == 303
    person = _person(engine, person_id)
    assert person.status == "open" and person.closed_at is None
    page = supervisor_client.get(f"/people/{person_id}").get_data(as_text=True)
    timeline = page[page.index("<h2>Timeline</h2>"):]
    assert timeline.index("Case reopened") < timeline.index("Case closed</strong>: In custody")
    assert "Released; asked for help again." in timeline
    with unit_of_work(engine) as session:
        kinds = [e.kind for e in session.exec(select(CaseEvent).order_by(CaseEvent.id)).all()]
        actions = {a.action for a in session.exec(select(AuditEvent)).all()}
    assert kinds == ["closed", "reopened"] and {"person.close", "person.reopen"} <= actions
    assert audit_service.ACTION_LABELS["person.close"] and audit_service.ACTION_LABELS["person.reopen"]
