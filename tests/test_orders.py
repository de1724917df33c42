"""Orders and compliance through HTTP and the services on a real database: an order with its
requirements, enforceable outcomes, the warning and the decision, the panel, non-association,
load points, the team's list, and the evidence pack (40 instructions, rendered, signed, sealed)."""
import json
import re
import shutil
import subprocess
import time as clock
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import text
from sqlmodel import select

from app.db import unit_of_work
from app.models import (Alert, Appointment, AuditEvent, ComplianceEvent, Contact, EvidencePack, Order, Person, User,
                        Visit)
from app.models.types import utcnow
from app.services import compliance, compliance_board, escalation, evidence_pack, orders
from tests.test_caseload import add_person
from tests.test_notifications import deliveries, receiver, settings, subscribe  # noqa: F401 (fixtures)

LONDON = ZoneInfo("Europe/London")


def _now():
    return datetime.now(LONDON)


def add_order(client, person_id, **data):
    today = _now().date()
    form = {"kind": "community_order", "made_by": "Leeds Magistrates' Court",
            "starts_on": (today - timedelta(days=90)).isoformat(), "ends_on": (today + timedelta(days=275)).isoformat(),
            **data}
    page = f"/people/{person_id}/orders/new"
    html = client.get(page).get_data(as_text=True)
    officer = re.search(r'<option selected value="(\d+)"', html) or re.search(r'<option value="(\d+)"', html)
    form.setdefault("responsible_officer_id", officer.group(1))
    return client.post_form(page, form)


def appointment_at(client, engine, person_id, starts_local: datetime, repeat="none"):
    response = client.post_form("/appointments/new", {
        "person_id": str(person_id), "kind": "office", "starts_local": starts_local.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "60", "repeat": repeat})
    assert response.status_code == 303, response.get_data(as_text=True)
    with unit_of_work(engine) as session:
        return session.exec(select(Appointment).order_by(Appointment.id.desc())).first().id


