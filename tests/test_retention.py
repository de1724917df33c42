"""Retention with a fake clock on a real database: exactly what is due goes (closed cases with
their photos, visit locations, delivery logs), nothing on legal hold, team figures for past months
stay right, the audit says kind and count only; erasure on request goes the same way; append-only
tables still refuse a direct DELETE."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.db import unit_of_work
from app.models import (Alert, Allocation, AuditEvent, ComplianceEvent, Contact, ContactVersion, Delivery,
                        EvidencePack, GoalNote, IdempotencyRecord, MeasureResponse, Order, Person, Photo, Plan, PlanAgreement, PlanGoal,
                        PlanStep, PlanVersion, Referral, ReferralEvent, Requirement, RiskChange, SafetyEvent, User,
                        Visit)
from app.models.reports import Report, ReportReview, ReportVersion
from app.models.records import RetainedCount
from app.services import ValidationError, outcomes, retention
from zoneinfo import ZoneInfo

NOW = datetime(2033, 3, 15, 3, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=7 * 365)  # closed more than six years ago
MONTH = date(2026, 1, 1)


def _person(session, team_id, by, name, *, closed_at=None, hold=False):
    person = Person(team_id=team_id, name=name, status="closed" if closed_at else "open", closed_at=closed_at,
                    legal_hold=hold, legal_hold_reason="Litigation" if hold else None)
    session.add(person)
    session.flush()
    contact = Contact(team_id=team_id, person_id=person.id, author_id=by, contact_type="phone",
                      happened_at=datetime(2026, 1, 10, tzinfo=UTC), notes=f"About {name}.")
    session.add(contact)
    session.flush()
    session.add(ContactVersion(contact_id=contact.id, version=1, replaced_by_id=by, snapshot={"notes": "x"}))
    session.add(RiskChange(person_id=person.id, by_id=by, new_level="low", reason="First"))
    session.add(Photo(contact_id=contact.id, uploaded_by_id=by, stored_as=f"p{person.id}", thumb_stored_as=f"t{person.id}",
                      width=1, height=1, size_bytes=1))
    referral = Referral(team_id=team_id, person_id=person.id, author_id=by, route="housing", lawful_basis="consent",
                        created_at=datetime(2026, 1, 12, tzinfo=UTC))
    session.add(referral)
    session.flush()
    session.add(ReferralEvent(referral_id=referral.id, by_id=by, status="draft"))
    _plan_and_order(session, team_id, by, person.id, contact.id)
    _measures_and_report(session, team_id, by, person.id)
    return person.id


def _plan_and_order(session, team_id, by, person_id, contact_id):
    """A closed plan (one goal achieved) and an order with its compliance record, a signed evidence
    pack and an allocation: the append-only tables retention must now reach too."""
    plan = Plan(team_id=team_id, person_id=person_id, status="closed", version=1, review_due_on=date(2026, 4, 1),
                created_by_id=by, created_at=datetime(2026, 1, 5, tzinfo=UTC),
                closed_at=datetime(2026, 1, 20, tzinfo=UTC), closed_by_id=by)
    session.add(plan)
    session.flush()
    goal = PlanGoal(plan_id=plan.id, team_id=team_id, area="accommodation", wants="A flat", how_we_know="Keys",
                    target_on=date(2026, 6, 1), status="achieved", outcome="achieved")
    session.add(goal)
    session.flush()
    session.add_all([PlanStep(goal_id=goal.id, plan_id=plan.id, team_id=team_id, what="Bid", owner="person"),
                     PlanVersion(plan_id=plan.id, team_id=team_id, number=1, kind="close", change="Closed",
                                 made_by_id=by),
                     PlanAgreement(plan_id=plan.id, team_id=team_id, version=1, answer="agrees", recorded_by_id=by),
                     GoalNote(goal_id=goal.id, plan_id=plan.id, team_id=team_id, kind="contact", text="Viewed a flat",
                              contact_id=contact_id, by_id=by),
                     Allocation(team_id=team_id, person_id=person_id, worker_id=by, by_id=by)])
    order = Order(team_id=team_id, person_id=person_id, kind="community_order", made_by="A court",
                  starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), responsible_officer_id=by, created_by_id=by,
                  created_at=datetime(2026, 1, 2, tzinfo=UTC))
    session.add(order)
    session.flush()
    requirement = Requirement(order_id=order.id, kind="unpaid_work", target=100)
    session.add(requirement)
    session.flush()
    missed = ComplianceEvent(team_id=team_id, person_id=person_id, order_id=order.id, requirement_id=requirement.id,
                             kind="outcome", occurred_on=date(2026, 1, 8), outcome="unacceptable_absence",
                             recorded_by_id=by, recorded_at=datetime(2026, 1, 8, tzinfo=UTC))
    session.add(missed)
    session.flush()
    session.add_all([ComplianceEvent(team_id=team_id, person_id=person_id, order_id=order.id, kind="warning",
                                     occurred_on=date(2026, 1, 9), responds_to_id=missed.id, recorded_by_id=by,
                                     recorded_at=datetime(2026, 1, 9, tzinfo=UTC)),
                     EvidencePack(team_id=team_id, order_id=order.id, version=1, statement="Missed", pdf=b"%PDF",
                                  sha256="0" * 64, made_by_id=by, signed_by_id=by,
                                  signed_at=datetime(2026, 1, 10, tzinfo=UTC))])


def _measures_and_report(session, team_id, by, person_id):
    """A measure corrected once (the correction points at the first answer) and an approved report
    with its sign-off history: more append-only rows a closed case takes with it."""
    taken = datetime(2026, 1, 11, tzinfo=UTC)
    first = MeasureResponse(team_id=team_id, person_id=person_id, instrument="phq9", instrument_version="1",
                            asked_by_id=by, taken_at=taken, total=12)
    session.add(first)
    session.flush()
    session.add(MeasureResponse(team_id=team_id, person_id=person_id, instrument="phq9", instrument_version="1",
                                asked_by_id=by, taken_at=taken, total=10, supersedes_id=first.id,
                                correction_reason="Misread an answer"))
    report = Report(team_id=team_id, person_id=person_id, author_id=by, template="exit", audience="GP",
                    period_start=date(2026, 1, 1), period_end=date(2026, 1, 31), status="approved", sections=[])
    session.add(report)
    session.flush()
    session.add_all([ReportReview(report_id=report.id, version=1, by_id=by, decision="approved"),
                     ReportVersion(report_id=report.id, version=1, template="exit", audience="GP",
                                   period_start=report.period_start, period_end=report.period_end, sections=[],
                                   author_id=by, approved_by_id=by, approved_at=taken, pdf=b"%PDF",
                                   pdf_sha256="0" * 64)])


def _visit(session, team_id, by, ended, *, person_id=None, alert=False):
    visit = Visit(team_id=team_id, worker_id=by, person_id=person_id, place="A street", state="ended", grace_seconds=300,
                  planned_end_at=ended, due_at=ended, overdue_at=ended, ended_at=ended, latitude=51.5, longitude=-0.1,
                  location_at=ended)
    session.add(visit)
    session.flush()
    session.add(SafetyEvent(visit_id=visit.id, actor_id=by, kind="start", latitude=51.5, longitude=-0.1))
    if alert:
        session.add(Alert(team_id=team_id, worker_id=by, visit_id=visit.id, kind="missed_check_in"))
    return visit.id


def _delivery(session, by, made, status, n):
    session.add(Delivery(dedupe_key=f"d{n}", kind="test", event_ref=f"test:{n}", recipient_id=by, channel="email",
                         title="t", body="b", url="/", status=status, created_at=made))


@pytest.fixture
def record(engine, personas, app):
    uploads = app.extensions["fieldline.settings"].instance_path / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    by, team = personas["worker"].id, personas["worker"].team_id
    with unit_of_work(engine) as session:
        ids = {"due": _person(session, team, by, "Due Person", closed_at=LONG_AGO),
               "held": _person(session, team, by, "Held Person", closed_at=LONG_AGO, hold=True),
               "recent": _person(session, team, by, "Recent Person", closed_at=NOW - timedelta(days=5 * 365)),
               "open": _person(session, team, by, "Open Person")}
        ids["visit_old"] = _visit(session, team, by, NOW - timedelta(days=31))
        ids["visit_alert"] = _visit(session, team, by, NOW - timedelta(days=31), alert=True)
        ids["visit_new"] = _visit(session, team, by, NOW - timedelta(days=10))
        ids["visit_held"] = _visit(session, team, by, NOW - timedelta(days=31), person_id=ids["held"])
        ids["visit_due"] = _visit(session, team, by, NOW - timedelta(days=5), person_id=ids["due"])
        _delivery(session, by, NOW - timedelta(days=91), "sent", 1)
        _delivery(session, by, NOW - timedelta(days=91), "pending", 2)
        _delivery(session, by, NOW - timedelta(days=10), "sent", 3)
    with unit_of_work(engine) as session:
        for photo in session.exec(select(Photo)):
            (uploads / photo.stored_as).write_bytes(b"x")
    return ids, uploads


def test_the_job_deletes_exactly_what_is_due_and_nothing_on_legal_hold(engine, personas, runner, record):
    ids, uploads = record
    team = personas["worker"].team_id
    with unit_of_work(engine) as session:
        before = retention.monthly_contacts(session, team, MONTH)
        plans_before = _plan_figures(session, team)
        due_photo = session.exec(select(Photo).join(Contact, Contact.id == Photo.contact_id)
                                 .where(Contact.person_id == ids["due"])).one().stored_as
    assert before == 4
    result = runner.invoke(args=["retention", "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    assert "closed_cases: 1" in result.output and "visit_locations: 1" in result.output
    assert "delivery_logs: 1" in result.output and "photos: 1" in result.output
    with unit_of_work(engine) as session:
        assert {p.id for p in session.exec(select(Person))} == {ids["held"], ids["recent"], ids["open"]}
        assert {c.person_id for c in session.exec(select(Contact))} == {ids["held"], ids["recent"], ids["open"]}
        assert {r.person_id for r in session.exec(select(RiskChange))} == {ids["held"], ids["recent"], ids["open"]}
        assert len(session.exec(select(Photo)).all()) == len(session.exec(select(ContactVersion)).all()) == 3
        assert {r.person_id for r in session.exec(select(Referral))} == {ids["held"], ids["recent"], ids["open"]}
        assert len(session.exec(select(ReferralEvent)).all()) == 3
        located = {v.id for v in session.exec(select(Visit).where(Visit.latitude.is_not(None)))}
        assert located == {ids["visit_alert"], ids["visit_new"], ids["visit_held"], ids["visit_due"]}
        assert session.get(Visit, ids["visit_due"]).person_id is None  # the safety record stays, nameless
        assert {e.visit_id for e in session.exec(select(SafetyEvent).where(SafetyEvent.latitude.is_(None)))} == {
            ids["visit_old"]}
        assert sorted(d.dedupe_key for d in session.exec(select(Delivery))) == ["d2", "d3"]
        # Plans and orders, and every append-only row under them, went with the case; the rest stayed.
        kept = {ids["held"], ids["recent"], ids["open"]}
        for model in (Plan, Order, ComplianceEvent, Allocation):
            assert {row.person_id for row in session.exec(select(model))} == kept, model
        plan_ids = {p.id for p in session.exec(select(Plan))}
        for model in (PlanGoal, PlanStep, PlanVersion, PlanAgreement, GoalNote):
            assert {row.plan_id for row in session.exec(select(model))} == plan_ids, model
        order_ids = {o.id for o in session.exec(select(Order))}
        for model in (Requirement, EvidencePack):
            assert {row.order_id for row in session.exec(select(model))} == order_ids, model
        assert len(session.exec(select(ComplianceEvent)).all()) == 6
        # So did its measures and reports, with their approved versions and sign-off history.
        for model in (MeasureResponse, Report):
            assert {row.person_id for row in session.exec(select(model))} == kept, model
        assert len(session.exec(select(MeasureResponse)).all()) == 6
        report_ids = {r.id for r in session.exec(select(Report))}
        for model in (ReportVersion, ReportReview):
            assert {row.report_id for row in session.exec(select(model))} == report_ids, model
        assert len(session.exec(select(ReportVersion)).all()) == 3
        # Team figures for the past month are what they were.
        assert retention.monthly_contacts(session, team, MONTH) == before
        assert _plan_figures(session, team) == plans_before == (4, {"achieved": 4, "partly": 0, "not_achieved": 0})
        assert {(c.kind, c.count) for c in session.exec(select(RetainedCount).where(
            RetainedCount.kind.in_(("orders", "compliance_events"))))} == {("orders", 1), ("compliance_events", 2)}
        logged = session.exec(select(AuditEvent).where(AuditEvent.action == "retention.delete")).all()
        assert {e.detail for e in logged} == {"closed_cases: 1 on 2033-03-15", "photos: 1 on 2033-03-15",
                                              "visit_locations: 1 on 2033-03-15", "delivery_logs: 1 on 2033-03-15"}
    assert not (uploads / due_photo).exists() and (uploads / f"p{ids['held']}").exists()
    # Run again: nothing more is due.
    again = runner.invoke(args=["retention", "--now", NOW.isoformat()])
    assert "closed_cases: 0" in again.output and "visit_locations: 0" in again.output


def _plan_figures(session, team):
    found = outcomes.figures(session, team, date(2026, 1, 1), date(2026, 1, 31), today=NOW.date(), zone=ZoneInfo("Europe/London"))
    return found.active_plans, found.goals_at_exit


def test_append_only_tables_still_refuse_a_direct_delete(engine, record):
    """Every table with rows from the record: outside the retention job's pass, no DELETE or UPDATE."""
    for table in ("risk_change", "contact_version", "referral_event", "safety_event", "plan_version",
                  "plan_agreement", "goal_note", "compliance_event", "allocation", "measure_response",
                  "report_version", "report_review"):
        for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET id = id"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
    with pytest.raises(Exception, match="evidence pack"), engine.begin() as connection:
        connection.execute(text("DELETE FROM evidence_pack"))


