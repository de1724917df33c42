"""Reports drafted from the record over real HTTP: the pre-fill and its figures against the
database, sources, bad input, sign-off (never by the author), immutable approved versions with
their PDFs, comparing versions, the timeline and the audit, team scoping."""
import hashlib
import io
import shutil
import subprocess
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.db import unit_of_work
from app.models import (Appointment, AppointmentOccurrence, AuditEvent, Contact, Person, Referral, Report,
                        ReportVersion, RiskChange)
from tests.helpers import LONDON
from tests.test_caseload import add_person
from tests.test_referrals import refer

TODAY = datetime.now(LONDON).date()
START, END = TODAY - timedelta(days=60), TODAY


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(timezone.utc)


def seed_record(engine, person_id: int, author_id: int, *, contacts: int = 12) -> None:
    """Contacts of several kinds in the period and outside it (and a deleted one), appointment
    outcomes, a risk change: what a report should count."""
    kinds = ["face_to_face", "phone", "home_visit", "attempted"]
    with unit_of_work(engine) as session:
        team_id = session.get(Person, person_id).team_id
        for n in range(contacts):
            session.add(Contact(team_id=team_id, person_id=person_id, author_id=author_id,
                                contact_type=kinds[n % 4], happened_at=at(START + timedelta(days=1 + n * 2)),
                                notes=f"Contact number {n}: talked about housing and money.",
                                safeguarding_concern=n == 3))
        session.add(Contact(team_id=team_id, person_id=person_id, author_id=author_id, contact_type="phone",
                            happened_at=at(START - timedelta(days=10)), notes="Before the period."))
        session.add(Contact(team_id=team_id, person_id=person_id, author_id=author_id, contact_type="phone",
                            happened_at=at(START + timedelta(days=2)), notes="Logged by mistake.",
                            deleted_at=at(START + timedelta(days=2)), deleted_by_id=author_id, delete_reason="x"))
        appointment = Appointment(team_id=team_id, worker_id=author_id, person_id=person_id, kind="office",
                                  starts_local=datetime.combine(START + timedelta(days=3), datetime.min.time()),
                                  duration_minutes=30, repeat="weekly")
        session.add(appointment)
        session.flush()
        for week, outcome in enumerate(["attended", "did_not_attend", "attended", "attended", "did_not_attend"]):
            session.add(AppointmentOccurrence(appointment_id=appointment.id, outcome=outcome,
                                              original_local=appointment.starts_local + timedelta(weeks=week),
                                              outcome_at=at(START + timedelta(days=3 + 7 * week)),
                                              outcome_by_id=author_id))
        session.add(RiskChange(person_id=person_id, at=at(START + timedelta(days=20)), by_id=author_id,
                               old_level="medium", new_level="high", reason="Threats from an ex-partner."))


def write(client, person_id, template="progress", start=START, end=END, audience="Crown Court"):
    return client.post_form(f"/people/{person_id}/reports/new", {
        "template": template, "audience": audience, "period_start": start.isoformat(),
        "period_end": end.isoformat()})


def report_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def section(engine, rid, key) -> dict:
    with unit_of_work(engine) as session:
        return next(s for s in session.get(Report, rid).sections if s["key"] == key)