def test_an_order_from_requirements_to_the_breach_decision(worker_client, supervisor_client, other_worker_client,
                                                           engine, personas):
    person_id = add_person(worker_client)
    named_id = add_person(worker_client, name="Nico Named", known_as="")
    # Bad input keeps what was typed: an order ending before it starts.
    refused = add_order(worker_client, person_id, starts_on="2026-05-01", ends_on="2026-04-01")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "The order cannot end before it starts." in page and "Leeds Magistrates" in page
    created = add_order(worker_client, person_id)
    assert created.status_code == 303
    order_id = int(created.headers["Location"].rsplit("/", 1)[1])
    url = f"/orders/{order_id}"
    assert worker_client.post_form(f"{url}/requirements", {"kind": "rehabilitation_activity", "target": "20"},
                                   page=url).status_code == 303
    missing = worker_client.post_form(f"{url}/requirements", {"kind": "non_association"}, page=url)
    assert missing.status_code == 422 and "Name at least one person" in missing.get_data(as_text=True)
    assert worker_client.post_form(f"{url}/requirements", {"kind": "non_association",
                                                           "named_person_ids": str(named_id)},
                                   page=url).status_code == 303
    for kind, detail in (("curfew", "7pm to 7am at home"), ("exclusion_zone", "Leeds city centre")):
        assert worker_client.post_form(f"{url}/requirements", {"kind": kind, "detail": detail},
                                       page=url).status_code == 303

    # Two weekly instructions under the activity requirement, told in person.
    with unit_of_work(engine) as session:
        rar = session.exec(select(orders.Requirement).where(orders.Requirement.order_id == order_id)).first().id
    # Weekly from two weeks back, so the third one is today (after the warning given today) but
    # already past, at any hour the suite runs.
    now = _now().replace(second=0, microsecond=0, tzinfo=None)
    start = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0)) - timedelta(weeks=2)
    appointment_id = appointment_at(worker_client, engine, person_id, start, repeat="weekly")
    assert worker_client.post_form(f"{url}/instructions", {
        "appointment_id": str(appointment_id), "requirement_id": str(rar), "told_how": "in_person",
        "told_on": (start.date() - timedelta(days=1)).isoformat()}, page=url).status_code == 303

    def outcome(on: datetime, **data):
        return worker_client.post_form(f"/appointments/{appointment_id}/enforceable-outcome",
                                       {"on": on.isoformat(timespec="minutes"), **data},
                                       page=f"/appointments/{appointment_id}?on={on.isoformat(timespec='minutes')}")

    # Not yet due: refused, with the reason.
    future = start + timedelta(weeks=3)
    early = outcome(future, outcome="unacceptable_absence")
    assert early.status_code == 422 and "not due yet" in early.get_data(as_text=True)
    assert outcome(start, outcome="attended_complied").status_code == 303
    assert outcome(start + timedelta(weeks=1), outcome="unacceptable_absence").status_code == 303

    shown = worker_client.get(url).get_data(as_text=True)
    assert "Warning due" in shown and "1 of 20 days completed, " in shown
    with unit_of_work(engine) as session:
        failure = session.exec(select(ComplianceEvent).where(ComplianceEvent.outcome == "unacceptable_absence")).one()
    letter_page = worker_client.get(f"{url}/warnings/{failure.id}").get_data(as_text=True)
    assert "within 12 months" in letter_page and "unacceptable" in letter_page
    letter = re.search(r'<textarea[^>]*name="letter"[^>]*>\s*(.*?)</textarea>', letter_page, re.S).group(1)
    assert worker_client.post_form(f"{url}/warnings/{failure.id}", {"letter": letter}).status_code == 303

    # The second failure goes to the supervisor's list with a clock of 10 working days.
    assert outcome(start + timedelta(weeks=2), outcome="unacceptable_absence").status_code == 303
    board = supervisor_client.get("/team/compliance").get_data(as_text=True)
    assert "Breach decision due" in board and "Dana Doorstep" in board
    with unit_of_work(engine) as session:
        second = session.exec(select(ComplianceEvent).where(ComplianceEvent.outcome == "unacceptable_absence")
                              .order_by(ComplianceEvent.id.desc())).first()
    assert worker_client.get(f"{url}/decisions/{second.id}").status_code == 404  # supervisors decide
    assert supervisor_client.post_form(f"{url}/decisions/{second.id}", {"decision": "no_action"}).status_code == 422
    assert supervisor_client.post_form(f"{url}/decisions/{second.id}", {"decision": "breach"}).status_code == 303
    # The record names the failure each warning and decision was about.
    record = worker_client.get(url).get_data(as_text=True)
    for failed in (failure, second):
        assert f"for: unacceptable absence on {failed.occurred_on:%-d %b %Y}" in record

    person_page = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    assert "Breach in progress" in person_page and "Live" in person_page
    assert "1 kept" in person_page and "2 unacceptable" in person_page
    assert other_worker_client.get(url).status_code == 404
    with unit_of_work(engine) as session:
        actions = {a.action for a in session.exec(select(AuditEvent)).all()}
        assert {"order.create", "order.view", "compliance.outcome", "compliance.warning",
                "compliance.decision"} <= actions
        # Non-association, in both directions, and on the emergency card.
        now = utcnow()
        assert orders.non_associated_person_ids(session, person_id, now, LONDON) == {named_id}
        assert orders.non_associated_person_ids(session, named_id, now, LONDON) == {person_id}
        assert compliance_board.emergency_notes(session, person_id, now, LONDON) == [
            "Must not meet: Nico Named", "Curfew: 7pm to 7am at home", "Exclusion zone: Leeds city centre"]
        dana = session.get(Person, person_id).name  # the card for a visit to Nico says it too
        assert compliance_board.emergency_notes(session, named_id, now, LONDON) == [f"Must not meet: {dana}"]
        # A community order (2) with four requirements (1 each).
        assert orders.order_load_points(session, [person_id, named_id], now, LONDON) == {person_id: 6}
    # The emergency action card of a visit to the person says whom they must not meet.
    assert worker_client.post_form("/visits/new", {"person_id": str(person_id), "place": "", "minutes": "30"}
                                   ).status_code == 303
    with unit_of_work(engine) as session:
        visit = session.exec(select(Visit)).one()
        visit.overdue_at = utcnow() - timedelta(seconds=1)
    escalation.detect(engine, utcnow())
    with unit_of_work(engine) as session:
        alert = session.exec(select(Alert)).one()
    card = supervisor_client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    on_card = card[card.index("Emergency action card"):card.index("Timeline")]
    assert "Must not meet: Nico Named" in on_card
    assert "Curfew: 7pm to 7am at home" in on_card and "Exclusion zone: Leeds city centre" in on_card
    with unit_of_work(engine) as session:
        # The compliance record refuses to be rewritten.
        with pytest.raises(Exception):
            session.execute(text("UPDATE compliance_event SET outcome = 'attended_complied'"))
            session.flush()
    with unit_of_work(engine) as session:
        # An order's days are London's: one starting on 3 June is in force from midnight there,
        # 23:00 UTC on the 2nd in summer, and not before.
        session.get(Order, order_id).starts_on = date(2026, 6, 3)
        session.flush()
        just_after, just_before = (datetime(2026, 6, 2, 23, 30, tzinfo=timezone.utc),
                                   datetime(2026, 6, 2, 22, 30, tzinfo=timezone.utc))
        assert orders.non_associated_person_ids(session, person_id, just_after, LONDON) == {named_id}
        assert [o.id for o in orders.orders_in_force(session, person_id, date(2026, 6, 3))] == [order_id]
        assert compliance_board.emergency_notes(session, person_id, just_after, LONDON)[0] == "Must not meet: Nico Named"
        assert orders.order_load_points(session, [person_id], just_after, LONDON) == {person_id: 6}
        assert orders.non_associated_person_ids(session, person_id, just_before, LONDON) == set()
        assert orders.orders_in_force(session, person_id, date(2026, 6, 2)) == []
        assert compliance_board.emergency_notes(session, person_id, just_before, LONDON) == []


