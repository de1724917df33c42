"""Group programmes: the completion rule at its edges, the schedule across a clock change,
enrolment with a waiting list and moves, non-association with a supervisor's audited override, the
register (refused before the session, one action, exactly once), materials checked by content,
Start session's visit timer through the real worker loop, access."""
import threading
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlmodel import select

from app.db import unit_of_work
from app.models import (Attendance, AuditEvent, Delivery, Enrolment, Group, GroupSession, Person, Programme,
                        ProgrammeMaterial, User, Visit)
from app.models.types import utcnow
from app.services import ValidationError, materials
from app.services import group_completion
from app.services import group_sessions as registers
from app.services import groups, non_association
from app.worker import Worker
from tests.test_safety_engine import alerts, wait_for

LONDON = ZoneInfo("Europe/London")


def programme_of(n=10, percent=80, first=True, last=True) -> Programme:
    return Programme(id=1, team_id=1, name="P", session_count=n, complete_percent=percent, must_attend_first=first,
                     must_attend_last=last)


@pytest.mark.parametrize("n, percent, first, last, attended, met, needed", [
    (10, 80, True, True, set(range(1, 9)) | {10}, True, 8),           # 9 of 10 with the first and the last
    (10, 80, True, True, {1, 2, 3, 4, 5, 6, 7, 10}, True, 8),          # exactly 80 %, first and last
    (10, 80, True, True, {1, 2, 3, 4, 5, 6, 10}, False, 8),            # 70 %: one short
    (10, 80, True, True, {2, 3, 4, 5, 6, 7, 8, 9, 10}, False, 8),      # 90 % but missed the first
    (10, 80, True, True, set(range(1, 10)), False, 8),                 # 90 % but missed the last
    (10, 80, False, False, set(range(2, 10)), True, 8),                # no session rule: 80 % is enough
    (12, 80, False, False, set(range(1, 10)), False, 10),              # 80 % of 12 rounds up to 10
    (12, 80, False, False, set(range(1, 11)), True, 10),
    (3, 100, True, True, {1, 2, 3, 4, 99}, True, 3),                   # numbers past the end don't count
    (1, 1, True, True, set(), False, 1),
])
def test_completion_follows_the_rule_at_its_edges(n, percent, first, last, attended, met, needed):
    result = group_completion.completion_of(programme_of(n, percent, first, last), attended)
    assert (result.met, result.needed) == (met, needed)
    assert bool(result.missing) == (not met)


def add_people(engine, team_id, names, key_worker_id=None) -> list[int]:
    with unit_of_work(engine) as session:
        people = [Person(team_id=team_id, name=name, key_worker_id=key_worker_id) for name in names]
        session.add_all(people)
        session.flush()
        return [p.id for p in people]


def make_group(engine, personas, *, capacity=12, sessions=4, starts=None, minutes=120, percent=75) -> int:
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        programme = groups.create_programme(session, worker, groups.ProgrammeDetails(
            "Relapse prevention", sessions, percent), now=utcnow())
        group = groups.create_group(session, worker, groups.GroupDetails(
            programme.id, "Tuesday evening", "Riverside Centre, 2 Mill Lane",
            starts or datetime(2026, 10, 13, 18, 0), minutes, "weekly", capacity, [worker.id]), now=utcnow())
        return group.id


def enrol(engine, personas, group_id, person_id, who="worker", **kwargs) -> Enrolment:
    with unit_of_work(engine) as session:
        by = session.get(User, personas[who].id)
        override = kwargs.pop("override", None)
        enrolment = groups.enrol(session, by, session.get(Group, group_id), session.get(Person, person_id),
                                 now=utcnow(), zone=LONDON, override=groups.Override(by, override) if override else None, **kwargs)
        session.expunge(enrolment)
        return enrolment


def test_a_group_meets_at_the_same_local_time_across_the_clock_change(engine, personas):
    group_id = make_group(engine, personas, sessions=4)  # Tuesdays from 13 Oct; clocks go back on 25 Oct
    with unit_of_work(engine) as session:
        group = session.get(Group, group_id)
        meetings = groups.sessions_of(session, group)
        starts = [groups.session_window(m, group, LONDON)[0] for m in meetings]
        assert [m.starts_local.strftime("%d %H:%M") for m in meetings] == ["13 18:00", "20 18:00", "27 18:00",
                                                                             "03 18:00"]
        assert [s.hour for s in starts] == [17, 17, 18, 18]  # UTC moves; the wall clock doesn't
        assert group.repeat_until.isoformat() == "2026-11-03"