def test_every_figure_in_a_progress_report_matches_the_record(worker_client, engine, personas):
    person_id = add_person(worker_client)
    seed_record(engine, person_id, personas["worker"].id)
    rid = report_id(write(worker_client, person_id))

    with unit_of_work(engine) as session:  # the hand count, straight from the tables
        contacts = [c for c in session.exec(select(Contact).where(Contact.person_id == person_id)).all()
                    if c.deleted_at is None and at(START, 0) <= c.happened_at < at(END + timedelta(days=1), 0)]
        outcomes = Counter(o.outcome for o in session.exec(select(AppointmentOccurrence)).all())
        changes = session.exec(select(RiskChange).where(RiskChange.person_id == person_id,
                                                        RiskChange.reason != "First assessment")).all()
    kinds = Counter(c.contact_type for c in contacts)
    engagement = section(engine, rid, "engagement")["text"]
    assert f"{len(contacts)} contacts between" in engagement
    assert f"{len(contacts) - kinds['attempted']} with the person" in engagement
    assert f"{kinds['attempted']} attempted without reaching them" in engagement
    assert f"{kinds['face_to_face']} face to face" in engagement and f"{kinds['phone']} phone" in engagement
    assert f"{sum(outcomes.values())} appointments with an outcome recorded: {outcomes['attended']} kept, " \
           f"{outcomes['did_not_attend']} missed" in engagement
    assert engagement.count("Missed: office") == outcomes["did_not_attend"]
    risk = section(engine, rid, "risk")
    assert "Risk now: Medium" in risk["text"] and len(changes) == 1
    assert "risk changed from Medium to High: Threats from an ex-partner." in risk["text"]
    assert any(s["href"] == f"/people/{person_id}/risk" for s in risk["sources"])
    # Sections the record cannot fill say what to write instead of inventing it.
    assert section(engine, rid, "recommendation")["text"] == ""
    page = worker_client.get(f"/reports/{rid}").get_data(as_text=True)
    assert "Give your recommendation and the reasons for it." in page and "Where this came from" in page


def test_a_marac_contribution_is_prefilled_with_its_sources_and_its_pdf_made_quickly(worker_client, engine,
                                                                                     personas):
    person_id = add_person(worker_client, consent_to_share="yes", consent_recorded_on="2026-11-01")
    seed_record(engine, person_id, personas["worker"].id, contacts=20)
    dash = ["yes"] * 15 + ["no"] * 9
    for route in ("domestic_abuse", "housing", "mental_health"):
        assert refer(worker_client, person_id, route, dash=dash).status_code == 303
    began = time.monotonic()
    rid = report_id(write(worker_client, person_id, "marac", audience="MARAC, 14 January"))
    pdf = worker_client.get(f"/reports/{rid}/pdf")
    elapsed = time.monotonic() - began
    assert elapsed < 10, elapsed
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="report-FL-R{rid}-v1.pdf"'
    assert "Dana" not in pdf.headers["Content-Disposition"]
    dash_section = section(engine, rid, "dash")
    assert "15 of 24 answered yes; referred to MARAC" in dash_section["text"]
    known = section(engine, rid, "known")
    with unit_of_work(engine) as session:
        referral_ids = [r.id for r in session.exec(select(Referral).where(Referral.person_id == person_id))]
        concern = session.exec(select(Contact).where(Contact.person_id == person_id,
                                                     Contact.safeguarding_concern)).one()
    hrefs = {s["href"] for s in known["sources"]}
    assert {f"/referrals/{r}" for r in referral_ids} <= hrefs
    assert f"/contacts/{concern.id}" in hrefs  # a safeguarding concern is always offered as an extract
    assert "20 contacts between" in known["text"]