def test_acceptable_absence_evidence_corrections_and_outcomes_not_recorded(engine, personas, worker_client):
    person_id = add_person(worker_client)
    order_id = int(add_order(worker_client, person_id).headers["Location"].rsplit("/", 1)[1])
    start = (_now() - timedelta(days=21)).replace(hour=9, minute=30, second=0, microsecond=0, tzinfo=None)
    appointment_id = appointment_at(worker_client, engine, person_id, start, repeat="weekly")
    now = datetime.now(LONDON)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = session.get(Order, order_id)
        orders.make_enforceable(session, order, worker, appointment_id=appointment_id, requirement_id=None,
                                told_how="letter", told_on=start.date(), now=now)
    # The plain outcome (a page from before it became an instruction) is refused, with the reason.
    plain = worker_client.post_form(f"/appointments/{appointment_id}/outcome",
                                    {"on": start.isoformat(timespec="minutes"), "outcome": "attended"},
                                    page=f"/appointments/{appointment_id}?on={start.isoformat(timespec='minutes')}")
    assert plain.status_code == 422 and "an instruction under an order" in plain.get_data(as_text=True)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = session.get(Order, order_id)
        assert session.exec(select(ComplianceEvent)).all() == []
        appointment = session.get(Appointment, appointment_id)
        record = compliance.record_appointment_outcome
        with pytest.raises(orders.ValidationError) as refused:
            record(session, appointment, start, worker, outcome="acceptable_absence", reason=None,
                   absence_reason="medical", evidence_due_on=start.date() - timedelta(days=1), now=now, zone=LONDON)
        assert "before the absence" in refused.value.errors["evidence_due_on"]
        absence = record(session, appointment, start, worker, outcome="acceptable_absence", reason=None,
                         absence_reason="medical", evidence_due_on=start.date() + timedelta(days=2), now=now,
                         zone=LONDON)
        # The same outcome again (an offline send arriving twice) adds nothing; a change needs a reason.
        assert record(session, appointment, start, worker, outcome="acceptable_absence", reason=None,
                      absence_reason="medical", evidence_due_on=start.date() + timedelta(days=2), now=now,
                      zone=LONDON).id == absence.id
        with pytest.raises(orders.ValidationError):
            record(session, appointment, start, worker, outcome="unacceptable_absence", reason=None,
                   absence_reason=None, evidence_due_on=None, now=now, zone=LONDON)
        panel = compliance.panels(session, session.get(Person, person_id), now, LONDON)[0]
        assert [p.kind for p in panel.prompts] == ["evidence_overdue"]
        # The reminder: the order's officer is told the evidence has not come (no name in it).
        [(notice, officer)] = [n for n in compliance_board.due_notices(session, now, LONDON)
                               if n[0].event_ref == f"compliance:evidence:{absence.id}"]
        assert officer.id == order.responsible_officer_id and "Dana" not in notice.title + notice.body
    # The officer chases it (when, how): a refused day keeps what was typed, next to the field.
    url, chased = f"/orders/{order_id}", f"/orders/{order_id}/evidence/{absence.id}/chased"
    early = (start - timedelta(days=1)).date().isoformat()
    refused = worker_client.post_form(chased, {"chased_on": early, "how": "phone", "note": "Left a message"}, page=url)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "before the absence" in page and "Left a message" in page
    assert worker_client.post_form(chased, {"chased_on": (start + timedelta(days=4)).date().isoformat(),
                                            "note": "x"}, page=url).status_code == 422  # how is needed
    assert worker_client.post_form(chased, {"chased_on": (start + timedelta(days=4)).date().isoformat(), "how": "phone",
                                            "note": "Left a message"}, page=url).status_code == 303
    assert "Evidence chased by phone" in worker_client.get(url).get_data(as_text=True)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = session.get(Order, order_id)
        with pytest.raises(orders.ValidationError):
            compliance.record_evidence(session, order, absence.id, worker, received_on=start.date() - timedelta(days=1),
                                       note=None, now=now, zone=LONDON)
        compliance.record_evidence(session, order, absence.id, worker, received_on=start.date() + timedelta(days=5),
                                   note="GP letter", now=now, zone=LONDON)
        panel = compliance.panels(session, session.get(Person, person_id), now, LONDON)[0]
        assert panel.prompts == [] and panel.acceptable == 1
        assert not [n for n in compliance_board.due_notices(session, now, LONDON) if "evidence" in n[0].event_ref]
        assert [e.kind for e in panel.events] == ["outcome", "evidence_chased", "evidence_received"]
        # The breach pack lists the absence with its reason, the chase and the arrival.
        from io import BytesIO
        from pypdf import PdfReader
        # ... and the contact notes the officer ticked: two of three, and only those.
        notes = ["Spoke about the GP letter.", "Came in early, calm.", "Phoned about the weather."]
        contacts = [Contact(team_id=order.team_id, person_id=person_id, author_id=worker.id,
                            contact_type="face_to_face", happened_at=utcnow() - timedelta(days=3 - n), notes=note)
                    for n, note in enumerate(notes)]
        session.add_all(contacts)
        session.flush()
        pack = evidence_pack.build(session, order, worker, statement="Statement.",
                                   contact_ids=[contacts[0].id, contacts[2].id], now=now, zone=LONDON)
        words = " ".join(p.extract_text() for p in PdfReader(BytesIO(pack.pdf)).pages)
        words = " ".join(words.split())
        assert notes[0] in words and notes[2] in words and notes[1] not in words
        chased_on, got_on = start + timedelta(days=4), start + timedelta(days=5)
        assert "Absences, reasons and evidence (1)" in words
        # The person's timeline loads a page of the compliance steps, not all of them.
        from app.orders.record import compliance_entries
        from app.record import PersonView, Window
        for day in (6, 7):
            compliance.record_evidence_chased(session, order, absence.id, worker, chased_on=(start + timedelta(days=day)).date(),
                                              how="letter", note=None, now=now + timedelta(hours=day - 5), zone=LONDON)
        view = PersonView(session, worker, session.get(Person, person_id), now, LONDON, window=Window(size=2))
        assert [e.data["label"] for e in compliance_entries(view)] == ["Evidence chased by letter"] * 2 + [
            "Evidence chased by phone"]  # the page and one more, newest first
        earlier = PersonView(session, worker, session.get(Person, person_id), now, LONDON,
                             window=Window(before=now + timedelta(hours=1), size=1))
        assert [e.data["label"] for e in compliance_entries(earlier)] == ["Evidence chased by letter",
                                                                          "Evidence chased by phone"]
        assert (f"Acceptable absence - Medical; evidence due {start + timedelta(days=2):%-d %b %Y}; evidence chased "
                f"{chased_on:%-d %b %Y} by phone (Left a message); evidence received {got_on:%-d %b %Y} (GP letter)") in words
        # The two later weeks have no outcome: the one more than 2 working days old is surfaced.
        overdue = compliance_board.outcomes_not_recorded(session, now, LONDON, team_id=order.team_id)
        assert start + timedelta(weeks=1) in [o.original_local for o in overdue]
        assert start not in [o.original_local for o in overdue]
    # On the person's timeline the enforceable outcome is in full words, with the evidence steps.
    timeline = worker_client.get(f"/people/{person_id}").get_data(as_text=True)
    timeline = timeline[timeline.index("<h2>Timeline</h2>"):]
    assert "Acceptable absence — medical" in timeline and "Evidence chased by phone" in timeline
    today = worker_client.get("/").get_data(as_text=True)
    assert "Outcome not recorded" in today
    assert f"/appointments/{appointment_id}?on={(start + timedelta(weeks=1)).isoformat(timespec='minutes')}" in today


