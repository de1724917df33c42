"""What workers and responders do with visits and alerts. Rules come from safety_rules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from app.db import built_once
from app.models import Alert, Delivery, Person, SafetyEvent, Team, User, Visit
from app.services import ValidationError
from app.services import delivery as delivery_service
from app.services import leave, rota
from app.services import safety_rules as rules
from app.services.access import NotFound
from app.services.delivery import Message
# Who an alarm goes to and what it says live in their own module, as the PINs do in theirs; their
# names stay here, where the routes and tests look.
from app.services.alarm_recipients import (alarm_message, are_you_ok, ladder, responders,  # noqa: F401
                                           team_supervisors)
# The PINs live in their own module; their names stay here, where the routes and tests look.
from app.services.pins import (PinEntry, _pins, classify_pin, pin_problem, pin_required,  # noqa: F401
                               read_pin, set_pins)

MAX_NOTES = 2000
KIND_LABELS = {"missed_check_in": "Missed check-in", "panic": "Crisis button", "duress": "Silent alarm (duress PIN)",
               "wrong_pins": "Silent alarm (repeated wrong PINs)"}
PIN_PAUSED = "Too many wrong PINs. Try again in {minutes} min."
OUTCOMES = {
    "false_alarm": "Worker safe — false alarm",
    "incident": "Worker safe — incident",
    "emergency_services": "Emergency services called",
}


# ---- events and alerts ----

def record_event(session: Session, kind: str, *, now: datetime, visit: Visit | None = None, alert: Alert | None = None,
                 actor_id: int | None = None, detail: str | None = None, latitude: float | None = None,
                 longitude: float | None = None, made_at: datetime | None = None) -> SafetyEvent:
    event = SafetyEvent(at=now, made_at=made_at, visit_id=visit.id if visit else None,
                        alert_id=alert.id if alert else None, actor_id=actor_id, kind=kind,
                        detail=detail, latitude=latitude, longitude=longitude)
    session.add(event)
    return event


def notify_level(session: Session, alert: Alert, *, now: datetime) -> int:
    message = alarm_message(alert, alert.level, alert.repeats)
    queued = sum(delivery_service.enqueue(session, message, person, now=now)
                 for person in responders(session, alert, alert.level))
    if queued == 0 and alert.kind in rules.SILENT_KINDS:
        # No supervisor could be sent it (no phone, no channel set up): it must still reach someone.
        queued = sum(delivery_service.enqueue(session, message, person, now=now)
                     for person in responders(session, alert, alert.level, silent_fallback=True))
    return queued


def raise_alert(session: Session, *, kind: str, worker: User, team: Team, now: datetime, visit: Visit | None = None,
                latitude: float | None = None, longitude: float | None = None) -> Alert:
    """Create the alert, its events and its first deliveries, in the caller's transaction."""
    fresh = latitude is not None  # given now by the phone; else the visit's last known place, and when
    if not fresh and visit is not None:
        latitude, longitude = visit.latitude, visit.longitude
    alert = Alert(team_id=team.id, worker_id=worker.id, visit_id=visit.id if visit else None, kind=kind,
                  level=rules.first_level(kind), raised_at=now,
                  duty_supervisor_id=rota.duty_supervisor_ids(session, [team.id], now)[team.id],
                  buddy_id=leave.standing_in(session, worker.buddy_id, now),
                  next_escalation_at=now + _escalation_delay(team), latitude=latitude, longitude=longitude,
                  location_at=now if fresh else (visit.location_at if visit else None))
    session.add(alert)
    session.flush()
    record_event(session, "alert_raised", now=now, visit=visit, alert=alert, detail=f"{kind}, level {alert.level}",
                 latitude=latitude, longitude=longitude)
    if kind == "missed_check_in":
        # Level 1 also asks the worker themself (never for duress: that alarm is silent to them).
        delivery_service.enqueue(session, are_you_ok(visit.id, alert.id), worker, now=now)
    notify_level(session, alert, now=now)
    return alert


def _escalation_delay(team: Team) -> timedelta:
    return timedelta(seconds=team.escalation_seconds)


def escalate(session: Session, alert: Alert, *, now: datetime) -> None:
    rules.next_alert_state(alert.state, "escalate")
    alert.level, alert.repeats = rules.escalate(alert.level, alert.repeats)
    alert.next_escalation_at = now + _escalation_delay(session.get(Team, alert.team_id))
    record_event(session, "escalated", now=now, alert=alert, visit=session.get(Visit, alert.visit_id) if alert.visit_id else None,
                 detail=f"level {alert.level}" + (f", repeat {alert.repeats}" if alert.repeats else ""))
    notify_level(session, alert, now=now)


