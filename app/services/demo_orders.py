"""The demo's person on a community order, with a realistic history: weekly instructions kept for
most of ten weeks, a medical absence with its evidence, an unacceptable absence met with a warning,
and last week's second one waiting for the supervisor's breach decision."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from app.models import Appointment, Person, User
from app.services import appointments, compliance, orders

ZONE = ZoneInfo("Europe/London")
# Week number (0 = ten weeks ago) → what happened; every other week was attended and complied with.
HISTORY = {3: "acceptable_absence", 5: "unacceptable_absence", 9: "unacceptable_absence"}


def seed_order(session: Session, worker: User, person: Person, not_to_meet: Person, now: datetime) -> None:
    today = now.astimezone(ZONE).date()
    order = orders.create_order(session, worker, person, orders.OrderDetails(
        kind="community_order", made_by="Northside Magistrates' Court (demo)", starts_on=today - timedelta(weeks=11),
        ends_on=today - timedelta(weeks=11) + timedelta(days=365), responsible_officer_id=worker.id), now=now)
    rar = orders.add_requirement(session, order, orders.RequirementDetails(kind="rehabilitation_activity", target=20),
                                 now=now)
    orders.add_requirement(session, order, orders.RequirementDetails(kind="unpaid_work", target=80), now=now)
    orders.add_requirement(session, order, orders.RequirementDetails(
        kind="non_association", named_person_ids=[not_to_meet.id]), now=now)
    first = datetime.combine(today - timedelta(weeks=10), time(11, 0))
    weekly: Appointment = appointments.create(session, worker, appointments.Details(
        person_id=person.id, kind="office", starts_local=first, duration_minutes=60, repeat="weekly",
        place="Northside office (demo)"), now=now)
    orders.make_enforceable(session, order, worker, appointment_id=weekly.id, requirement_id=rar.id,
                            told_how="in_person", told_on=first.date() - timedelta(days=3), now=now)
    for week in range(10):
        on = first + timedelta(weeks=week)
        outcome = HISTORY.get(week, "attended_complied")
        event = compliance.record_appointment_outcome(
            session, weekly, on, worker, outcome=outcome, reason=None,
            absence_reason="medical" if outcome == "acceptable_absence" else None,
            evidence_due_on=on.date() + timedelta(days=7) if outcome == "acceptable_absence" else None,
            now=now, zone=ZONE)
        if outcome == "acceptable_absence":
            compliance.record_evidence(session, order, event.id, worker, received_on=on.date() + timedelta(days=4),
                                       note="GP's fit note (demo)", now=now, zone=ZONE)
        if week == 5:
            given = (on + timedelta(days=1)).replace(tzinfo=ZONE)
            policy = compliance.policy_for(session, order.team_id, "court")
            compliance.give_warning(session, order, event.id, worker, now=given, zone=ZONE,
                                    letter=compliance.warning_letter(order, person, event, worker, policy, given.date()))