def test_erasure_on_request_goes_the_same_way_and_never_on_legal_hold(engine, personas, record):
    ids, uploads = record
    with unit_of_work(engine) as session:
        admin = session.get(User, personas["admin"].id)
        held = session.get(Person, ids["held"])
        with pytest.raises(ValidationError, match="legal hold"):
            retention.erase(session, held, admin, "They asked", now=NOW, uploads=uploads)
        session.rollback()
        with pytest.raises(ValidationError, match="Say why"):
            retention.erase(session, session.get(Person, ids["open"]), admin, " ", now=NOW, uploads=uploads)
        session.rollback()
        # Answers kept for replays (a page naming them): their team's worker's, another team's too.
        for user, key in ((personas["worker"], "ours"), (personas["other_worker"], "theirs")):
            session.add(IdempotencyRecord(user_id=user.id, key=key, request_hash="h", state="done", status_code=200,
                                          content_type="text/html", body=b"<p>Open Person: contact logged</p>",
                                          flashes=[["success", "Contact with Open Person logged."]]))
        session.commit()
        retention.erase(session, session.get(Person, ids["open"]), admin, "Asked to be forgotten", now=NOW,
                        uploads=uploads)
    with unit_of_work(engine) as session:
        ours = session.get(IdempotencyRecord, (personas["worker"].id, "ours"))
        assert (ours.state, ours.body, ours.flashes, ours.status_code) == ("committed", None, None, None)
        assert session.get(IdempotencyRecord, (personas["other_worker"].id, "theirs")).body is None
        assert session.get(Person, ids["open"]) is None and session.get(Person, ids["held"]) is not None
        erased = session.exec(select(AuditEvent).where(AuditEvent.action == "person.erase")).one()
        assert erased.actor_id == personas["admin"].id and erased.record_id == str(ids["open"])
        assert "Open Person" not in erased.detail
        assert retention.monthly_contacts(session, personas["worker"].team_id, MONTH) == 4