def miss(session: Session, visit: Visit, *, now: datetime) -> Alert:
    """The visit passed its grace deadline with no word from the worker."""
    visit.state = rules.next_visit_state(visit.state, "miss")
    return raise_missed_alert(session, visit, now=now)


def raise_missed_alert(session: Session, visit: Visit, *, now: datetime) -> Alert:
    """After the visit moved to overdue (here or by the engine's claim): the event and the alert."""
    visit.remind_at = None
    record_event(session, "overdue", now=now, visit=visit)
    return raise_alert(session, kind="missed_check_in", worker=session.get(User, visit.worker_id),
                       team=session.get(Team, visit.team_id), now=now, visit=visit)


# ---- the worker's visit ----

@dataclass
class VisitRequest:
    place: str
    minutes: int | None
    every_minutes: int | None = None
    sealed_notes: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy: float | None = None
    # Someone on the caseload, already checked as visible to the worker (services.people.get_person).
    person: Person | None = None


def running_visit(session: Session, worker_id: int) -> Visit | None:
    return session.exec(_running_visit(), params={"worker_id": worker_id}).first()


@built_once
def _running_visit():
    return (select(Visit).where(Visit.worker_id == bindparam("worker_id"), Visit.state.in_(("active", "overdue")))
            .order_by(Visit.started_at.desc()))


def _valid_location(latitude, longitude) -> bool:
    return latitude is not None and longitude is not None and -90 <= latitude <= 90 and -180 <= longitude <= 180


def _set_location(visit: Visit, latitude, longitude, accuracy, now: datetime) -> None:
    if _valid_location(latitude, longitude):
        visit.latitude, visit.longitude, visit.location_at = latitude, longitude, now
        visit.location_accuracy_m = accuracy


def _apply(visit: Visit, clock: rules.Clock) -> None:
    visit.planned_end_at, visit.due_at, visit.overdue_at, visit.remind_at = (
        clock.planned_end_at, clock.due_at, clock.overdue_at, clock.remind_at)


def start_visit(session: Session, worker: User, team: Team, request: VisitRequest, *, now: datetime) -> Visit:
    errors = {}
    place = (request.place or "").strip() or (request.person.address or "" if request.person else "")
    if request.person is not None and request.person.team_id != team.id:
        raise NotFound
    if not place:
        errors["place"] = "Say where you are going: an address, or a description of the place."
    elif len(place) > 300:
        errors["place"] = "Keep the place under 300 characters."
    if request.minutes is None:
        errors["minutes"] = "Choose how long the visit will take."
    elif not team.min_visit_minutes <= request.minutes <= team.max_visit_minutes:
        errors["minutes"] = (f"Your team allows visits from {team.min_visit_minutes} to "
                             f"{team.max_visit_minutes} minutes.")
    if request.every_minutes is not None and not 1 <= request.every_minutes <= 240:
        errors["every_minutes"] = "Check in every 1 to 240 minutes, or choose no periodic check-in."
    if request.sealed_notes and len(request.sealed_notes) > MAX_NOTES:
        errors["sealed_notes"] = f"Keep the notes under {MAX_NOTES} characters."
    if team.pin_policy == "required" and not worker.pin_hash:
        errors[""] = "Your team requires a PIN to check in. Set one in Safety settings first."
    if running_visit(session, worker.id) is not None:
        errors[""] = "You already have a visit running. End it before starting another."
    if errors:
        raise ValidationError(errors)
    clock = rules.start_clock(now, request.minutes, request.every_minutes, team.grace_seconds)
    visit = Visit(worker_id=worker.id, team_id=team.id, place=place, started_at=now,
                  person_id=request.person.id if request.person else None,
                  check_in_every_minutes=request.every_minutes, grace_seconds=team.grace_seconds,
                  sealed_notes=(request.sealed_notes or "").strip() or None, planned_end_at=clock.planned_end_at,
                  due_at=clock.due_at, overdue_at=clock.overdue_at, remind_at=clock.remind_at)
    _set_location(visit, request.latitude, request.longitude, request.accuracy, now)
    session.add(visit)
    session.flush()
    record_event(session, "started", now=now, visit=visit, actor_id=worker.id,
                 detail=f"{request.minutes} min" + (f", check in every {request.every_minutes} min" if request.every_minutes else ""),
                 latitude=visit.latitude, longitude=visit.longitude)
    return visit


