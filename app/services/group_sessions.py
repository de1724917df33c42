"""A group's sessions: starting one (with the facilitator's visit timer), its register, telling a
key worker, and attendance for the people's timelines."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.models import Attendance, Enrolment, Group, GroupFacilitator, GroupSession, Person, Team, User
from app.models.groups import MARKS
from app.services import ValidationError, delivery
from app.services import safety as safety_service
from app.services.access import NotFound
from app.services.groups import session_window

# Short enough for two big targets side by side on a 360 px screen.
MARK_LABELS = {"attended": "Attended", "late": "Attended late", "left_early": "Left early",
               "acceptable_absence": "Absent: acceptable", "unacceptable_absence": "Absent: not acceptable",
               "sent_home": "Sent home"}
MARK_TONES = {"attended": "ok", "late": "ok", "left_early": "warn", "acceptable_absence": "info",
              "unacceptable_absence": "danger", "sent_home": "danger"}


def get_session(session: Session, viewer: User, session_id: int) -> tuple[GroupSession, Group]:
    meeting = session.get(GroupSession, session_id)
    group = session.get(Group, meeting.group_id) if meeting else None
    if group is None or viewer.team_id is None or group.team_id != viewer.team_id:
        raise NotFound
    return meeting, group


def is_facilitator(session: Session, group: Group, user: User) -> bool:
    return session.exec(select(GroupFacilitator.id).where(GroupFacilitator.group_id == group.id,
                                                          GroupFacilitator.user_id == user.id)).first() is not None


def start_session(session: Session, facilitator: User, meeting: GroupSession, group: Group, *, now: datetime,
                  with_timer: bool = True, latitude: float | None = None, longitude: float | None = None,
                  accuracy: float | None = None):
    """Start the session and, in the same tap, the facilitator's visit timer at the venue for the
    session's length (the ordinary safety service: a missed check-in alerts as any visit does)."""
    if meeting.started_at is not None:
        raise ValidationError({"": "This group session has already been started."})
    if not is_facilitator(session, group, facilitator):
        raise ValidationError({"": "Only the group's facilitators can start its sessions."})
    visit = None
    if with_timer:
        team = session.get(Team, group.team_id)
        visit = safety_service.start_visit(session, facilitator, team, safety_service.VisitRequest(
            place=group.venue, minutes=group.duration_minutes, latitude=latitude, longitude=longitude,
            accuracy=accuracy), now=now)
        meeting.visit_id = visit.id
    meeting.started_at, meeting.started_by_id = now, facilitator.id
    return visit


@dataclass
class Mark:
    mark: str | None
    reason: str | None = None
    note: str | None = None
    tell_key_worker: bool = False


def attendees(session: Session, meeting: GroupSession) -> list[Person]:
    """Who is on the register: everyone enrolled now, and anyone already marked (moved since)."""
    enrolled = select(Enrolment.person_id).where(Enrolment.group_id == meeting.group_id, Enrolment.state == "enrolled")
    marked = select(Attendance.person_id).where(Attendance.group_session_id == meeting.id)
    return list(session.exec(select(Person).where(Person.id.in_(enrolled) | Person.id.in_(marked))
                             .order_by(Person.name, Person.id)).all())


def marks_for(session: Session, meeting: GroupSession) -> dict[int, Attendance]:
    return {a.person_id: a for a in session.exec(select(Attendance).where(
        Attendance.group_session_id == meeting.id)).all()}


def register_open(meeting: GroupSession, group: Group, now: datetime, zone: ZoneInfo) -> bool:
    """A register is taken once the session has started (tapped, or its time has come)."""
    return meeting.started_at is not None or session_window(meeting, group, zone)[0] <= now