def test_the_evidence_pack_lists_40_instructions_renders_and_a_signed_version_is_sealed(engine, personas,
                                                                                       worker_client,
                                                                                       supervisor_client, tmp_path,
                                                                                       other_worker_client):
    person_id = add_person(worker_client)
    order_id = int(add_order(worker_client, person_id).headers["Location"].rsplit("/", 1)[1])
    now = datetime.now(LONDON)
    first = (now - timedelta(days=80)).replace(hour=11, minute=0, second=0, microsecond=0, tzinfo=None)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = session.get(Order, order_id)
        for n in range(40):
            on = first + timedelta(days=2 * n)
            appointment = Appointment(team_id=order.team_id, worker_id=worker.id, person_id=person_id, kind="office",
                                      starts_local=on, duration_minutes=60, created_at=now, updated_at=now)
            session.add(appointment)
            session.flush()
            orders.make_enforceable(session, order, worker, appointment_id=appointment.id, requirement_id=None,
                                    told_how="in_person", told_on=first.date(), now=now)
            compliance.record_appointment_outcome(session, appointment, on, worker,
                                                  outcome="attended_complied" if n % 7 else "unacceptable_absence",
                                                  reason=None, absence_reason=None, evidence_due_on=None, now=now,
                                                  zone=LONDON)
    url = f"/orders/{order_id}/pack"
    started = clock.perf_counter()
    built = worker_client.post_form(url, {"statement": "He has missed six instructions since July."})
    took = clock.perf_counter() - started
    assert built.status_code == 303 and took < 5, took
    with unit_of_work(engine) as session:
        pack = session.exec(select(EvidencePack)).one()
        pack_id, version = pack.id, pack.version
    download = worker_client.get(f"/packs/{pack_id}/pdf")
    assert other_worker_client.get(f"/packs/{pack_id}/pdf").status_code == 404
    assert other_worker_client.get(url).status_code == 404
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"] == f'attachment; filename="breach-pack-ORD-{order_id:05d}-v1.pdf"'
    from io import BytesIO

    from pypdf import PdfReader

    words = "".join(page.extract_text() for page in PdfReader(BytesIO(download.data)).pages)
    assert "Instructions given (40)" in words and "Attendance (40 outcomes)" in words
    # Each absence is in the attendance timeline and again under absences, reasons and evidence.
    assert "Absences, reasons and evidence (6)" in words
    assert words.count("Unacceptable absence") == 12 and "Not signed yet" in words
    if shutil.which("pdftoppm"):  # poppler-utils: .ci/run installs it
        (tmp_path / "pack.pdf").write_bytes(download.data)
        subprocess.run(["pdftoppm", "-png", "-r", "30", "-singlefile", str(tmp_path / "pack.pdf"),
                        str(tmp_path / "page")], check=True, timeout=60)
        assert (tmp_path / "page.png").read_bytes().startswith(b"\x89PNG")
    # Workers cannot sign; the supervisor signs once; the database refuses any change after.
    assert worker_client.post_form(f"/packs/{pack_id}/sign", {}, page=url).status_code == 404
    assert supervisor_client.post_form(f"/packs/{pack_id}/sign", {}, page=url).status_code == 303
    signed = supervisor_client.get(f"/packs/{pack_id}/pdf").data
    assert "Sade Super" in "".join(p.extract_text() for p in PdfReader(BytesIO(signed)).pages)
    with unit_of_work(engine) as session:
        with pytest.raises(Exception):
            session.execute(text("UPDATE evidence_pack SET statement = 'changed' WHERE id = :id"), {"id": pack_id})
            session.flush()
    with unit_of_work(engine) as session:
        assert session.get(EvidencePack, pack_id).statement.startswith("He has missed")
    assert version == 1
    again = worker_client.post_form(url, {"statement": "Corrected: five."})
    assert again.status_code == 303
    with unit_of_work(engine) as session:
        assert [p.version for p in evidence_pack.packs_for(session, session.get(Order, order_id))] == [2, 1]