def visits_to(session: Session, person: Person) -> list[Visit]:
    """Timed visits to a person, newest first, for their timeline (never the sealed notes)."""
    return list(session.exec(select(Visit).where(Visit.person_id == person.id, Visit.team_id == person.team_id)
                             .order_by(Visit.started_at.desc()).limit(100)).all())


def own_visit(session: Session, worker: User, visit_id: int) -> Visit:
    # Locked (PostgreSQL) so a check-in and the engine's claim of the same visit take turns.
    visit = session.get(Visit, visit_id, with_for_update=True, populate_existing=True)
    if visit is None or visit.worker_id != worker.id:
        raise NotFound
    return visit


def _open_alert_for(session: Session, visit: Visit, kind: str = "missed_check_in") -> Alert | None:
    return session.exec(select(Alert).where(Alert.visit_id == visit.id, Alert.state != "resolved",
                                            Alert.kind == kind)).first()


class PinRefused(ValidationError):
    """A wrong PIN, or any PIN while entry is paused. What it changed (the count of wrong PINs, an
    alarm) must be kept: the caller commits instead of rolling back."""


def _paused(visit: Visit, now: datetime) -> PinRefused:
    minutes = max(1, -(-int((visit.pin_paused_until - now).total_seconds()) // 60))
    return PinRefused({"pin": PIN_PAUSED.format(minutes=minutes)})


def guarded_pin(session: Session, worker: User, team: Team, visit: Visit, pin: str | PinEntry | None, *,
                now: datetime, latitude=None, longitude=None) -> str:
    """classify_pin, with the visit's count of wrong PINs in a row: "normal", "duress", or raises.

    While entry is paused every PIN gets the same refusal, the right one included (an onlooker must
    learn nothing, and the supervisors are already alerted); the duress PIN still raises its alarm.
    The worker can still hold Crisis, and the timer still runs: a missed deadline alerts as ever."""
    entry = pin if isinstance(pin, PinEntry) else read_pin(worker, pin)
    if rules.pin_paused(visit.pin_paused_until, now):
        if entry.matched == "duress":
            raise_alert(session, kind="duress", worker=worker, team=team, now=now, visit=visit,
                        latitude=latitude, longitude=longitude)
        raise _paused(visit, now)
    try:
        kind = classify_pin(worker, team, entry)
    except ValidationError as error:
        if not entry.typed:
            raise
        visit.pin_failures += 1
        pause = rules.pin_pause_after(visit.pin_failures)
        if pause is None:
            raise PinRefused(error.errors) from None
        visit.pin_paused_until = now + pause
        alert = _open_alert_for(session, visit, "wrong_pins") or raise_alert(
            session, kind="wrong_pins", worker=worker, team=team, now=now, visit=visit,
            latitude=latitude, longitude=longitude)
        record_event(session, "pin_paused", now=now, visit=visit, alert=alert,
                     detail=f"{visit.pin_failures} wrong PINs in a row; PINs refused for "
                            f"{int(pause.total_seconds() // 60)} min")
        raise _paused(visit, now) from None
    if visit.pin_failures:
        visit.pin_failures = 0
        alert = _open_alert_for(session, visit, "wrong_pins")
        if alert is not None and kind == "normal":
            _tell_responders(session, alert, "Silent alarm — the right PIN was then entered",
                             "Confirm they are safe before resolving it.", now=now,
                             ref=f"pin-ok:{int(now.timestamp())}")
    return kind


def _tell_responders(session: Session, alert: Alert, title: str, body: str, *, now: datetime, ref: str) -> None:
    message = Message(kind="safety", event_ref=f"alert:{alert.id}:{ref}", title=title, body=body,
                      url=f"/alerts/{alert.id}", topic=f"alert-{alert.id}")
    for person in responders(session, alert, max(alert.level, 2)):
        delivery_service.enqueue(session, message, person, now=now)


def check_in(session: Session, worker: User, team: Team, visit: Visit, *, pin: str | PinEntry | None,
             now: datetime, made_at: datetime | None = None, latitude=None, longitude=None, accuracy=None) -> None:
    """I'm safe. With the duress PIN it does exactly the same, and also raises a silent alarm."""
    kind = guarded_pin(session, worker, team, visit, pin, now=now, latitude=latitude, longitude=longitude)
    if visit.state == "active" and rules.is_missed(visit.overdue_at, now):
        miss(session, visit, now=now)  # too late: the deadline has passed, whoever noticed first
    visit.state = rules.next_visit_state(visit.state, "check_in")
    _set_location(visit, latitude, longitude, accuracy, now)
    visit.last_check_in_at = now
    if visit.state == "active":
        _apply(visit, rules.check_in_clock(visit.planned_end_at, visit.check_in_every_minutes, visit.grace_seconds, now))
        record_event(session, "checked_in", now=now, visit=visit, actor_id=worker.id, made_at=made_at,
                     latitude=latitude, longitude=longitude)
    else:
        alert = _open_alert_for(session, visit)
        record_event(session, "late_check_in", now=now, visit=visit, alert=alert, actor_id=worker.id, made_at=made_at,
                     latitude=latitude, longitude=longitude, detail="checked in after the alert was raised")
        if alert is not None:
            _tell_responders(session, alert, "Safety alert — the worker checked in late",
                             "They checked in after the alert. Confirm they are safe before resolving it.",
                             now=now, ref=f"late:{int(now.timestamp())}")
    if kind == "duress":
        raise_alert(session, kind="duress", worker=worker, team=team, now=now, visit=visit,
                    latitude=latitude, longitude=longitude)


def extend(session: Session, worker: User, team: Team, visit: Visit, *, minutes: int | None, now: datetime,
           made_at: datetime | None = None) -> None:
    if visit.state == "active" and rules.is_missed(visit.overdue_at, now):
        miss(session, visit, now=now)
    if visit.state != "active":
        raise ValidationError({"": "Your team has already been alerted. Tap I'm safe, then end the visit."})
    if minutes is None or not 1 <= minutes <= team.max_visit_minutes:
        raise ValidationError({"minutes": f"Extend by 1 to {team.max_visit_minutes} minutes."})
    clock = rules.extend_clock(visit.planned_end_at, visit.check_in_every_minutes, visit.grace_seconds, minutes, now)
    if (clock.planned_end_at - visit.started_at).total_seconds() > team.max_visit_minutes * 60:
        raise ValidationError({"minutes": f"Your team's longest visit is {team.max_visit_minutes} minutes. "
                                          "End this visit and start a new one if you need more time."})
    visit.state = rules.next_visit_state(visit.state, "extend")
    _apply(visit, clock)
    visit.last_check_in_at = now
    record_event(session, "extended", now=now, visit=visit, actor_id=worker.id, made_at=made_at, detail=f"+{minutes} min")


def end_visit(session: Session, worker: User, team: Team, visit: Visit, *, pin: str | PinEntry | None,
              now: datetime, made_at: datetime | None = None) -> None:
    kind = guarded_pin(session, worker, team, visit, pin, now=now)
    if visit.state == "active" and rules.is_missed(visit.overdue_at, now):
        miss(session, visit, now=now)
    visit.state = rules.next_visit_state(visit.state, "end")
    visit.ended_at, visit.remind_at = now, None
    record_event(session, "ended", now=now, visit=visit, actor_id=worker.id, made_at=made_at)
    if kind == "duress":
        raise_alert(session, kind="duress", worker=worker, team=team, now=now, visit=visit)


# ---- responders ----

def crisis_alarm(session: Session, worker: User, team: Team, *, now: datetime, latitude: float | None = None,
                 longitude: float | None = None, made_at: datetime | None = None) -> Alert:
    """The Crisis button: a top-level alarm at once, with where the worker is and their running
    visit (its sealed notes open on the alert page). Pressed again while the alarm is still open, it
    adds the new location to that alarm instead of starting another."""
    if not _valid_location(latitude, longitude):
        latitude = longitude = None
    open_alarm = session.exec(select(Alert).where(Alert.worker_id == worker.id, Alert.kind == "panic",
                                                  Alert.state != "resolved").with_for_update()).first()
    visit = running_visit(session, worker.id)
    if open_alarm is not None:
        if latitude is not None:
            open_alarm.latitude, open_alarm.longitude, open_alarm.location_at = latitude, longitude, now
        record_event(session, "crisis_again", now=now, alert=open_alarm, visit=visit, actor_id=worker.id,
                     made_at=made_at, latitude=latitude, longitude=longitude)
        return open_alarm
    alert = raise_alert(session, kind="panic", worker=worker, team=team, now=now, visit=visit,
                        latitude=latitude, longitude=longitude)
    record_event(session, "crisis_pressed", now=now, alert=alert, visit=visit, actor_id=worker.id, made_at=made_at,
                 latitude=latitude, longitude=longitude)
    return alert


def open_crisis_alarm(session: Session, worker_id: int) -> Alert | None:
    """The worker's own Crisis alarm that nobody has closed yet (never a duress alarm)."""
    return session.exec(_open_crisis_alarm_of(), params={"worker_id": worker_id}).first()


@built_once
def _open_crisis_alarm_of():  # every page a worker opens asks (the bar under the header)
    return select(Alert).where(Alert.worker_id == bindparam("worker_id"), Alert.kind == "panic",
                               Alert.state != "resolved")


def own_crisis_alarm(session: Session, worker: User, alert_id: int) -> Alert:
    """A worker may follow their own Crisis alarm (never any other alert about them: a duress alarm
    must stay invisible on their phone)."""
    alert = session.get(Alert, alert_id)
    if alert is None or alert.worker_id != worker.id or alert.kind != "panic":
        raise NotFound
    return alert


def acknowledge(session: Session, alert: Alert, responder: User, *, now: datetime) -> bool:
    """Returns False when it was already acknowledged (by anyone); the first responder is kept."""
    if alert.state != "open":
        return False
    alert.state = rules.next_alert_state(alert.state, "acknowledge")
    alert.acknowledged_at, alert.acknowledged_by_id, alert.next_escalation_at = now, responder.id, None
    visit = session.get(Visit, alert.visit_id) if alert.visit_id else None
    record_event(session, "acknowledged", now=now, alert=alert, visit=visit, actor_id=responder.id)
    # Stop the alarms still waiting to go out, in the outbox or claimed by a worker's lane (a claimed
    # row is then neither recorded nor handed back to the outbox); tell everyone who is responding.
    session.exec(
        update(Delivery)
        .where(Delivery.event_ref.like(f"alert:{alert.id}:level:%"), Delivery.status.in_(("pending", "sending")))
        .values(status="cancelled")
    )
    # What happened, never who: a push, text or email names nobody (the app shows who, signed in).
    _tell_responders(session, alert, "Safety alert — someone is responding",
                     "The alert has been acknowledged. Open Fieldline for the details.", now=now, ref="ack")
    silent = alert.kind in rules.SILENT_KINDS or (alert.kind == "panic" and session.get(Team, alert.team_id).silent_crisis)
    if not silent:
        delivery_service.enqueue(session, Message(
            kind="safety", event_ref=f"alert:{alert.id}:ack:worker", title="Help is on the way",
            body="A colleague is responding. Open Fieldline for the details.", url="/", topic=f"visit-{alert.visit_id or alert.id}",
        ), session.get(User, alert.worker_id), now=now)
    return True


def resolve(session: Session, alert: Alert, responder: User, *, outcome: str, note: str, now: datetime) -> None:
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = "Choose what happened."
    if outcome in ("incident", "emergency_services") and not note.strip():
        errors["note"] = "Say briefly what happened."
    if errors:
        raise ValidationError(errors)
    alert.state = rules.next_alert_state(alert.state, "resolve")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = now, responder.id
    alert.resolved_at, alert.resolved_by_id, alert.next_escalation_at = now, responder.id, None
    alert.outcome, alert.resolution_note = outcome, note.strip() or None
    session.exec(
        update(Delivery)
        .where(Delivery.event_ref.like(f"alert:{alert.id}:%"), Delivery.status == "pending")
        .values(status="cancelled")
    )
    record_event(session, "resolved", now=now, alert=alert, actor_id=responder.id, detail=OUTCOMES[outcome],
                 visit=session.get(Visit, alert.visit_id) if alert.visit_id else None)


def visit_warning(person) -> str | None:
    """Shown before a visit to someone whose record says to take care."""
    reasons = []
    if "not_alone" in (person.flags or []):
        reasons.append("their record says do not visit alone")
    if person.risk_level == "very_high":
        reasons.append("their risk is Very high")
    if not reasons:
        return None
    return ("Take care: " + " and ".join(reasons) + ". Go with a colleague if you can, and choose a shorter "
            "timer with periodic check-ins.")