def test_enrolling_past_capacity_waits_and_a_freed_place_goes_to_the_first_waiting(engine, personas):
    group_id = make_group(engine, personas, capacity=2)
    a, b, c, d = add_people(engine, personas["worker"].team_id, ["Ann", "Ben", "Cat", "Dev"])
    states = [enrol(engine, personas, group_id, pid).state for pid in (a, b, c, d)]
    assert states == ["enrolled", "enrolled", "waiting", "waiting"]
    with pytest.raises(ValidationError):
        enrol(engine, personas, group_id, a)  # already in
    other = make_group(engine, personas)
    with unit_of_work(engine) as session:
        # A second group of another programme: moving there is refused (not the same programme).
        first = session.exec(select(Enrolment).where(Enrolment.person_id == a)).one()
        with pytest.raises(ValidationError):
            groups.move(session, session.get(User, personas["worker"].id), first, session.get(Group, other),
                        now=utcnow(), zone=LONDON)
        source = session.get(Group, group_id)
        twin = groups.create_group(session, session.get(User, personas["worker"].id), groups.GroupDetails(
            source.programme_id, "Thursday", "Library", datetime(2026, 10, 15, 10), 90, "weekly", 5,
            [personas["worker"].id]), now=utcnow())
        moved = groups.move(session, session.get(User, personas["worker"].id), first, twin, now=utcnow(), zone=LONDON)
        assert (first.state, moved.state, moved.group_id) == ("moved", "enrolled", twin.id)
        states = {e.person_id: e.state for e in groups.members(session, group_id)}
    assert states == {b: "enrolled", c: "enrolled", d: "waiting"}  # Cat waited longest


def test_someone_already_in_a_group_of_the_programme_is_warned(engine, personas, worker_client):
    group_id = make_group(engine, personas)
    [a] = add_people(engine, personas["worker"].team_id, ["Ann"])
    enrol(engine, personas, group_id, a)
    with unit_of_work(engine) as session:
        source = session.get(Group, group_id)
        twin = groups.create_group(session, session.get(User, personas["worker"].id), groups.GroupDetails(
            source.programme_id, "Thursday", "Library", datetime(2026, 10, 15, 10), 90, "weekly", 5,
            [personas["worker"].id]), now=utcnow()).id
    with pytest.raises(groups.AlreadyInProgramme):
        enrol(engine, personas, twin, a)
    assert enrol(engine, personas, twin, a, despite_other_group=True).state == "enrolled"
    with unit_of_work(engine) as session:
        first = session.exec(select(Enrolment).where(Enrolment.group_id == group_id)).one().id
    moved = worker_client.post_form(f"/enrolments/{first}/move", {f"move-{first}-group_id": str(twin)},
                                    page=f"/groups/{group_id}")
    assert moved.status_code == 422 and "already in this group" in moved.get_data(as_text=True)


def test_non_association_warns_and_needs_a_supervisors_audited_override(engine, personas, worker_client,
                                                                        supervisor_client):
    group_id = make_group(engine, personas)
    a, b = add_people(engine, personas["worker"].team_id, ["Ann Apart", "Ben Apart"])
    flagged = worker_client.post_form(f"/people/{a}/keep-apart", {"other_person_id": str(b), "reason": ""})
    assert flagged.status_code == 422 and "Say why they must be kept apart." in flagged.get_data(as_text=True)
    flagged = worker_client.post_form(f"/people/{a}/keep-apart", {"other_person_id": str(b),
                                                                  "reason": "Co-defendants"})
    assert flagged.status_code == 303
    with unit_of_work(engine) as session:
        assert non_association.must_not_meet(session, b, {a, 999}, utcnow(), LONDON) == {a}
    page = f"/groups/{group_id}"
    assert worker_client.post_form(f"{page}/enrol", {"person_id": str(a)}).status_code == 303
    warned = worker_client.post_form(f"{page}/enrol", {"person_id": str(b), "override_reason": "I say so"})
    html = warned.get_data(as_text=True)
    assert warned.status_code == 422 and "they must not meet Ann Apart" in html
    assert "Only a supervisor can enrol them here" in html
    refused = supervisor_client.post_form(f"{page}/enrol", {"person_id": str(b)})
    assert refused.status_code == 422 and "override_reason" in refused.get_data(as_text=True)
    no_reason = supervisor_client.post_form(f"{page}/enrol", {"person_id": str(b), "override_reason": " "})
    assert no_reason.status_code == 422 and "Say why they may be in this group together." in no_reason.get_data(
        as_text=True)
    done = supervisor_client.post_form(f"{page}/enrol", {"person_id": str(b),
                                                         "override_reason": "Different sessions of the day agreed"})
    assert done.status_code == 303
    with unit_of_work(engine) as session:
        enrolment = session.exec(select(Enrolment).where(Enrolment.person_id == b)).one()
        audited = session.exec(select(AuditEvent).where(AuditEvent.action == "group.enrol.override")).one()
    assert enrolment.override_by_id == personas["supervisor"].id
    assert audited.actor_id == personas["supervisor"].id and audited.record_id == str(enrolment.id)
    assert "Different sessions" in audited.detail