def test_an_absence_sent_from_the_outbox_is_judged_on_its_date_and_reaches_the_supervisor_in_one_tick(
        app, engine, personas, worker_client, supervisor_client, receiver):
    import threading

    from app.services.compliance_rules import add_working_days, clock_words
    from app.worker import Worker
    from tests.test_safety_engine import wait_for

    subscribe(engine, personas["supervisor"], receiver.subscription())
    person_id = add_person(worker_client)
    order_id = int(add_order(worker_client, person_id).headers["Location"].rsplit("/", 1)[1])
    start = (_now() - timedelta(days=28)).replace(hour=14, minute=0, second=0, microsecond=0, tzinfo=None)
    appointment_id = appointment_at(worker_client, engine, person_id, start, repeat="weekly")
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = session.get(Order, order_id)
        orders.make_enforceable(session, order, worker, appointment_id=appointment_id, requirement_id=None,
                                told_how="in_person", told_on=start.date(), now=datetime.now(LONDON))
        first = compliance.record_appointment_outcome(
            session, session.get(Appointment, appointment_id), start, worker, outcome="unacceptable_absence",
            reason=None, absence_reason=None, evidence_due_on=None, now=datetime.now(LONDON), zone=LONDON)
        given = (start + timedelta(days=1)).replace(tzinfo=LONDON)
        compliance.give_warning(session, order, first.id, worker, letter="A warning.", now=given, zone=LONDON)
    # The second absence, a week later, recorded at the door with no signal and sent today as the
    # outbox sends it (outbox.js: a fresh token, its key, JSON wanted, redirects not followed).
    missed = start + timedelta(weeks=1)
    on = missed.isoformat(timespec="minutes")
    form = {"on": on, "outcome": "unacceptable_absence", "made_at": missed.isoformat()}
    for _ in range(2):  # a resend of the same item is applied once
        token = worker_client.get("/session/csrf-token", headers={"Accept": "application/json"}).get_json()["token"]
        sent = worker_client.post(f"/appointments/{appointment_id}/enforceable-outcome",
                                  data={**form, "csrf_token": token},
                                  headers={"Idempotency-Key": "outbox-item-1", "X-CSRFToken": token,
                                           "Accept": "application/json"})
        assert sent.status_code in (200, 201, 303), sent.get_data(as_text=True)
    with unit_of_work(engine) as session:
        [second] = session.exec(select(ComplianceEvent).where(ComplianceEvent.occurred_on == missed.date())).all()
    # The real worker, as `fieldline worker` builds it: one tick puts the decision to the supervisor.
    settings = app.extensions["fieldline.settings"]
    loop = Worker.for_settings(engine, settings.__class__(**{**settings.__dict__, "tick_seconds": 0.2}))
    loop.tick()
    ref = f"compliance:decision:{second.id}"
    due = add_working_days(missed.date(), 10)  # the clock runs from the absence, not from its arrival
    assert {d.recipient_id for d in deliveries(engine, event_ref=ref)} == {personas["supervisor"].id}
    board = supervisor_client.get("/").get_data(as_text=True)  # a supervisor's Today is the board
    assert 'hx-get="/team/compliance/due"' in board
    card = supervisor_client.get("/team/compliance/due", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Breach decision due" in card and f"by {due:%-d %b %Y}" in card
    assert f"/orders/{order_id}/decisions/{second.id}" in card and f"/people/{person_id}" in card
    assert clock_words(_now().date(), due) in card  # the working-day clock
    assert worker_client.get("/team/compliance/due").status_code == 404
    # ... and the running loop delivers it to the supervisor's phone, without a name.
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        assert wait_for(lambda: receiver.messages, 20)
    finally:
        stop.set()
        thread.join(10)
    [push] = receiver.messages
    assert push.payload["title"] == f"A breach decision is due by {due:%-d %b}"
    assert "Dana" not in json.dumps(push.payload)
    assert {d.recipient_id for d in deliveries(engine, event_ref=ref)} == {personas["supervisor"].id}  # once each


def test_the_demo_has_a_person_on_a_community_order_with_a_breach_decision_waiting(app, engine, persona_password_hash,
                                                                                  monkeypatch):
    from app.services import demo

    monkeypatch.setattr(demo, "hash_password", lambda password: persona_password_hash)  # Argon2 once per run
    with unit_of_work(engine) as session:
        demo.seed_demo(session, password="demo password for the test")
    with unit_of_work(engine) as session:
        person = session.exec(select(Person).where(Person.name == "Avery Lune (demo)")).one()
        [panel] = compliance.panels(session, person, datetime.now(LONDON), LONDON)
        assert (panel.kept, panel.acceptable, panel.unacceptable) == (7, 1, 2)
        assert [p.kind for p in panel.prompts] == ["breach_decision"] and len(panel.live_warnings) == 1
        assert panel.requirements[0].line.startswith("7 of 20 days completed")
        lines = compliance_board.team_board(session, person.team_id, datetime.now(LONDON), LONDON)
        assert [(line.kind, line.person.id) for line in lines] == [("breach_decision", person.id)]
        # The pack lists each occurrence of the weekly instruction, ten weeks ago to today.
        worker = session.exec(select(User).where(User.email == "worker@example.org")).one()
        pack = evidence_pack.build(session, panel.order, worker, statement="Two failures.", contact_ids=[],
                                   now=datetime.now(LONDON), zone=LONDON)
        # A report's "compliance" topic: the period's events only.
        from app.orders.report import compliance_panel
        from app.report_material import PeriodView
        today = _now().date()
        with app.test_request_context():
            said = [s.text for s in compliance_panel(PeriodView(session, person, today - timedelta(days=365), today,
                                                                LONDON, _now()))]
            before = [s.text for s in compliance_panel(PeriodView(session, person, panel.order.starts_on,
                                                                  panel.order.starts_on, LONDON, _now()))]
        assert said[0].startswith("Community order made by ")
        assert "in the period 7 instructions kept, 1 acceptable absence, 2 not kept; 1 warning given" in said[0]
        assert any(s.startswith("Rehabilitation activity: 7 of 20 days completed") for s in said)
        # A day with no outcome counts nothing in it.
        assert "in the period 0 instructions kept, 0 acceptable absences, 0 not kept" in before[0]
    from io import BytesIO

    from pypdf import PdfReader

    words = "".join(page.extract_text() for page in PdfReader(BytesIO(pack.pdf)).pages)
    assert "Instructions given (11)" in words and "Attendance (10 outcomes)" in words
    assert "evidence received" in words and "Dear Avery Lune (demo)" in words


def test_a_supervisor_changes_the_teams_numbers_and_the_rule_follows(engine, personas, worker_client,
                                                                    supervisor_client):
    person_id = add_person(worker_client)
    order_id = int(add_order(worker_client, person_id).headers["Location"].rsplit("/", 1)[1])
    start = (_now() - timedelta(days=15)).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    appointment_id = appointment_at(worker_client, engine, person_id, start, repeat="weekly")
    now = datetime.now(LONDON)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = session.get(Order, order_id)
        orders.make_enforceable(session, order, worker, appointment_id=appointment_id, requirement_id=None,
                                told_how="phone", told_on=start.date(), now=now)
        appointment = session.get(Appointment, appointment_id)
        for week in (0, 1):
            failure = compliance.record_appointment_outcome(
                session, appointment, start + timedelta(weeks=week), worker, outcome="unacceptable_absence",
                reason=None, absence_reason=None, evidence_due_on=None, now=now, zone=LONDON)
            if week == 0:
                compliance.give_warning(session, order, failure.id, worker, letter="Warned.",
                                        now=(start + timedelta(days=1)).replace(tzinfo=LONDON), zone=LONDON)
        # A breach decision is the supervisor's: the officer cannot answer it with a warning.
        with pytest.raises(orders.ValidationError):
            compliance.give_warning(session, order, failure.id, worker, letter="Again.", now=now, zone=LONDON)
    assert "Breach decision due" in worker_client.get(f"/orders/{order_id}").get_data(as_text=True)

    assert worker_client.get("/team/compliance").status_code == 404
    page = supervisor_client.get("/team/compliance").get_data(as_text=True)
    token = re.search(r'name="court-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"court-csrf_token": token, "court-family": "court", "court-window_months": "12",
            "court-decision_working_days": "10"}
    refused = supervisor_client.post("/team/compliance", data={**form, "court-warnings_before_breach": "9"})
    assert refused.status_code == 422
    assert "Choose a whole number from 0 to 3." in refused.get_data(as_text=True)
    assert 'value="9"' in refused.get_data(as_text=True)  # what was typed is kept
    assert supervisor_client.post("/team/compliance", data={**form, "court-warnings_before_breach": "2"}
                                  ).status_code == 303
    # Two warnings before a breach decision now: the second failure asks for a second warning.
    shown = worker_client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Warning due" in shown and "Breach decision due" not in shown
    with unit_of_work(engine) as session:
        assert compliance.policy_for(session, personas["supervisor"].team_id, "licence").warnings_before_breach == 0
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "compliance.policy")).one()