def _pdf_words(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


@pytest.mark.parametrize("template, quoting, quote, link", [
    ("mappa", "known", "Contact number 3: talked about housing and money.", "/contacts/"),
    ("strategy", "known", "Contact number 3: talked about housing and money.", "/contacts/"),
    ("exit", "work", f"Missed: office on {START + timedelta(days=10):%-d %B %Y}.", "/appointments/"),
], ids=["mappa", "strategy", "exit"])
def test_mappa_strategy_and_exit_templates_are_prefilled_with_sources_and_make_a_pdf(
        worker_client, engine, personas, template, quoting, quote, link):
    from app.services.reports import TEMPLATES

    person_id = add_person(worker_client)
    seed_record(engine, person_id, personas["worker"].id, contacts=4)
    with unit_of_work(engine) as session:  # each of the three quotes referrals, linked to them
        session.add(Referral(team_id=session.get(Person, person_id).team_id, person_id=person_id, route="housing",
                             author_id=personas["worker"].id, lawful_basis="consent",
                             created_at=at(START + timedelta(days=5))))
    rid = report_id(write(worker_client, person_id, template, audience="Panel"))
    quoted = section(engine, rid, quoting)
    assert quote in quoted["text"]
    assert any(quote in s["text"] and s["href"].startswith(link) for s in quoted["sources"])
    risk = section(engine, rid, "risk")
    assert "risk changed from Medium to High: Threats from an ex-partner." in risk["text"]
    assert any(s["href"] == f"/people/{person_id}/risk" for s in risk["sources"])
    with unit_of_work(engine) as session:
        sections = session.get(Report, rid).sections
    assert [s["key"] for s in sections] == [s.key for s in TEMPLATES[template].sections]
    # Every source is a sentence of its section and a link that opens the record it came from.
    sources = [(s, source) for s in sections for source in s["sources"]]
    assert all(source["text"] in s["text"] for s, source in sources)
    hrefs = {source["href"] for _, source in sources}
    assert any(href.startswith("/referrals/") for href in hrefs)
    for href in hrefs:
        assert worker_client.get(href).status_code == 200, href
    pdf = worker_client.get(f"/reports/{rid}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    words = _pdf_words(pdf.data)
    assert TEMPLATES[template].label in words and quote in words
    assert all(s["heading"] in words for s in sections)


def test_bad_requests_are_refused_next_to_the_field(worker_client, other_worker_client, engine, personas):
    person_id = add_person(worker_client)
    backwards = write(worker_client, person_id, start=END, end=START, audience="Panel typed here")
    page = backwards.get_data(as_text=True)
    assert backwards.status_code == 422 and "The period must end on or after the day it starts." in page
    assert 'value="Panel typed here"' in page
    ahead = write(worker_client, person_id, end=TODAY + timedelta(days=1))
    assert ahead.status_code == 422 and "The period cannot end after today." in ahead.get_data(as_text=True)
    empty = write(worker_client, person_id, start=date(2020, 1, 1), end=date(2020, 3, 31))
    assert empty.status_code == 422
    assert "Nothing is recorded for this person between 1 January 2020 and 31 March 2020" in empty.get_data(
        as_text=True)
    assert write(worker_client, person_id, template="novel").status_code == 422
    with unit_of_work(engine) as session:
        assert session.exec(select(Report)).first() is None
    # Another team's person, or report, is not there at all.
    assert write(other_worker_client, person_id).status_code == 404
    seed_record(engine, person_id, personas["worker"].id, contacts=2)
    rid = report_id(write(worker_client, person_id))
    assert other_worker_client.get(f"/reports/{rid}").status_code == 404
    assert other_worker_client.get(f"/reports/{rid}/pdf").status_code == 404


def _save(client, rid, texts: dict, client_ms=None, json=True):
    data = {f"section_{k}": v for k, v in texts.items()}
    if client_ms is not None:
        data["client_ms"] = str(client_ms)
    headers = {"Accept": "application/json"} if json else {}
    return client.post_form(f"/reports/{rid}/draft", data, page=f"/reports/{rid}", headers=headers)


def test_sign_off_versions_and_immutability(worker_client, supervisor_client, app, engine, personas):
    person_id = add_person(worker_client)
    seed_record(engine, person_id, personas["worker"].id, contacts=3)
    rid = report_id(write(worker_client, person_id))
    phone_clock = 1_764_590_000_000  # what Date.now() answers: more than 32 bits
    saved = _save(worker_client, rid, {"recommendation": "A community order with support."}, client_ms=phone_clock)
    assert saved.status_code == 200 and saved.json["kept"] is True
    # A save sent late from the phone's outbox (made before the one kept) changes nothing.
    late = _save(worker_client, rid, {"recommendation": "An older draft."}, client_ms=phone_clock - 3000)
    assert late.status_code == 200 and late.json["kept"] is False
    assert section(engine, rid, "recommendation")["text"] == "A community order with support."
    # Nobody signs off what is not asked for; a worker cannot; the author (a supervisor) cannot.
    assert supervisor_client.post_form(f"/reports/{rid}/approve", page=f"/reports/{rid}").status_code == 422
    assert worker_client.post_form(f"/reports/{rid}/sign-off", page=f"/reports/{rid}").status_code == 303
    assert worker_client.post_form(f"/reports/{rid}/approve", page=f"/reports/{rid}").status_code == 422
    assert _save(worker_client, rid, {"recommendation": "Sneaky change."}).status_code == 422
    refused = supervisor_client.post_form(f"/reports/{rid}/return", {"comments": ""}, page=f"/reports/{rid}")
    assert refused.status_code == 422 and "Say what needs changing." in refused.get_data(as_text=True)
    assert supervisor_client.post_form(f"/reports/{rid}/return", {"comments": "Add the housing outcome."},
                                       page=f"/reports/{rid}").status_code == 303
    assert "Add the housing outcome." in worker_client.get(f"/reports/{rid}").get_data(as_text=True)
    assert worker_client.post_form(f"/reports/{rid}/sign-off", page=f"/reports/{rid}").status_code == 303
    assert supervisor_client.post_form(f"/reports/{rid}/approve", page=f"/reports/{rid}").status_code == 303

    with unit_of_work(engine) as session:
        first = session.exec(select(ReportVersion).where(ReportVersion.report_id == rid)).one()
        first_pdf, first_sections, first_hash = first.pdf, first.sections, first.pdf_sha256
        approved_on = f"{first.approved_at.astimezone(LONDON):%-d %B %Y}"
    assert hashlib.sha256(first_pdf).hexdigest() == first_hash
    # The approved PDF states its version, period, author, approver and the day it was approved.
    words = _pdf_words(first_pdf)
    for said in (f"Reference: FL-R{rid} Version: 1", f"Period: {START:%-d %B %Y} to {END:%-d %B %Y}",
                 f"Written by: {personas['worker'].name}", f"Approved by: {personas['supervisor'].name}",
                 f"Date: {approved_on}"):
        assert said in words, said
    assert worker_client.get(f"/reports/{rid}/versions/1/pdf").data == first_pdf
    # Approved: it cannot change; a change is version 2.
    assert _save(worker_client, rid, {"recommendation": "Changed after approval."}).status_code == 422
    assert worker_client.post_form(f"/reports/{rid}/revise", page=f"/reports/{rid}").status_code == 303
    assert _save(worker_client, rid, {"recommendation": "A community order with support.\nAnd a curfew."}
                 ).status_code == 200
    compared = worker_client.get(f"/reports/{rid}/compare/1").get_data(as_text=True)
    assert "<ins>And a curfew.</ins>" in compared
    assert worker_client.post_form(f"/reports/{rid}/sign-off", page=f"/reports/{rid}").status_code == 303
    assert supervisor_client.post_form(f"/reports/{rid}/approve", page=f"/reports/{rid}").status_code == 303
    with unit_of_work(engine) as session:
        versions = session.exec(select(ReportVersion).where(ReportVersion.report_id == rid)
                                .order_by(ReportVersion.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].pdf == first_pdf and versions[0].sections == first_sections
        assert versions[1].approved_by_id == personas["supervisor"].id
        assert "Version: 2" in _pdf_words(versions[1].pdf) and "And a curfew." in _pdf_words(versions[1].pdf)
    page = worker_client.get(f"/reports/{rid}").get_data(as_text=True)
    assert "PDF of version 1" in page and "PDF of version 2" in page
    assert "<ins>And a curfew.</ins>" in worker_client.get(f"/reports/{rid}/compare/1/2").get_data(as_text=True)
    assert worker_client.get(f"/reports/{rid}/versions/2/print").status_code == 200
    # The database itself refuses to change an approved version.
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as connection:
            connection.execute(text("UPDATE report_version SET audience = 'x' WHERE report_id = :r"), {"r": rid})

    # On the person's timeline; every view, print, download and approval in the audit.
    assert f'href="/reports/{rid}"' in worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    with unit_of_work(engine) as session:
        actions = Counter(e.action for e in session.exec(select(AuditEvent).where(AuditEvent.record_type == "report",
                                                                                   AuditEvent.record_id == str(rid))))
    assert actions["report.approve"] == 2 and actions["report.return"] == 1 and actions["report.ask_sign_off"] == 3
    assert actions["report.pdf"] == 1 and actions["report.print"] == 1 and actions["report.view"] >= 2
    assert actions["report.revise"] == 1 and actions["report.compare"] == 2


def test_a_supervisor_cannot_sign_off_their_own_report(supervisor_client, engine, personas):
    person_id = add_person(supervisor_client)
    seed_record(engine, person_id, personas["supervisor"].id, contacts=2)
    rid = report_id(write(supervisor_client, person_id, "case_review", audience="Quarterly review"))
    assert supervisor_client.post_form(f"/reports/{rid}/sign-off", page=f"/reports/{rid}").status_code == 303
    own = supervisor_client.post_form(f"/reports/{rid}/approve", page=f"/reports/{rid}")
    assert own.status_code == 422 and "another supervisor must sign it off" in own.get_data(as_text=True)
    with unit_of_work(engine) as session:
        assert session.get(Report, rid).status == "awaiting_sign_off"
        assert session.exec(select(ReportVersion)).first() is None


def _painted(pdf: bytes, colour: tuple[int, int, int], tmp_path) -> int:
    """How many pixels of the first page, rendered by poppler, are exactly this colour."""
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "report.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    raw = (tmp_path / "page.ppm").read_bytes()
    _, width, height, _, pixels = raw.split(maxsplit=4)
    return sum(1 for i in range(0, int(width) * int(height) * 3, 3) if tuple(pixels[i:i + 3]) == colour)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils (pdftoppm) is not installed")
def test_measure_charts_are_drawn_into_the_pdf_with_the_summary_in_the_section(worker_client, engine, personas,
                                                                                tmp_path):
    from pypdf import PdfReader

    from app.charts import BAND_FILLS
    from app.models import MeasureResponse

    person_id = add_person(worker_client)
    with unit_of_work(engine) as session:
        team_id = session.get(Person, person_id).team_id
        for days, total in ((5, 18), (25, 12), (45, 9)):
            session.add(MeasureResponse(team_id=team_id, person_id=person_id, instrument="phq9",
                                        instrument_version="1", asked_by_id=personas["worker"].id,
                                        taken_at=at(START + timedelta(days=days)), total=total))
    rid = report_id(write(worker_client, person_id))
    progress = section(engine, rid, "progress")
    summary = f"PHQ-9: 18 on {START + timedelta(days=5):%-d %B %Y}"
    assert summary in progress["text"] and "(3 times): reliable improvement" in progress["text"]
    assert len(progress["charts"]) == 1 and progress["charts"][0]["svg"].count("<circle") == 3
    assert 'class="chart__svg"' in worker_client.get(f"/reports/{rid}").get_data(as_text=True)
    pdf = worker_client.get(f"/reports/{rid}/pdf").data
    words = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert summary in words and "reliable deterioration" in words  # the summary, and the chart's own label
    warn = tuple(bytes.fromhex(BAND_FILLS["warn"][1:]))
    assert _painted(pdf, warn, tmp_path) > 100  # the moderate band, shaded: the chart is drawn


def test_the_worker_picks_which_contacts_a_section_quotes(worker_client, other_worker_client, engine, personas):
    person_id = add_person(worker_client)
    seed_record(engine, person_id, personas["worker"].id, contacts=12)
    rid = report_id(write(worker_client, person_id, "marac", audience="MARAC"))
    url = f"/reports/{rid}/sections/known/extracts"
    with unit_of_work(engine) as session:
        contacts = sorted((c for c in session.exec(select(Contact).where(Contact.person_id == person_id))
                           if c.deleted_at is None and c.happened_at >= at(START, 0)), key=lambda c: c.happened_at)
    assert len(contacts) == 12
    assert f'href="{url}"' in worker_client.get(f"/reports/{rid}").get_data(as_text=True)
    page = worker_client.get(url).get_data(as_text=True)
    assert page.count('name="extract"') == 12 and page.count(" checked") == 10  # the latest ten to start with
    assert other_worker_client.get(url).status_code == 404
    assert worker_client.get(f"/reports/{rid}/sections/dash/extracts").status_code == 404  # quotes nothing
    bad = worker_client.post_form(url, {"extract": "contact-999999"}, page=url)
    assert bad.status_code == 422 and "Choose from the contacts listed." in bad.get_data(as_text=True)
    first, fifth = contacts[0], contacts[4]
    chosen = worker_client.post_form(url, {"extract": [f"contact-{first.id}", f"contact-{fifth.id}"]}, page=url)
    assert chosen.status_code == 303
    known = section(engine, rid, "known")
    quoted = [s["href"] for s in known["sources"] if s["href"].startswith("/contacts/")]
    assert quoted == [f"/contacts/{first.id}", f"/contacts/{fifth.id}"]
    assert known["text"].count("talked about housing and money") == 2
    assert f"{first.happened_at.astimezone(LONDON):%-d %B %Y} (" in known["text"]
    assert "12 contacts between" in known["text"]  # the rest of the section is kept
    assert worker_client.get(url).get_data(as_text=True).count(" checked") == 2


def test_the_plan_and_the_compliance_panel_fill_a_progress_report(worker_client, engine, personas):
    from app.models import ComplianceEvent, GoalNote, Order, Plan, PlanGoal, Requirement
    from app.services.compliance_rules import FAILURES, KEPT

    person_id = add_person(worker_client)
    by = personas["worker"].id
    with unit_of_work(engine) as session:
        team_id = session.get(Person, person_id).team_id
        plan = Plan(team_id=team_id, person_id=person_id, review_due_on=END + timedelta(days=90), created_by_id=by,
                    created_at=at(START + timedelta(days=1)), version=1)
        session.add(plan)
        session.flush()
        goal = PlanGoal(plan_id=plan.id, team_id=team_id, area="accommodation", wants="A flat of my own",
                        how_we_know="Keys in hand", target_on=END, created_at=at(START + timedelta(days=1)))
        session.add(goal)
        session.flush()
        session.add(GoalNote(goal_id=goal.id, plan_id=plan.id, team_id=team_id, kind="review", by_id=by,
                             text="Viewed two flats.", at=at(START + timedelta(days=10))))
        order = Order(team_id=team_id, person_id=person_id, kind="community_order", made_by="Leeds Crown Court",
                      starts_on=START - timedelta(days=30), ends_on=END + timedelta(days=300),
                      responsible_officer_id=by, created_by_id=by)
        session.add(order)
        session.flush()
        requirement = Requirement(order_id=order.id, kind="rehabilitation_activity", target=20)
        session.add(requirement)
        session.flush()
        for days, outcome in ((5, "attended_complied"), (12, "unacceptable_absence"), (19, "attended_complied"),
                              (-40, "unacceptable_absence")):  # the last before the period
            session.add(ComplianceEvent(team_id=team_id, person_id=person_id, order_id=order.id,
                                        requirement_id=requirement.id, kind="outcome",
                                        occurred_on=START + timedelta(days=days), outcome=outcome, recorded_by_id=by))
    rid = report_id(write(worker_client, person_id))
    with unit_of_work(engine) as session:  # the hand count
        inside = [e for e in session.exec(select(ComplianceEvent).where(ComplianceEvent.person_id == person_id))
                  if START <= e.occurred_on <= END]
    kept, failed = sum(e.outcome in KEPT for e in inside), sum(e.outcome in FAILURES for e in inside)
    engagement = section(engine, rid, "engagement")
    assert (kept, failed) == (2, 1)
    assert "Community order made by Leeds Crown Court" in engagement["text"]
    assert f"in the period {kept} instructions kept, 0 acceptable absences, {failed} not kept" in engagement["text"]
    assert "Rehabilitation activity: 2 of 20 days completed" in engagement["text"]
    assert any(s["href"] == f"/orders/{order.id}" for s in engagement["sources"])
    progress = section(engine, rid, "progress")["text"]
    assert "Goal (accommodation): A flat of my own — active." in progress
    assert "progress on this goal: Viewed two flats." in progress