def test_the_register_is_refused_before_the_session_then_saved_once_and_on_the_timeline(
        engine, personas, worker_client, app):
    soon = (utcnow() + timedelta(days=2)).astimezone(LONDON).replace(tzinfo=None, second=0, microsecond=0)
    group_id = make_group(engine, personas, starts=soon)
    ids = add_people(engine, personas["worker"].team_id, ["Ann Reg", "Ben Reg", "Cat Reg"],
                     key_worker_id=personas["worker2"].id)
    for pid in ids:
        enrol(engine, personas, group_id, pid)
    with unit_of_work(engine) as session:
        meeting = session.exec(select(GroupSession).where(GroupSession.group_id == group_id,
                                                          GroupSession.number == 1)).one().id
    url = f"/group-sessions/{meeting}"
    marks = {f"mark-{ids[0]}": "attended", f"mark-{ids[1]}": "acceptable_absence", f"reason-{ids[1]}": "",
             f"mark-{ids[2]}": "unacceptable_absence", f"note-{ids[2]}": "No call", f"tell-{ids[2]}": "yes"}
    early = worker_client.post_form(f"{url}/register", marks, page=url)
    assert early.status_code == 422 and "has not started yet" in early.get_data(as_text=True)
    assert worker_client.post_form(f"{url}/start", {"timer": "no"}, page=url).status_code == 303
    missing_reason = worker_client.post_form(f"{url}/register", marks, page=url)
    html = missing_reason.get_data(as_text=True)
    assert missing_reason.status_code == 422 and "Say why the absence is acceptable." in html
    assert 'value="No call"' in html  # what was typed is kept
    marks[f"reason-{ids[1]}"] = "Hospital appointment"
    token = worker_client.csrf_token(url)
    for _ in range(2):  # the outbox's replay of the same register, with its key
        sent = worker_client.post(f"{url}/register", data={**marks, "csrf_token": token},
                                  headers={"Idempotency-Key": "register-one", "Accept": "application/json"})
        assert sent.status_code == 303
    with unit_of_work(engine) as session:
        rows = session.exec(select(Attendance)).all()
        told = session.exec(select(Delivery).where(Delivery.kind == "group")).all()
    assert sorted(r.mark for r in rows) == ["acceptable_absence", "attended", "unacceptable_absence"]
    assert {d.recipient_id for d in told} == {personas["worker2"].id}
    assert all("Reg" not in d.title + d.body for d in told)  # no names in what a lock screen shows
    assert len({d.event_ref for d in told}) == 1
    held = worker_client.get(f"{url}/marks").get_json()
    assert held[str(ids[1])]["label"] == "Absent: acceptable"
    person_page = worker_client.get(f"/people/{ids[1]}").get_data(as_text=True)
    assert "Tuesday evening, session" in person_page and "Hospital appointment" in person_page