def test_admins_set_the_schedule_put_a_legal_hold_and_erase_and_nobody_else_can(admin_client, supervisor_client,
                                                                                 engine, record):
    ids, _ = record
    assert supervisor_client.get(f"/admin/people/{ids['open']}/records").status_code == 404
    bad = admin_client.post_form("/admin/records/retention", {"closed_cases": "0", "visit_locations": "30",
                                                              "delivery_logs": "90"}, page="/admin/records")
    assert bad.status_code == 422 and "Enter a number of days from 1 to 36500." in bad.get_data(as_text=True)
    assert admin_client.post_form("/admin/records/retention", {"closed_cases": "3650", "visit_locations": "14",
                                                               "delivery_logs": "90"}).status_code == 303
    with unit_of_work(engine) as session:
        assert retention.schedule(session) == {"closed_cases": 3650, "visit_locations": 14, "delivery_logs": 90}
    page = f"/admin/people/{ids['open']}/records"
    no_reason = admin_client.post_form(f"/admin/people/{ids['open']}/legal-hold", {"hold": "y", "reason": ""}, page=page)
    assert no_reason.status_code == 422 and "Say why the record is on legal hold." in no_reason.get_data(as_text=True)
    assert admin_client.post_form(f"/admin/people/{ids['open']}/legal-hold", {"hold": "y", "reason": "A claim"},
                                  page=page).status_code == 303
    refused = admin_client.post_form(f"/admin/people/{ids['open']}/erase", {"reason": "Asked"}, page=page)
    assert refused.status_code == 422 and "on legal hold" in refused.get_data(as_text=True)
    assert admin_client.post_form(f"/admin/people/{ids['open']}/legal-hold", {"reason": ""}, page=page).status_code == 303
    assert admin_client.post_form(f"/admin/people/{ids['open']}/erase", {"reason": "Asked"}, page=page).status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(Person, ids["open"]) is None
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("retention.rule") == 3 and actions.count("person.legal_hold") == 2
    assert "person.erase" in actions