def save_register(session: Session, by: User, meeting: GroupSession, group: Group, marks: dict[int, Mark], *,
                  now: datetime, zone: ZoneInfo) -> tuple[list[Attendance], int]:
    """Save the whole register at once (unmarked attendees are left as they were); returns the
    marks saved and how many key workers were told (one with no key worker can't be). Raises
    ValidationError keyed `mark-<person id>` / `reason-<person id>` / `note-<person id>`."""
    if not register_open(meeting, group, now, zone):
        raise ValidationError({"": "This group session has not started yet: take the register once it has."})
    people = {p.id: p for p in attendees(session, meeting)}
    errors = {}
    for person_id, mark in marks.items():
        if person_id not in people:
            raise NotFound
        if mark.mark is None:
            continue
        if mark.mark not in MARKS:
            errors[f"mark-{person_id}"] = "Choose one of the marks."
        if mark.mark == "acceptable_absence" and not (mark.reason or "").strip():
            errors[f"reason-{person_id}"] = "Say why the absence is acceptable."
        if len(mark.reason or "") > 300:
            errors[f"reason-{person_id}"] = "Keep the reason under 300 characters."
        if len(mark.note or "") > 500:
            errors[f"note-{person_id}"] = "Keep the note under 500 characters."
    if not any(m.mark for m in marks.values()) and not errors:
        errors[""] = "Mark at least one person before saving the register."
    if errors:
        raise ValidationError(errors)
    existing = marks_for(session, meeting)
    saved = []
    for person_id, mark in marks.items():
        if mark.mark is None:
            continue
        row = existing.get(person_id) or Attendance(group_session_id=meeting.id, person_id=person_id, mark=mark.mark,
                                                    recorded_by_id=by.id)
        row.mark, row.recorded_by_id, row.recorded_at = mark.mark, by.id, now
        row.reason = (mark.reason or "").strip() or None  # needed for an acceptable absence, kept for any
        row.note = (mark.note or "").strip() or None
        row.tell_key_worker = mark.tell_key_worker
        session.add(row)
        saved.append(row)
    meeting.register_saved_at = now
    session.flush()
    told = sum(1 for row in saved
               if row.tell_key_worker and _tell_key_worker(session, people[row.person_id], row, by, now=now))
    if group.enforceable:
        feed_compliance(session, group, meeting, saved, by=by, now=now, zone=zone)
    return saved, told


def _tell_key_worker(session: Session, person: Person, row: Attendance, by: User, *, now: datetime) -> bool:
    """A notification through the outbox: no name or mark in it (a push payload is read on a lock
    screen); the link opens the person's record. Once per mark (the outbox's dedupe key)."""
    worker = session.get(User, person.key_worker_id) if person.key_worker_id else None
    if worker is None or not worker.active or worker.id == by.id:
        return False
    # Short (the outbox keeps 64 characters): a new mark later is a new message.
    message = delivery.Message(kind="group", event_ref=f"attendance:{row.id}:{int(row.recorded_at.timestamp())}",
                               title="A group facilitator asks you to look at an attendance",
                               body="Open Fieldline for the details.", url=f"/people/{person.id}")
    delivery.enqueue(session, message, worker, now=now)
    return True


def feed_compliance(session: Session, group: Group, meeting: GroupSession, saved: list[Attendance], *,
                    by: User, now: datetime, zone: ZoneInfo) -> None:
    """Enforceable sessions' marks go to each person's compliance record, under every order in
    force (the orders feature's one entry point): late still attended; leaving early is attending
    without complying; an acceptable absence is the facilitator's professional judgement, their
    reason kept. A mark changed later is a correction there too."""
    from app.services import orders

    for row in saved:
        outcome, reason, absence = COMPLIANCE_OUTCOME[row.mark], row.reason, None
        if row.mark == "left_early":
            reason = "Left the group session early" + (f": {row.reason}" if row.reason else "")
        elif row.mark == "sent_home":
            reason = row.reason or "Sent home from the group session"
        elif row.mark == "acceptable_absence":
            absence = "professional_judgement"
        for order in orders.orders_in_force(session, row.person_id, meeting.starts_local.date()):
            requirement = next((r.id for r in orders.requirements_for(session, [order.id]).get(order.id, [])
                                if r.kind in ("accredited_programme", "rehabilitation_activity")), None)
            orders.record_enforceable_outcome(
                session, order=order, source=f"group_session:{meeting.id}", occurred_local=meeting.starts_local,
                outcome=outcome, by=by, now=now, zone=zone, requirement_id=requirement,
                minutes=group.duration_minutes if outcome == "attended_complied" else None,
                reason=reason or "Marked on the group register", absence_reason=absence)


# A register mark as the compliance record's outcome.
COMPLIANCE_OUTCOME = {"attended": "attended_complied", "late": "attended_complied",
                      "left_early": "attended_failed_to_comply", "acceptable_absence": "acceptable_absence",
                      "unacceptable_absence": "unacceptable_absence", "sent_home": "sent_home_behaviour"}