def test_a_started_session_times_the_facilitator_and_a_missed_check_in_alerts(app, engine, personas):
    group_id = make_group(engine, personas, minutes=60)
    with unit_of_work(engine) as session:
        meeting = session.exec(select(GroupSession).where(GroupSession.group_id == group_id)).first()
        group = session.get(Group, group_id)
        worker = session.get(User, personas["worker"].id)
        registers.start_session(session, worker, meeting, group, now=utcnow() - timedelta(hours=3))
        with pytest.raises(ValidationError):  # a session starts once
            registers.start_session(session, worker, meeting, group, now=utcnow())
    with unit_of_work(engine) as session:
        meeting = session.exec(select(GroupSession).where(GroupSession.group_id == group_id)).first()
        visit = session.get(Visit, meeting.visit_id)
        assert visit.place == "Riverside Centre, 2 Mill Lane"
        assert visit.planned_end_at - visit.started_at == timedelta(minutes=60)
    # The real worker loop, as `fieldline worker` runs it: the deadline passed two hours ago.
    settings = app.extensions["fieldline.settings"]
    worker = Worker.for_settings(engine, settings.__class__(**{**settings.__dict__, "tick_seconds": 0.2}))
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(stop,))
    loop.start()
    try:
        assert wait_for(lambda: alerts(engine))
    finally:
        stop.set()
        loop.join(10)
    [alert] = alerts(engine)
    assert (alert.visit_id, alert.kind, alert.worker_id) == (visit.id, "missed_check_in", personas["worker"].id)


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_materials_are_checked_by_content_and_kept_for_the_team_only(engine, personas, worker_client,
                                                                     other_worker_client):
    group_id = make_group(engine, personas)
    with unit_of_work(engine) as session:
        programme_id = session.get(Group, group_id).programme_id
    page = f"/programmes/{programme_id}/sessions/1"
    attach = f"{page}/materials"

    def send(data, name):
        return worker_client.post_form(attach, {"file": (BytesIO(data), name)}, page=page,
                                       content_type="multipart/form-data")

    refused = send(b"MZ\x90\x00 not a pdf", "worksheet.pdf")
    assert refused.status_code == 422 and "Attach a PDF" in refused.get_data(as_text=True)
    fake_zip = send(b"PK\x03\x04 broken", "slides.pptx")
    assert fake_zip.status_code == 422
    assert send(pdf_bytes(), "../../Worksheet one.pdf").status_code == 303
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    photo = BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(photo, "JPEG", exif=exif)
    assert send(photo.getvalue(), "board.jpg").status_code == 303
    with unit_of_work(engine) as session:
        kept = session.exec(select(ProgrammeMaterial).order_by(ProgrammeMaterial.id)).all()
        assert [m.filename for m in kept] == ["Worksheet one.pdf", "board.jpg"]
        assert not Image.open(BytesIO(kept[1].content)).getexif()
        ids = [m.id for m in kept]
    got = worker_client.get(f"/materials/{ids[0]}")
    assert got.status_code == 200 and got.data == pdf_bytes() and "attachment" in got.headers["Content-Disposition"]
    assert other_worker_client.get(f"/materials/{ids[0]}").status_code == 404
    assert other_worker_client.get(f"/groups/{group_id}").status_code == 404
    assert other_worker_client.get(f"/programmes/{programme_id}").status_code == 404
    with pytest.raises(ValidationError):
        materials.checked(b"", "x.pdf")