def test_a_case_another_table_still_refers_to_is_kept_and_the_rest_still_go(engine, personas, record):
    """A feature's table this path does not know yet (say, plans) keeps that one case, not the run."""
    ids, uploads = record
    with unit_of_work(engine) as session:
        other = _person(session, personas["worker"].team_id, personas["worker"].id, "Other Due", closed_at=LONG_AGO)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE unknown_plan (id INTEGER PRIMARY KEY, "
                                "person_id INTEGER NOT NULL REFERENCES person(id))"))
        connection.execute(text("INSERT INTO unknown_plan (id, person_id) VALUES (1, :p)"), {"p": ids["due"]})
    try:
        with unit_of_work(engine) as session:
            done = retention.apply(session, NOW, uploads)
        assert done["closed_cases"] == 1
        with unit_of_work(engine) as session:
            assert session.get(Person, other) is None and session.get(Person, ids["due"]) is not None
            assert len(session.exec(select(Contact).where(Contact.person_id == ids["due"])).all()) == 1
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE unknown_plan"))


def test_closing_a_case_records_when_and_reopening_clears_it(worker_client, engine):
    from tests.test_caseload import add_person

    person_id = add_person(worker_client)
    # Editing the details does not close the case: Close case does, with a reason.
    form = {"name": "Dana Doorstep", "status": "closed", "consent_to_share": "not_asked"}
    assert worker_client.post_form(f"/people/{person_id}/edit", form).status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(Person, person_id).status == "open"
    assert worker_client.post_form(f"/people/{person_id}/close", {"reason": "disengaged"}).status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(Person, person_id).closed_at is not None
    assert worker_client.post_form(f"/people/{person_id}/reopen", {"note": "Back in touch"}).status_code == 303
    with unit_of_work(engine) as session:
        assert session.get(Person, person_id).closed_at is None