def test_hours_and_days_progress_and_a_warning_expiring_on_the_supervisors_list(engine, personas, worker_client,
                                                                                 supervisor_client):
    person_id = add_person(worker_client)
    today = _now().date()
    created = add_order(worker_client, person_id, starts_on=(today - timedelta(days=400)).isoformat())
    order_id = int(created.headers["Location"].rsplit("/", 1)[1])
    url = f"/orders/{order_id}"
    for kind in ("unpaid_work", "rehabilitation_activity"):
        assert worker_client.post_form(f"{url}/requirements", {"kind": kind, "target": "20"},
                                       page=url).status_code == 303
    now = datetime.now(LONDON)
    day = (now - timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    year_ago = (now - timedelta(days=360)).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = session.get(Order, order_id)
        unpaid, rar = session.exec(select(orders.Requirement).where(orders.Requirement.order_id == order_id)
                                   .order_by(orders.Requirement.id)).all()

        def instruction(starts: datetime, minutes: int, requirement, outcome: str | None, **more):
            appointment = Appointment(team_id=order.team_id, worker_id=worker.id, person_id=person_id, kind="office",
                                      starts_local=starts, duration_minutes=minutes, created_at=now, updated_at=now)
            session.add(appointment)
            session.flush()
            orders.make_enforceable(session, order, worker, appointment_id=appointment.id,
                                    requirement_id=requirement.id if requirement else None, told_how="in_person",
                                    told_on=min(starts.date(), today), now=now)
            if outcome:
                return compliance.record_appointment_outcome(
                    session, appointment, starts, worker, outcome=outcome, reason=None, now=now, zone=LONDON,
                    **{"absence_reason": None, "evidence_due_on": None, **more})

        # Unpaid work: 90 + 120 minutes kept, 60 absent (acceptably), 30 still to come: 3.5 of 20
        # hours done, half an hour more booked (the past ones are outcomes, not bookings).
        instruction(day, 90, unpaid, "attended_complied")
        instruction(day + timedelta(days=1), 120, unpaid, "sent_home_our_issue")
        instruction(day + timedelta(days=2), 60, unpaid, "acceptable_absence", absence_reason="medical")
        instruction(day + timedelta(days=30), 30, unpaid, None)
        # Activity days: two kept on one day are one day; one more booked.
        instruction(day, 60, rar, "attended_complied")
        instruction(day.replace(hour=14), 60, rar, "attended_complied")
        instruction(day + timedelta(days=20), 60, rar, None)
        # A failure a year ago, warned 350 days ago: the warning expires in about a fortnight.
        failure = instruction(year_ago, 60, None, "unacceptable_absence")
        given = now - timedelta(days=350)
        compliance.give_warning(session, order, failure.id, worker, letter="Warned.", now=given, zone=LONDON)
        [panel] = compliance.panels(session, session.get(Person, person_id), now, LONDON)
        assert [p.line for p in panel.requirements] == ["3.5 of 20 hours completed, 0.5 more booked",
                                                        "1 of 20 days completed, 1 more booked"]
        expiry = given.date() + relativedelta(months=12)
        [line] = compliance_board.team_board(session, order.team_id, now, LONDON)
        assert (line.kind, line.due_on, line.person.id) == ("warning_expiring", expiry, person_id)
    page = supervisor_client.get("/team/compliance").get_data(as_text=True)
    due = page[page.index("<h3>Due</h3>"):page.index("<h3>Outcomes not recorded</h3>")]
    assert "Warning expiring" in due and "Dana Doorstep" in due
    assert f"for {given:%-d %b %Y} · expires {expiry:%-d %b %Y}" in due


def test_a_nul_character_or_an_id_beyond_the_database_is_never_a_server_error(
        engine, personas, worker_client, supervisor_client):
    """PostgreSQL keeps ids in 32 bits and refuses NUL in text: each orders form and link answers
    404 or 422 (a NUL, never meant, is dropped as the groups' forms do), never 500."""
    big = str(2**31)  # one past PostgreSQL's INTEGER
    person_id = add_person(worker_client)
    nul = "Leeds\x00 Court"
    created = add_order(worker_client, person_id, made_by=nul)
    assert created.status_code == 303
    order_id = int(created.headers["Location"].rsplit("/", 1)[1])
    url = f"/orders/{order_id}"
    # Weekly from two weeks back, so the third one is today (after the warning given today) but
    # already past, at any hour the suite runs.
    now = _now().replace(second=0, microsecond=0, tzinfo=None)
    start = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0)) - timedelta(weeks=2)
    appointment_id = appointment_at(worker_client, engine, person_id, start, repeat="weekly")
    on = start.isoformat(timespec="minutes")
    answers = {
        "requirement text": worker_client.post_form(f"{url}/requirements", {"kind": "other", "detail": "No\x00 drink"},
                                                    page=url),
        "requirement big target": worker_client.post_form(f"{url}/requirements", {"kind": "unpaid_work", "target": big},
                                                          page=url),
        "named big": worker_client.post_form(f"{url}/requirements", {"kind": "non_association",
                                                                     "named_person_ids": big,
                                                                     "named_others": "A\x00B"}, page=url),
        "instruction big": worker_client.post_form(f"{url}/instructions", {
            "appointment_id": big, "requirement_id": big, "told_how": "letter", "told_on": start.date().isoformat()},
            page=url),
        "order big officer": worker_client.post_form(f"/people/{person_id}/orders/new", {
            "kind": "licence", "made_by": "HMPPS", "starts_on": "2026-01-01", "ends_on": "2027-01-01",
            "responsible_officer_id": big}),
    }
    assert worker_client.post_form(f"{url}/instructions", {"appointment_id": str(appointment_id),
                                                          "told_how": "letter", "told_on": start.date().isoformat()},
                                   page=url).status_code == 303
    answers["outcome text"] = worker_client.post_form(
        f"/appointments/{appointment_id}/enforceable-outcome",
        {"on": on, "outcome": "attended_failed_to_comply", "reason": "Left\x00 early"}, page=f"/appointments/{appointment_id}?on={on}")
    with unit_of_work(engine) as session:
        failure = session.exec(select(ComplianceEvent).where(ComplianceEvent.order_id == order_id)).one()
        assert failure.reason == "Left early"
        assert session.get(Order, order_id).made_by == "Leeds Court"
    answers["letter"] = worker_client.post_form(f"{url}/warnings/{failure.id}", {"letter": "Dear\x00 Dana"})
    answers["pack"] = worker_client.post_form(f"{url}/pack", {"statement": "It\x00 is so."})
    answers["pack big contact"] = worker_client.post_form(f"{url}/pack", {"statement": "So.", "contact_ids": big})
    answers["evidence big"] = worker_client.post_form(f"{url}/evidence/{big}", {"received_on": "2026-01-01"}, page=url)
    answers["chased big"] = worker_client.post_form(f"{url}/evidence/{big}/chased", {"chased_on": "2026-01-01",
                                                                                     "how": "phone"}, page=url)
    answers["policy"] = supervisor_client.post_form("/team/compliance", {
        "court-family": "court", "court-warnings_before_breach": big, "court-window_months": "12",
        "court-decision_working_days": big})
    # (every feature's links share the limit: a person, a contact, an appointment too)
    for path in (f"/orders/{big}", f"{url}/warnings/{big}", f"/packs/{big}/pdf", f"/people/{big}/orders/new",
                 f"/people/{big}", f"/contacts/{big}", f"/appointments/{big}?on={on}"):
        answers[path] = worker_client.get(path)
    answers["decision big"] = supervisor_client.get(f"{url}/decisions/{big}")
    answers["sign big"] = supervisor_client.post_form(f"/packs/{big}/sign", {}, page="/team/compliance")
    answers["outcome big"] = worker_client.post_form(f"/appointments/{big}/enforceable-outcome",
                                                     {"on": on, "outcome": "attended_complied"}, page=url)
    answers["pack page with a version"] = worker_client.get(f"{url}/pack")
    statuses = {what: answer.status_code for what, answer in answers.items()}
    assert {what for what, status in statuses.items() if status >= 500} == set(), statuses
    assert "Download version 1 (PDF)" in answers["pack page with a version"].get_data(as_text=True)
    assert statuses["requirement text"] == statuses["outcome text"] == statuses["letter"] == statuses["pack"] == 303
    assert statuses["requirement big target"] == statuses["instruction big"] == statuses["order big officer"] == 422
    assert statuses["named big"] == statuses["policy"] == statuses["pack big contact"] == 422
    assert statuses[f"/orders/{big}"] == statuses["evidence big"] == statuses["decision big"] == 404
    assert statuses[f"/people/{big}"] == statuses[f"/contacts/{big}"] == 404
