"""The person's own copy over real HTTP: a ZIP whose JSON lists every record (checked against the
database), with the photos and PDFs, third-party names flagged and redacted, admins only."""
import hashlib
import io
import json
import secrets
import time
import zipfile
from datetime import date

from pypdf import PdfReader
from sqlmodel import select

from app.db import unit_of_work
from app.models import (AuditEvent, ComplianceEvent, Contact, ContactAddendum, EvidencePack, GoalNote,
                        MeasureResponse, Order, Person, Photo, Plan, PlanAgreement, PlanGoal, PlanStep, PlanVersion,
                        Referral, Report, ReportVersion, Requirement, RiskChange, SubjectAccessRequest, Visit)
from app.services import report_documents as report_docs
from app.services import photos as photo_service
from app.services.subject_access import SEALED
from tests.helpers import LONDON
from tests.test_caseload import add_person, jpeg
from tests.test_reports import START, at, seed_record
from tests.test_retention import _plan_and_order


def _approved_report(session, team_id, person_id, personas) -> int:
    """An approved report version naming another person, with its PDF as approved."""
    sections = [{"key": "known", "heading": "What the service knows", "text": "Has been living with Sam Other.",
                 "sources": []}]
    report = Report(team_id=team_id, person_id=person_id, author_id=personas["worker"].id, template="marac",
                    audience="MARAC", period_start=START, period_end=START, status="approved", sections=sections)
    session.add(report)
    session.flush()
    pdf = report_docs.pdf(report_docs.parts(
        reference=f"FL-R{report.id}", version=1, template="marac", audience="MARAC", start=START, end=START,
        person_name="Dana Doorstep", author=personas["worker"].name, approver=personas["supervisor"].name,
        approved_at=at(START), sections=sections, zone=LONDON), template="marac", reference=f"FL-R{report.id}",
        status="Approved, version 1")
    assert b"%PDF" in pdf
    session.add(ReportVersion(report_id=report.id, version=1, template="marac", audience="MARAC", period_start=START,
                              period_end=START, sections=sections, author_id=personas["worker"].id,
                              approved_by_id=personas["supervisor"].id, approved_at=at(START), pdf=pdf,
                              pdf_sha256=hashlib.sha256(pdf).hexdigest()))
    return report.id