def test_group_pages_render_and_bad_input_keeps_what_was_typed(engine, personas, worker_client):
    group_id = make_group(engine, personas)
    for path in ("/groups", f"/groups/{group_id}", "/programmes/new", "/groups/new"):
        assert worker_client.get(path).status_code == 200, path
    bad = worker_client.post_form("/groups/new", {"name": "Monday group", "venue": "", "duration_minutes": "5"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'value="Monday group"' in html and "Say where the group meets." in html
    bad = worker_client.post_form("/programmes/new", {"name": "Life skills", "session_count": "0"})
    assert bad.status_code == 422 and 'value="Life skills"' in bad.get_data(as_text=True)


def test_the_demo_has_a_group_with_registers_taken(engine, client):
    from app.services.demo import seed_demo

    with unit_of_work(engine) as session:
        seed_demo(session, password="demo password 1")
        [group] = session.exec(select(Group)).all()
        meetings = groups.sessions_of(session, group)
        assert len(meetings) == 6 and meetings[2].starts_local.date() == utcnow().date()
        assert len(groups.members(session, group.id)) == 4
        assert len(session.exec(select(Attendance)).all()) == 8
    assert client.login("worker@example.org", "demo password 1").status_code == 303
    today = client.get("/").get_data(as_text=True)
    assert f"{utcnow():%A} evening (demo)" in today and "Take register" in today  # named for its day


def test_completion_is_recorded_only_when_the_rule_is_met_and_the_place_passes_on(engine, personas, worker_client):
    group_id = make_group(engine, personas, capacity=2, sessions=4, percent=75)  # 3 of 4, first and final
    a, b, c = add_people(engine, personas["worker"].team_id, ["Ann Done", "Ben Done", "Cat Waits"])
    ids = {pid: enrol(engine, personas, group_id, pid).id for pid in (a, b, c)}
    with unit_of_work(engine) as session:
        worker, group = session.get(User, personas["worker"].id), session.get(Group, group_id)
        for meeting in groups.sessions_of(session, group):
            meeting.started_at = utcnow()
            registers.save_register(session, worker, meeting, group, {
                a: registers.Mark("attended" if meeting.number != 2 else "left_early"),
                b: registers.Mark("late" if meeting.number != 4 else "sent_home")}, now=utcnow(), zone=LONDON)
        shown = group_completion.completions(session, group, groups.members(session, group_id, ("enrolled",)))
        assert {e: c.met for e, c in shown.items()} == {ids[a]: True, ids[b]: False}
    # Ben missed the final session: Completed is refused, with what is still needed.
    refused = worker_client.post_form(f"/enrolments/{ids[b]}/finish", {f"finish-{ids[b]}-outcome": "completed"},
                                      page=f"/groups/{group_id}")
    assert refused.status_code == 422 and "the final session (number 4)" in refused.get_data(as_text=True)
    no_reason = worker_client.post_form(f"/enrolments/{ids[b]}/finish", {f"finish-{ids[b]}-outcome": "not_completed"},
                                        page=f"/groups/{group_id}")
    assert no_reason.status_code == 422 and "Say why they did not complete" in no_reason.get_data(as_text=True)
    for pid, outcome, reason in ((a, "completed", ""), (b, "not_completed", "Sent home twice; recalled")):
        done = worker_client.post_form(f"/enrolments/{ids[pid]}/finish", {f"finish-{ids[pid]}-outcome": outcome,
                                                                          f"finish-{ids[pid]}-reason": reason},
                                       page=f"/groups/{group_id}")
        assert done.status_code == 303
    with unit_of_work(engine) as session:
        states = {e.person_id: (e.state, e.end_reason) for e in session.exec(select(Enrolment)).all()}
    assert states == {a: ("completed", None), b: ("not_completed", "Sent home twice; recalled"), c: ("enrolled", None)}


def test_a_material_with_any_name_downloads(engine, personas, worker_client):
    group_id = make_group(engine, personas)
    with unit_of_work(engine) as session:
        planned = groups.session_plan(session, session.get(Programme, session.get(Group, group_id).programme_id), 1)
        material = materials.attach(session, session.get(User, personas["worker"].id), planned, pdf_bytes(),
                                    "Ćwiczenie 練習.pdf", now=utcnow())
        material_id = material.id
    got = worker_client.get(f"/materials/{material_id}")
    assert got.status_code == 200 and "filename*=UTF-8''" in got.headers["Content-Disposition"]


def test_only_a_facilitator_starts_a_session(engine, personas):
    group_id = make_group(engine, personas)
    with unit_of_work(engine) as session:
        meeting = groups.sessions_of(session, session.get(Group, group_id))[0]
        with pytest.raises(ValidationError, match="facilitators"):
            registers.start_session(session, session.get(User, personas["worker2"].id), meeting,
                                    session.get(Group, group_id), now=utcnow())
        assert meeting.started_at is None and session.exec(select(Visit)).all() == []


def test_a_nul_character_typed_or_sent_is_dropped_not_a_server_error(engine, personas, worker_client):
    group_id = make_group(engine, personas)
    with unit_of_work(engine) as session:
        programme_id = session.get(Group, group_id).programme_id
    page = f"/programmes/{programme_id}/sessions/1"
    assert worker_client.post_form(page, {"topic": "Budget\x00ing", "aims": "\x00"}).status_code == 303
    with unit_of_work(engine) as session:
        planned = groups.session_plan(session, session.get(Programme, programme_id), 1)
        assert (planned.topic, planned.aims) == ("Budgeting", None)


def test_an_orders_non_association_bars_enrolment_and_an_enforceable_register_feeds_compliance(engine, personas):
    """The two features joined: an order's non-association is asked at enrolment like a keep-apart
    flag, and an enforceable group's register goes into the order's compliance record."""
    from datetime import date

    from app.models import ComplianceEvent
    from app.services import orders

    dee, eli = add_people(engine, personas["worker"].team_id, ["Dee Order", "Eli Named"])
    with unit_of_work(engine) as session:
        worker = session.get(User, personas["worker"].id)
        order = orders.create_order(session, worker, session.get(Person, dee), orders.OrderDetails(
            "community_order", "Example Magistrates' Court", date.today() - timedelta(days=30),
            date.today() + timedelta(days=300), responsible_officer_id=worker.id), now=utcnow())
        orders.add_requirement(session, order, orders.RequirementDetails("non_association", named_person_ids=[eli]),
                               now=utcnow())
        programme = orders.add_requirement(session, order, orders.RequirementDetails(
            "accredited_programme", detail="Relapse prevention"), now=utcnow())
        order_id, requirement_id = order.id, programme.id
    # Its first session a week ago, within the order (an order counts a session on the day it was held).
    group_id = make_group(engine, personas, minutes=90,
                          starts=datetime.combine(date.today() - timedelta(days=7), datetime.min.time()).replace(hour=18))
    with unit_of_work(engine) as session:
        session.get(Group, group_id).enforceable = True
    enrol(engine, personas, group_id, eli)
    with unit_of_work(engine) as session, pytest.raises(groups.NeedsOverride) as barred:
        groups.enrol(session, session.get(User, personas["worker"].id), session.get(Group, group_id),
                     session.get(Person, dee), now=utcnow(), zone=LONDON)
        assert False, "enrolled beside someone the order says they must not meet"
    assert [p.name for p in barred.value.conflicts] == ["Eli Named"]
    enrol(engine, personas, group_id, dee, who="supervisor", override="Seated apart, two facilitators")
    with unit_of_work(engine) as session:
        meeting = session.exec(select(GroupSession).where(GroupSession.group_id == group_id,
                                                          GroupSession.number == 1)).one()
        meeting.started_at = utcnow()
        registers.save_register(session, session.get(User, personas["worker"].id), meeting,
                                session.get(Group, group_id), {dee: registers.Mark("late"),
                                                               eli: registers.Mark("left_early")},
                                now=utcnow(), zone=LONDON)
        recorded = session.exec(select(ComplianceEvent).where(ComplianceEvent.order_id == order_id,
                                                              ComplianceEvent.kind == "outcome")).all()
    assert [(e.outcome, e.source, e.minutes, e.requirement_id) for e in recorded] == [
        ("attended_complied", f"group_session:{meeting.id}", 90, requirement_id)]

    # A session held before the order began feeds nothing, though its register is saved today.
    earlier = make_group(engine, personas, minutes=90)  # its first session on 13 October 2026
    with unit_of_work(engine) as session:
        session.get(Group, earlier).enforceable = True
    enrol(engine, personas, earlier, dee)
    with unit_of_work(engine) as session:
        old = session.exec(select(GroupSession).where(GroupSession.group_id == earlier,
                                                      GroupSession.number == 1)).one()
        old.started_at = utcnow()
        registers.save_register(session, session.get(User, personas["worker"].id), old,
                                session.get(Group, earlier), {dee: registers.Mark("attended")},
                                now=utcnow(), zone=LONDON)
        assert len(session.exec(select(ComplianceEvent).where(ComplianceEvent.order_id == order_id)).all()) == 1


def test_the_timeline_loads_only_the_window_of_attendance_marks(engine, personas):
    """The person's page asks for one page of marks at or before where it starts, not all of them."""
    from app.groups.record import attendance_entries
    from app.record import PersonView, Window

    group_id = make_group(engine, personas, sessions=6)
    (pid,) = add_people(engine, personas["worker"].team_id, ["Win Dow"])
    enrol(engine, personas, group_id, pid)
    with unit_of_work(engine) as session:
        meetings = groups.sessions_of(session, session.get(Group, group_id))
        session.add_all(Attendance(group_session_id=m.id, person_id=pid, mark="attended",
                                   recorded_by_id=personas["worker"].id) for m in meetings)
    with unit_of_work(engine) as session:
        view = lambda window: PersonView(session, session.get(User, personas["worker"].id),  # noqa: E731
                                         session.get(Person, pid), utcnow(), LONDON, window)
        fourth = groups.session_window(meetings[3], session.get(Group, group_id), LONDON)[0]
        shown = [e.data["meeting"].number for e in attendance_entries(view(Window(before=fourth, size=2)))]
        newest = [e.data["meeting"].number for e in attendance_entries(view(Window(size=2)))]
    assert shown == [4, 3, 2] and newest == [6, 5, 4]  # a page and one more, to know there are more
