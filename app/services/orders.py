"""Orders on a person (court orders, licences, service agreements), their requirements, the
appointments given as instructions under them, and the compliance record those feed.

The functions other features call (documented for them):
- `record_enforceable_outcome(...)`: the single way an attendance enters the compliance record.
- `non_associated_person_ids(session, person_id, now, zone)`: whom a person must not meet.
- `order_load_points(session, person_ids, now, zone)`: what orders add to a weighted caseload.

An order's days are the organisation's local days: "in force today" means today in `zone`, not in
UTC (at 00:30 in London in summer it is still yesterday in UTC).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_
from sqlmodel import Session, select

from app.db import built_once
from app.models import (Appointment, ComplianceEvent, EnforceableAppointment, Order, Person, Requirement,
                        RequirementPerson, User)
from app.models.orders import ABSENCE_REASONS, ENFORCEABLE_OUTCOMES, ORDER_KINDS, REQUIREMENT_KINDS
from app.services import ValidationError
from app.services.access import NotFound

ORDER_LABELS = {"community_order": "Community order", "suspended_sentence": "Suspended sentence order",
                "licence": "Licence", "post_sentence_supervision": "Post-sentence supervision",
                "youth_order": "Youth order", "service_agreement": "Voluntary service agreement"}
REQUIREMENT_LABELS = {"rehabilitation_activity": "Rehabilitation activity", "unpaid_work": "Unpaid work",
                      "accredited_programme": "Accredited programme", "curfew": "Curfew",
                      "exclusion_zone": "Exclusion zone", "non_association": "Non-association",
                      "residence": "Residence", "drug_alcohol_treatment": "Drug or alcohol treatment",
                      "other": "Other condition"}
# What a requirement's target counts (None: not counted).
TARGET_UNITS = {"rehabilitation_activity": "days", "unpaid_work": "hours"}
OUTCOME_LABELS = {"attended_complied": "Attended and complied",
                  "attended_failed_to_comply": "Attended but failed to comply",
                  "sent_home_behaviour": "Sent home (behaviour)", "sent_home_our_issue": "Sent home (our issue)",
                  "acceptable_absence": "Acceptable absence", "unacceptable_absence": "Unacceptable absence"}
ABSENCE_LABELS = {"medical": "Medical", "court_or_legal": "Court or legal", "work": "Work",
                  "childcare_or_family": "Childcare or family", "religious": "Religious", "in_custody": "In custody",
                  "professional_judgement": "Professional judgement"}
TOLD_HOW = {"in_person": "In person", "letter": "By letter", "text": "By text message", "phone": "By phone",
            "email": "By email"}
# How the appointments' own outcome reads an enforceable one (for Today, reminders, the diary).
APPOINTMENT_OUTCOME = {"attended_complied": "attended", "attended_failed_to_comply": "attended",
                       "sent_home_behaviour": "attended", "sent_home_our_issue": "attended",
                       "acceptable_absence": "did_not_attend", "unacceptable_absence": "did_not_attend"}
# Load points an active order adds to its person on a weighted caseload (licences need most).
LOAD_POINTS = {"licence": 3, "post_sentence_supervision": 2, "suspended_sentence": 2, "community_order": 2,
               "youth_order": 2, "service_agreement": 1}


@dataclass
class OrderDetails:
    kind: str
    made_by: str
    starts_on: date | None
    ends_on: date | None
    expected_end_on: date | None = None
    responsible_officer_id: int | None = None


@dataclass
class RequirementDetails:
    kind: str
    detail: str | None = None
    target: int | None = None
    named_person_ids: list[int] = field(default_factory=list)
    named_others: str | None = None


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def is_active(order: Order, today: date) -> bool:
    return order.starts_on <= today <= (order.expected_end_on or order.ends_on)


# ---- orders and requirements ----

def orders_in_force(session: Session, person_id: int, on: date) -> list[Order]:
    """A person's orders in force on a (local) day: for a feature recording an attendance under one,
    on the day it happened."""
    return [o for o in session.exec(select(Order).where(Order.person_id == person_id)).all() if is_active(o, on)]


def get_order(session: Session, viewer: User, order_id: int) -> Order:
    """The one access rule: the viewer's team's orders only (another team's: 404)."""
    order = session.get(Order, order_id)
    if order is None or viewer.team_id is None or order.team_id != viewer.team_id:
        raise NotFound
    return order


def orders_for(session: Session, person: Person) -> list[Order]:
    return list(session.exec(_orders_of(), params={"person_id": person.id, "team_id": person.team_id}).all())


@built_once
def _orders_of():
    return (select(Order).where(Order.person_id == bindparam("person_id"), Order.team_id == bindparam("team_id"))
            .order_by(Order.starts_on.desc(), Order.id.desc()))


def requirements_for(session: Session, order_ids: list[int]) -> dict[int, list[Requirement]]:
    found: dict[int, list[Requirement]] = {oid: [] for oid in order_ids}
    if order_ids:
        for requirement in session.exec(select(Requirement).where(Requirement.order_id.in_(order_ids))
                                        .order_by(Requirement.id)).all():
            found[requirement.order_id].append(requirement)
    return found


def named_people(session: Session, requirement_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if requirement_ids:
        for row in session.exec(select(RequirementPerson).where(RequirementPerson.requirement_id.in_(requirement_ids))):
            found.setdefault(row.requirement_id, []).append(row.person_id)
    return found


def _check_order(session: Session, team_id: int, details: OrderDetails) -> dict[str, str]:
    errors = {}
    if details.kind not in ORDER_KINDS:
        errors["kind"] = "Choose the kind of order."
    if not (details.made_by or "").strip():
        errors["made_by"] = "Say which court or body made it."
    elif len(details.made_by) > 200:
        errors["made_by"] = "Keep it under 200 characters."
    if details.starts_on is None:
        errors["starts_on"] = "Say when it starts."
    if details.ends_on is None:
        errors["ends_on"] = "Say when it ends."
    elif details.starts_on and details.ends_on < details.starts_on:
        errors["ends_on"] = "The order cannot end before it starts."
    if details.expected_end_on and details.starts_on and details.expected_end_on < details.starts_on:
        errors["expected_end_on"] = "The expected end cannot be before the start."
    officer = session.get(User, details.responsible_officer_id) if details.responsible_officer_id else None
    if officer is None or officer.team_id != team_id or not officer.active:
        errors["responsible_officer_id"] = "Choose the responsible officer from the team."
    return errors


def create_order(session: Session, viewer: User, person: Person, details: OrderDetails, *, now: datetime) -> Order:
    errors = _check_order(session, person.team_id, details)
    if errors:
        raise ValidationError(errors)
    order = Order(team_id=person.team_id, person_id=person.id, kind=details.kind, made_by=details.made_by.strip(),
                  starts_on=details.starts_on, ends_on=details.ends_on, expected_end_on=details.expected_end_on,
                  responsible_officer_id=details.responsible_officer_id, created_by_id=viewer.id, created_at=now)
    session.add(order)
    session.flush()
    return order


def add_requirement(session: Session, order: Order, details: RequirementDetails, *, now: datetime) -> Requirement:
    errors = {}
    if details.kind not in REQUIREMENT_KINDS:
        errors["kind"] = "Choose the kind of requirement."
    unit = TARGET_UNITS.get(details.kind)
    if unit and (details.target is None or not 1 <= details.target <= 1000):
        errors["target"] = f"Say how many {unit} were ordered (1 to 1000)."
    named = set(details.named_person_ids)
    if named:
        on_team = set(session.exec(select(Person.id).where(Person.id.in_(named),
                                                           Person.team_id == order.team_id)).all())
        if on_team != named or order.person_id in named:
            errors["named_person_ids"] = "Choose other people from the caseload."
    if details.kind == "non_association" and not named and not (details.named_others or "").strip():
        errors["named_person_ids"] = "Name at least one person they must not meet."
    if details.kind in ("curfew", "exclusion_zone", "residence", "other") and not (details.detail or "").strip():
        errors["detail"] = "Say what the requirement says (times, the zone, the address or the condition)."
    if errors:
        raise ValidationError(errors)
    requirement = Requirement(order_id=order.id, kind=details.kind, detail=(details.detail or "").strip() or None,
                              target=details.target if unit else None,
                              named_others=(details.named_others or "").strip() or None
                              if details.kind == "non_association" else None, created_at=now)
    session.add(requirement)
    session.flush()
    if details.kind == "non_association":
        for person_id in sorted(named):
            session.add(RequirementPerson(requirement_id=requirement.id, person_id=person_id))
    return requirement


# ---- for other features ----

def non_associated_person_ids(session: Session, person_id: int, now: datetime, zone: ZoneInfo) -> set[int]:
    """The people on the caseload this person must not meet, in both directions: those named in a
    non-association requirement of this person's active orders, and those whose own active order
    names this person. Callers (a group's register, a visit plan) use it to warn before booking
    two such people together."""
    today = local_today(now, zone)
    rows = session.exec(
        select(Order, RequirementPerson.person_id)
        .join(Requirement, Requirement.order_id == Order.id)
        .join(RequirementPerson, RequirementPerson.requirement_id == Requirement.id)
        .where(Requirement.kind == "non_association",
               or_(Order.person_id == person_id, RequirementPerson.person_id == person_id))).all()
    found = set()
    for order, named in rows:
        if is_active(order, today):
            found.add(named if order.person_id == person_id else order.person_id)
    found.discard(person_id)
    return found


def order_load_points(session: Session, person_ids: list[int] | set[int], now: datetime,
                      zone: ZoneInfo) -> dict[int, int]:
    """Points active orders add to each person for a supervisor's weighted caseload: by the order's
    kind (LOAD_POINTS), plus one for each requirement that needs booking or checking. People with no
    active order are left out (0)."""
    ids = set(person_ids)
    if not ids:
        return {}
    today = local_today(now, zone)
    orders = [o for o in session.exec(select(Order).where(Order.person_id.in_(ids))).all() if is_active(o, today)]
    requirements = requirements_for(session, [o.id for o in orders])
    points: dict[int, int] = {}
    for order in orders:
        points[order.person_id] = (points.get(order.person_id, 0) + LOAD_POINTS[order.kind]
                                   + len(requirements[order.id]))
    return points


def record_enforceable_outcome(session: Session, *, order: Order, source: str, occurred_local: datetime,
                               outcome: str, by: User, now: datetime, zone: ZoneInfo,
                               requirement_id: int | None = None, minutes: int | None = None,
                               reason: str | None = None, absence_reason: str | None = None,
                               evidence_due_on: date | None = None) -> ComplianceEvent:
    """Put one attendance into the order's compliance record: the single entry point for every
    feature (an appointment's outcome, a group session's register).

    `source` names what was attended or missed ("appointment:12:2026-01-05T10:00",
    "group_session:7"); `occurred_local` is when it was due (the organisation's wall-clock time):
    the rule judges the outcome on that date, however late it arrives. `minutes` counts towards
    the requirement's hours or days. Recording again for the same source corrects the earlier
    outcome (a reason is then needed); the same outcome again is a no-op. Raises ValidationError
    (field → message) for an outcome not yet due, a missing reason, evidence due before the date.
    """
    if by.team_id != order.team_id:
        raise NotFound
    errors = {}
    if outcome not in ENFORCEABLE_OUTCOMES:
        errors["outcome"] = "Choose what happened."
    if occurred_local > now.astimezone(zone).replace(tzinfo=None):
        errors["outcome"] = "This appointment is not due yet: record its outcome once it has started."
    reason = (reason or "").strip() or None
    if outcome == "attended_failed_to_comply" and not reason:
        errors["reason"] = "Say how they failed to comply."
    if outcome == "sent_home_behaviour" and not reason:
        errors["reason"] = "Say why they were sent home."
    if outcome == "acceptable_absence":
        if absence_reason not in ABSENCE_REASONS:
            errors["absence_reason"] = "Choose why the absence is acceptable."
        if evidence_due_on is not None and evidence_due_on < occurred_local.date():
            errors["evidence_due_on"] = "Evidence cannot be due before the absence."
    requirement = session.get(Requirement, requirement_id) if requirement_id is not None else None
    if requirement_id is not None and (requirement is None or requirement.order_id != order.id):
        errors["requirement_id"] = "Choose one of the order's requirements."
    earlier = current_outcome(session, order.id, source)
    if earlier is not None and earlier.outcome == outcome and not errors:
        return earlier
    if earlier is not None and not reason:
        errors["reason"] = "Say why the outcome recorded earlier is being changed."
    if errors:
        raise ValidationError(errors)
    event = ComplianceEvent(
        team_id=order.team_id, person_id=order.person_id, order_id=order.id, requirement_id=requirement_id,
        kind="correction" if earlier is not None else "outcome", occurred_on=occurred_local.date(), source=source,
        occurred_local=occurred_local, minutes=minutes, outcome=outcome,
        absence_reason=absence_reason if outcome == "acceptable_absence" else None,
        evidence_due_on=evidence_due_on if outcome == "acceptable_absence" else None,
        responds_to_id=earlier.id if earlier is not None else None, reason=reason, recorded_by_id=by.id,
        recorded_at=now)
    session.add(event)
    session.flush()
    return event


def outcome_words(session: Session, sources: list[str]) -> dict[str, tuple[str, str]]:
    """The standing enforceable outcome of each source, in words with its tone ("Acceptable absence
    — medical", "warn"), for the timeline: one query for a page of outcomes."""
    if not sources:
        return {}
    found = {}
    for event in session.exec(select(ComplianceEvent).where(ComplianceEvent.source.in_(sources),
                                                            ComplianceEvent.kind.in_(("outcome", "correction")))
                              .order_by(ComplianceEvent.id)).all():
        words = OUTCOME_LABELS[event.outcome]
        if event.absence_reason:
            words += f" — {ABSENCE_LABELS[event.absence_reason].lower()}"
        tone = ("ok" if event.outcome == "attended_complied" else
                "danger" if event.outcome in ("unacceptable_absence", "attended_failed_to_comply",
                                              "sent_home_behaviour") else "warn")
        found[event.source] = (words, tone)  # the newest (a correction) wins
    return found


def current_outcome(session: Session, order_id: int, source: str) -> ComplianceEvent | None:
    """The outcome standing for one source (the newest of it and its corrections)."""
    events = session.exec(select(ComplianceEvent).where(ComplianceEvent.order_id == order_id,
                                                        ComplianceEvent.source == source,
                                                        ComplianceEvent.kind.in_(("outcome", "correction")))
                          .order_by(ComplianceEvent.id.desc())).all()
    return events[0] if events else None


# ---- enforceable appointments ----

def make_enforceable(session: Session, order: Order, viewer: User, *, appointment_id: int | None,
                     requirement_id: int | None, told_how: str, told_on: date | None,
                     now: datetime) -> EnforceableAppointment:
    errors = {}
    appointment = session.get(Appointment, appointment_id) if appointment_id else None
    if appointment is None or appointment.person_id != order.person_id or appointment.cancelled_at is not None:
        errors["appointment_id"] = "Choose one of the person's appointments."
    elif enforceable_link(session, appointment.id) is not None:
        errors["appointment_id"] = "That appointment is already an instruction under an order."
    if requirement_id is not None and requirement_id not in {r.id for r in requirements_for(session, [order.id])[order.id]}:
        errors["requirement_id"] = "Choose one of this order's requirements."
    if told_how not in TOLD_HOW:
        errors["told_how"] = "Say how they were told."
    if told_on is None:
        errors["told_on"] = "Say when they were told."
    elif told_on < order.starts_on - timedelta(days=30) or told_on > now.date() + timedelta(days=1):
        errors["told_on"] = "The day they were told must be around the order's time and not in the future."
    if errors:
        raise ValidationError(errors)
    link = EnforceableAppointment(appointment_id=appointment.id, order_id=order.id, requirement_id=requirement_id,
                                  told_how=told_how, told_on=told_on, created_by_id=viewer.id, created_at=now)
    session.add(link)
    session.flush()
    return link


def enforceable_link(session: Session, appointment_id: int) -> EnforceableAppointment | None:
    return session.exec(select(EnforceableAppointment)
                        .where(EnforceableAppointment.appointment_id == appointment_id)).first()


def links_for(session: Session, order_ids: list[int]) -> list[tuple[EnforceableAppointment, Appointment]]:
    if not order_ids:
        return []
    return list(session.exec(select(EnforceableAppointment, Appointment)
                             .join(Appointment, Appointment.id == EnforceableAppointment.appointment_id)
                             .where(EnforceableAppointment.order_id.in_(order_ids))).all())


def appointment_source(appointment_id: int, original_local: datetime) -> str:
    return f"appointment:{appointment_id}:{original_local.isoformat(timespec='minutes')}"