def test_subject_access_export_lists_every_record_flags_third_parties_and_is_admin_only(
        app, worker_client, supervisor_client, admin_client, engine, personas):
    person_id = add_person(worker_client, name="Dana Doorstep")
    add_person(worker_client, name="Sam Other")
    seed_record(engine, person_id, personas["worker"].id, contacts=200 // 2)  # 100 here, 100 more below
    uploads = photo_service.uploads_folder(app.extensions["fieldline.settings"].instance_path)
    uploads.mkdir(parents=True, exist_ok=True)
    picture = jpeg(64, 64)
    with unit_of_work(engine) as session:
        team_id = session.get(Person, person_id).team_id
        for n in range(100):
            session.add(Contact(team_id=team_id, person_id=person_id, author_id=personas["worker"].id,
                                contact_type="phone", happened_at=at(START),
                                notes="Stays with Sam Other most nights." if n == 0 else "Rang about benefits."))
        ended = at(START)
        session.add(Visit(team_id=team_id, worker_id=personas["worker"].id, person_id=person_id, place="Home",
                          state="ended", grace_seconds=300, planned_end_at=ended, due_at=ended, overdue_at=ended,
                          ended_at=ended, sealed_notes="Partner is violent; dog in the garden."))
        session.flush()
        first = session.exec(select(Contact).where(Contact.person_id == person_id)).first()
        for n in range(20):
            name = secrets.token_hex(8)
            (uploads / name).write_bytes(picture)
            session.add(Photo(contact_id=first.id, uploaded_by_id=personas["worker"].id, stored_as=name,
                              thumb_stored_as=name + "t", width=64, height=64, size_bytes=len(picture)))
        session.add(ContactAddendum(contact_id=first.id, author_id=personas["worker"].id,
                                    text="Later: Sam Other rang to say she was safe."))
        session.add(MeasureResponse(team_id=team_id, person_id=person_id, instrument="phq9", instrument_version="1",
                                    asked_by_id=personas["worker"].id, taken_at=at(START), total=14))
        session.add(Referral(team_id=team_id, person_id=person_id, author_id=personas["worker"].id, route="housing",
                             lawful_basis="consent", summary="Needs a flat away from Sam Other."))

    assert supervisor_client.get("/admin/records").status_code == 404  # admins only, whatever the team
    assert supervisor_client.post_form("/admin/records/requests", {"person_ref": str(person_id),
                                                                   "received_on": "2026-11-30"}, page="/").status_code == 404
    opened = admin_client.post_form("/admin/records/requests", {"person_ref": str(person_id),
                                                                "received_on": "2026-11-30"}, page="/admin/records")
    assert opened.status_code == 303
    url = opened.headers["Location"]
    with unit_of_work(engine) as session:  # plans and orders add what they hold from their own report.py
        _plan_and_order(session, team_id, personas["worker"].id, person_id, first.id)
        plan = session.exec(select(Plan).where(Plan.person_id == person_id)).one()
        goal = session.exec(select(PlanGoal).where(PlanGoal.plan_id == plan.id)).one()
        session.add(GoalNote(goal_id=goal.id, plan_id=plan.id, team_id=team_id, kind="review", by_id=first.author_id,
                             text="Wants to move in with Sam Other."))
        report_id = _approved_report(session, team_id, person_id, personas)
    assert supervisor_client.get(url).status_code == 404
    assert supervisor_client.post_form(url, {"recipient": "person"}, page="/").status_code == 404
    page = admin_client.get(url).get_data(as_text=True)
    assert "Review</span> Sam Other in contacts" in page
    assert "Sam Other in contact addenda" in page and "Sam Other in referrals" in page
    assert "Sam Other in report versions" in page and "Wren Walker in report versions" in page  # text; author
    assert admin_client.post_form(url, {}).status_code == 422  # who it is for must be said
    began = time.monotonic()
    answer = admin_client.post_form(url, {"recipient": "person", "redact": "Sam Other"})
    assert time.monotonic() - began < 60
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/zip"
    assert "Dana" not in answer.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.data))
    data = json.loads(archive.read("record.json"))
    with unit_of_work(engine) as session:
        contact_ids = {c.id for c in session.exec(select(Contact).where(Contact.person_id == person_id))}
        photo_ids = {p.id for p in session.exec(select(Photo))}
    assert {c["id"] for c in data["contacts"]} == contact_ids and len(contact_ids) == 202
    assert {p["id"] for p in data["photos"]} == photo_ids and len(data["appointment_occurrences"]) == 5
    with unit_of_work(engine) as session:  # the risk history, addenda, measures and referrals, as held
        risk_ids = {r.id for r in session.exec(select(RiskChange).where(RiskChange.person_id == person_id))}
        addendum_ids = {a.id for a in session.exec(select(ContactAddendum).where(
            ContactAddendum.contact_id.in_(contact_ids)))}
        measure_ids = {m.id for m in session.exec(select(MeasureResponse).where(
            MeasureResponse.person_id == person_id))}
        referral_ids = {r.id for r in session.exec(select(Referral).where(Referral.person_id == person_id))}
    assert {r["id"] for r in data["risk_history"]} == risk_ids and len(risk_ids) >= 2
    assert "Threats from an ex-partner." in {r["reason"] for r in data["risk_history"]}
    assert {a["id"] for a in data["contact_addenda"]} == addendum_ids and len(addendum_ids) == 1
    assert data["contact_addenda"][0]["text"] == "Later: [redacted] rang to say she was safe."
    assert {m["id"] for m in data["measures"]} == measure_ids and [m["total"] for m in data["measures"]] == [14]
    assert {r["id"] for r in data["referrals"]} == referral_ids and len(referral_ids) == 1
    for row in data["referrals"]:  # each with its PDF, the names chosen redacted there too
        words = " ".join(" ".join(page.extract_text() for page in PdfReader(
            io.BytesIO(archive.read(row["file"]))).pages).split())
        assert f"FL-{row['id']}" in words and "Needs a flat away from [redacted]." in words
        assert "Sam Other" not in words
    assert len([n for n in archive.namelist() if n.startswith("photos/")]) == 20
    assert archive.read("summary.pdf").startswith(b"%PDF")
    assert any(c["notes"] == "Stays with [redacted] most nights." for c in data["contacts"])
    # The approved report named Sam Other: it goes out as a redacted copy; the stored version is as approved.
    released = archive.read(f"reports/report-FL-R{report_id}-v1.pdf")
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(released)).pages)
    assert "Sam Other" not in words and "Has been living with [redacted]." in " ".join(words.split())
    assert [v["redacted_copy"] for v in data["report_versions"]] == [True]
    assert data["reports"][0]["sections"][0]["text"] == "Has been living with [redacted]."
    assert "[redacted]" in data["report_versions"][0]["sections"][0]["text"]
    with unit_of_work(engine) as session:
        kept = session.exec(select(ReportVersion)).one()
        assert "Sam Other" in kept.sections[0]["text"] and hashlib.sha256(kept.pdf).hexdigest() == kept.pdf_sha256
    assert [v["sealed_notes"] for v in data["visits"]] == [SEALED]  # staff safety: withheld, and said so
    with unit_of_work(engine) as session:  # every plan and order record, checked against the database
        plan_ids = {p.id for p in session.exec(select(Plan).where(Plan.person_id == person_id))}
        order_ids = {o.id for o in session.exec(select(Order).where(Order.person_id == person_id))}
        for kind, model in (("plan_goals", PlanGoal), ("plan_steps", PlanStep), ("plan_agreements", PlanAgreement),
                            ("plan_versions", PlanVersion), ("goal_notes", GoalNote)):
            assert {r["id"] for r in data[kind]} == {r.id for r in session.exec(
                select(model).where(model.plan_id.in_(plan_ids)))} != set(), kind
        for kind, model in (("requirements", Requirement), ("compliance_events", ComplianceEvent),
                            ("evidence_packs", EvidencePack)):
            assert {r["id"] for r in data[kind]} == {r.id for r in session.exec(
                select(model).where(model.order_id.in_(order_ids)))} != set(), kind
    assert {p["id"] for p in data["plans"]} == plan_ids and {o["id"] for o in data["orders"]} == order_ids
    assert "Wants to move in with [redacted]." in {n["text"] for n in data["goal_notes"]}
    summary = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read("summary.pdf"))).pages)
    for said in ("Threats from an ex-partner.", "phq9: 14", "housing, draft: Needs a flat", "Plan goals", "A flat",
                 "Agreement with the plan", "Progress on goals", "Viewed a flat", "Unpaid work",
                 "unacceptable absence", "Breach evidence packs"):
        assert said in " ".join(summary.split()), said
    assert any(e["action"] == "person.create" for e in data["audit"])
    with unit_of_work(engine) as session:
        exported = session.exec(select(AuditEvent).where(AuditEvent.action == "subject_access.export")).one()
    assert exported.actor_id == personas["admin"].id and "to person; 1 names redacted" in exported.detail
    with unit_of_work(engine) as session:  # the release is recorded on the request: done, off the list
        found = session.exec(select(SubjectAccessRequest)).one()
        assert found.released_by_id == personas["admin"].id and found.released_to == "person"
    assert "No requests are waiting." in admin_client.get("/admin/records").get_data(as_text=True)


