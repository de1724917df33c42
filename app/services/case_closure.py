"""Closing a person's case with a reason, and reopening it.

Closing sets `Person.status = 'closed'` and `Person.closed_at` (retention counts from it), cancels
the person's future appointments (so no reminder goes out for a closed case) and appends a
`CaseEvent` saying who closed it, when and why. A case with an open plan is closed only after the
plan (the plan's exit records the outcomes the manager's figures count). Reopening clears
`closed_at` and appends its own event; the cancelled appointments stay cancelled.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.db import built_once
from app.models import Appointment, CaseEvent, Person, Plan, User
from app.models.people import CLOSE_REASONS
from app.services import ValidationError
from app.services import appointments as appointment_service
from app.services.access import NotFound

REASON_LABELS = {
    "goals_achieved": "Goals achieved or plan completed", "moved_away": "Moved out of the area",
    "transferred": "Transferred to another service", "disengaged": "Disengaged or no contact",
    "in_custody": "In custody", "died": "Died", "other": "Other (say why in the note)",
}
assert tuple(REASON_LABELS) == CLOSE_REASONS
NOTE_LIMIT = 1000
# How many of the future appointments the close page lists (all of them are cancelled).
LISTED = 10


def may_close(viewer: User) -> bool:
    """A worker or supervisor of the person's team (the team itself is checked by get_person)."""
    return viewer.role in ("worker", "supervisor")


def require_closer(viewer: User) -> None:
    if not may_close(viewer):
        raise NotFound


def has_open_plan(session: Session, person: Person) -> bool:
    return session.exec(select(Plan.id).where(Plan.person_id == person.id, Plan.team_id == person.team_id,
                                              Plan.status == "open").limit(1)).first() is not None


@dataclass(frozen=True)
class Upcoming:
    """A series with an occurrence still to come: the next one, and whether more follow."""
    appointment: Appointment
    next: appointment_service.Occurrence
    repeats: bool


def upcoming(session: Session, person: Person, now: datetime, zone: ZoneInfo) -> list[Upcoming]:
    """The person's appointments with an occurrence from now on, soonest first (two queries)."""
    series = list(session.exec(select(Appointment).where(Appointment.person_id == person.id,
                                                         Appointment.team_id == person.team_id,
                                                         Appointment.cancelled_at.is_(None))).all())
    local_now = now.astimezone(zone).replace(tzinfo=None)
    found: dict[int, list[appointment_service.Occurrence]] = {}
    for occurrence in appointment_service.occurrences(session, series, local_now, local_now + appointment_service.HORIZON,
                                                      zone):
        if not occurrence.cancelled and occurrence.outcome is None:
            found.setdefault(occurrence.appointment.id, []).append(occurrence)
    shown = [Upcoming(items[0].appointment, items[0], len(items) > 1 or items[0].appointment.repeat != "none")
             for items in found.values()]
    return sorted(shown, key=lambda u: u.next.starts_at)


def _cancel(session: Session, item: Upcoming, local_now: datetime, now: datetime) -> None:
    """A series that has not begun is cancelled whole; one that has ends before its next occurrence
    (its past stays as it was: outcomes, the compliance record)."""
    appointment = item.appointment
    if appointment.starts_local >= local_now or appointment.repeat == "none":
        appointment_service.cancel_series(appointment, now=now)
    else:
        last_day = item.next.original_local.date() - timedelta(days=1)
        appointment.repeat_until = min(appointment.repeat_until or last_day, last_day)
    appointment.updated_at = now
    session.add(appointment)


def _note(note: str | None) -> str | None:
    return (note or "").strip() or None


def close(session: Session, viewer: User, person: Person, reason: str, note: str | None, *, now: datetime,
          zone: ZoneInfo) -> CaseEvent:
    """Close the case: a `ValidationError` (field: message) for a missing reason or note, an open
    plan, or a case already closed."""
    require_closer(viewer)
    errors = {}
    if person.status == "closed":
        errors["reason"] = "This case is already closed."
    elif has_open_plan(session, person):
        errors["reason"] = "Close the plan first: its exit records what was achieved."
    elif reason not in REASON_LABELS:
        errors["reason"] = "Choose why the case is closing."
    text = _note(note)
    if reason == "other" and not text and "reason" not in errors:
        errors["note"] = "Say why the case is closing."
    if text and len(text) > NOTE_LIMIT:
        errors["note"] = f"Keep the note under {NOTE_LIMIT} characters."
    if errors:
        raise ValidationError(errors)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    items = upcoming(session, person, now, zone)
    for item in items:
        _cancel(session, item, local_now, now)
    session.flush()
    # A moved occurrence can outlive its series' end: whatever is still to come is cancelled one by one.
    for item in upcoming(session, person, now, zone):
        appointment_service.move_occurrence(session, item.appointment, item.next.original_local,
                                            starts_local=None, place=item.next.place, cancelled=True)
    person.status, person.closed_at, person.updated_at = "closed", now, now
    event = CaseEvent(person_id=person.id, kind="closed", at=now, by_id=viewer.id, reason=reason, note=text,
                      cancelled_appointments=len(items))
    session.add(person)
    session.add(event)
    session.flush()
    return event


def reopen(session: Session, viewer: User, person: Person, note: str | None, *, now: datetime) -> CaseEvent:
    require_closer(viewer)
    text = _note(note)
    errors = {}
    if person.status != "closed":
        errors["note"] = "This case is open already."
    elif not text:
        errors["note"] = "Say why the case is reopening."
    elif len(text) > NOTE_LIMIT:
        errors["note"] = f"Keep the reason under {NOTE_LIMIT} characters."
    if errors:
        raise ValidationError(errors)
    person.status, person.closed_at, person.updated_at = "open", None, now
    event = CaseEvent(person_id=person.id, kind="reopened", at=now, by_id=viewer.id, note=text)
    session.add(person)
    session.add(event)
    session.flush()
    return event


def events_for(session: Session, person: Person, *, before: datetime | None = None,
               limit: int | None = None) -> list[CaseEvent]:
    """The case's closes and reopens for the timeline, newest first (one query)."""
    return list(session.exec(_events_page(limit is not None, before is not None),
                             params={"person_id": person.id, "limit": limit, "before": before}).all())


@built_once
def _events_page(limited: bool, paged: bool):
    query = select(CaseEvent).where(CaseEvent.person_id == bindparam("person_id"))
    if paged:
        query = query.where(CaseEvent.at <= bindparam("before"))
    query = query.order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
    return query.limit(bindparam("limit")) if limited else query


def latest_close(session: Session, person: Person) -> CaseEvent | None:
    if person.status != "closed":
        return None
    return session.exec(select(CaseEvent).where(CaseEvent.person_id == person.id, CaseEvent.kind == "closed")
                        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1)).first()
