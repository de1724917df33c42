"""What is watched beyond a person's page: the supervisor's compliance list (decisions due with
their clocks, warnings to give and expiring, evidence overdue), enforceable appointments without an
outcome, the emergency action card's note, and the worker's job that tells people."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.db import built_once
from app.models import Appointment, EnforceableAppointment, Order, Person, User
from app.services import appointments as appointments_service
from app.services import compliance_rules as rules
from app.services import orders
from app.services.compliance import events_for, policy_for, prompt_label
from app.services.delivery import Message
from app.services.periodic import Periodic


def outcomes_not_recorded(session: Session, now: datetime, zone: ZoneInfo, *, team_id: int,
                          worker_id: int | None = None) -> list[appointments_service.Occurrence]:
    """Enforceable occurrences still without an outcome 2 working days after they were due."""
    today = orders.local_today(now, zone)
    appointments = list(session.exec(_enforceable(worker_id is not None),
                                     params={"team_id": team_id, "worker_id": worker_id}).all())
    start = datetime.combine(today - timedelta(days=62), time.min)
    end = datetime.combine(today, time.min)
    return [o for o in appointments_service.occurrences(session, appointments, start, end, zone)
            if not o.cancelled and not o.outcome and rules.outcome_overdue(o.starts_local.date(), today)]


@built_once
def _enforceable(one_worker: bool):
    query = (select(Appointment)
             .join(EnforceableAppointment, Appointment.id == EnforceableAppointment.appointment_id)
             .where(Appointment.team_id == bindparam("team_id"), Appointment.cancelled_at.is_(None)))
    return query.where(Appointment.worker_id == bindparam("worker_id")) if one_worker else query


# ---- the supervisor's list ----

@dataclass
class BoardLine:
    order: Order
    person: Person
    kind: str  # breach_decision / warning / evidence_overdue / warning_expiring
    label: str
    occurred_on: date
    due_on: date | None
    event_id: int | None
    clock: str | None = None  # "4 working days left", for a decision due


def team_board(session: Session, team_id: int, now: datetime, zone: ZoneInfo) -> list[BoardLine]:
    """Breach decisions due (with the clock), warnings to give, evidence overdue and warnings
    expiring in the next 30 days, across the team: the soonest clock first."""
    today = orders.local_today(now, zone)
    team_orders = list(session.exec(select(Order).where(Order.team_id == team_id)).all())
    team_orders = [o for o in team_orders if orders.is_active(o, today)]
    events = events_for(session, [o.id for o in team_orders])
    people = {p.id: p for p in session.exec(select(Person).where(
        Person.id.in_({o.person_id for o in team_orders}))).all()} if team_orders else {}
    lines = []
    for order in team_orders:
        family = rules.family_of(order.kind)
        policy = policy_for(session, team_id, family)
        for prompt in rules.prompts(events[order.id], policy, today):
            lines.append(BoardLine(order, people[order.person_id], prompt.kind, prompt_label(prompt, family),
                                   prompt.occurred_on, prompt.due_on, prompt.event_id,
                                   rules.clock_words(today, prompt.due_on)
                                   if prompt.kind == "breach_decision" else None))
        for warning in rules.live_warnings(events[order.id], policy, today):
            expiry = rules.expires_on(warning, policy)
            if expiry <= today + timedelta(days=30):
                lines.append(BoardLine(order, people[order.person_id], "warning_expiring", "Warning expiring",
                                       warning.occurred_on, expiry, warning.id))
    return sorted(lines, key=lambda line: (line.kind != "breach_decision", line.due_on or date.max, line.occurred_on))


def emergency_notes(session: Session, person_id: int, now: datetime, zone: ZoneInfo) -> list[str]:
    """What a responder reading the emergency action card should know of the person's active
    orders: people they must not meet (either way: named in their order, or naming them in their
    own), zones, curfews (names of caseload people included, since the card is read by the
    supervisor responding)."""
    today = orders.local_today(now, zone)
    found = [o for o in session.exec(select(Order).where(Order.person_id == person_id)).all() if orders.is_active(o, today)]
    requirements = orders.requirements_for(session, [o.id for o in found])
    wanted = [r for rs in requirements.values() for r in rs if r.kind in ("non_association", "exclusion_zone", "curfew")]
    ids = orders.non_associated_person_ids(session, person_id, now, zone)
    names = sorted(p.name for p in session.exec(select(Person).where(Person.id.in_(ids))).all()) if ids else []
    names += [r.named_others for r in wanted if r.kind == "non_association" and r.named_others]
    notes = ["Must not meet: " + ", ".join(names)] if names else []
    notes += [f"{orders.REQUIREMENT_LABELS[r.kind]}: {r.detail}" for r in wanted if r.kind != "non_association"]
    return notes


# ---- the worker's job ----

def due_notices(session: Session, now: datetime, zone: ZoneInfo) -> list[tuple[Message, User]]:
    """What the record asks people to act on: each breach (or recall) decision due goes to the
    team's supervisors, each overdue piece of evidence to the order's responsible officer. No
    names: the app shows who once the phone is unlocked; the event reference makes each go once."""
    teams = set(session.exec(select(Order.team_id).distinct()).all())
    notices = []
    for team_id in teams:
        supervisors = [u for u in session.exec(select(User).where(User.team_id == team_id, User.role == "supervisor",
                                                                  User.active)).all()]
        for line in team_board(session, team_id, now, zone):
            if line.kind == "breach_decision":
                action = "recall" if rules.family_of(line.order.kind) == "licence" else "breach"
                message = Message(kind="reminder", event_ref=f"compliance:decision:{line.event_id}",
                                  title=f"A {action} decision is due by {line.due_on:%-d %b}",
                                  body="Open Fieldline's compliance list for the details.",
                                  url="/team/compliance", topic=f"compliance-{line.order.id}")
                notices += [(message, supervisor) for supervisor in supervisors]
            elif line.kind == "evidence_overdue":
                officer = session.get(User, line.order.responsible_officer_id)
                if officer is not None and officer.active:
                    notices.append((Message(kind="reminder", event_ref=f"compliance:evidence:{line.event_id}",
                                            title="Evidence for an absence has not arrived",
                                            body="Chase it, or record the absence as unacceptable.",
                                            url=f"/orders/{line.order.id}", topic=f"compliance-{line.order.id}"),
                                    officer))
    return notices


class ComplianceJob(Periodic):
    """Worker job: tell supervisors of breach decisions due and officers of evidence overdue, from
    the record as it stands (an outcome sent offline is judged on its own date when it arrives)."""

    def __init__(self, zone: ZoneInfo, every: timedelta = timedelta(seconds=30)):
        super().__init__(every)
        self.zone = zone

    def __call__(self, engine, now: datetime) -> None:
        if not self.due(now):
            return
        from app.db import unit_of_work
        from app.services import delivery

        with unit_of_work(engine) as session:
            for message, recipient in due_notices(session, now, self.zone):
                delivery.enqueue(session, message, recipient, now=now)