def test_requests_are_due_a_month_after_receipt_and_extend_by_two_with_a_reason(admin_client, worker_client,
                                                                               engine):
    person_id = add_person(worker_client, name="Dana Doorstep")
    future = admin_client.post_form("/admin/records/requests", {"person_ref": str(person_id),
                                                                "received_on": "2099-01-01"}, page="/admin/records")
    assert future.status_code == 422 and "cannot be received in the future" in future.get_data(as_text=True)
    nobody = admin_client.post_form("/admin/records/requests", {"person_ref": "999999", "received_on": "2026-01-31"},
                                    page="/admin/records")
    assert nobody.status_code == 422 and "No person has that reference number." in nobody.get_data(as_text=True)
    url = admin_client.post_form("/admin/records/requests", {"person_ref": str(person_id),
                                                             "received_on": "2026-01-31"}).headers["Location"]
    with unit_of_work(engine) as session:
        assert session.exec(select(SubjectAccessRequest)).one().due_on == date(2026, 2, 28)
    listed = admin_client.get("/admin/records").get_data(as_text=True)
    assert "Dana Doorstep" in listed and "Overdue by" in listed
    home = admin_client.get("/").get_data(as_text=True)
    assert "Subject access requests waiting" in home and "1 overdue" in home and "Dana" not in home
    no_reason = admin_client.post_form(f"{url}/extend", {"reason": ""}, page=url)
    assert no_reason.status_code == 422 and "Say why the request needs longer" in no_reason.get_data(as_text=True)
    assert admin_client.post_form(f"{url}/extend", {"reason": "Records from three teams."}, page=url).status_code == 303
    with unit_of_work(engine) as session:
        assert session.exec(select(SubjectAccessRequest)).one().due_on == date(2026, 4, 30)
    again = admin_client.post_form(f"{url}/extend", {"reason": "More."}, page=url)
    assert again.status_code == 422  # one extension, of two months, at most
