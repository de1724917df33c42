"""The compliance record of an order: outcomes of enforceable appointments, evidence, warnings and
decisions (append-only events), the team's policy, the person's panel and the supervisor's list.
The rule itself is `compliance_rules.prompts` (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, select

from app.models import (Appointment, ComplianceEvent, CompliancePolicy, Order, Person,
                        Requirement, User)
from app.models.orders import DECISIONS
from app.services import ValidationError
from app.services import appointments as appointments_service
from app.services import compliance_rules as rules
from app.services import orders
from app.services.access import NotFound

DECISION_LABELS = {"breach": "Breach: back to court", "further_warning": "Further warning",
                   "no_action": "No action"}
LICENCE_DECISION_LABELS = {"breach": "Recall", "further_warning": "Further warning", "no_action": "No action"}
PROMPT_LABELS = {"warning": "Warning due", "breach_decision": "Breach decision due",
                 "evidence_overdue": "Evidence of the absence not received"}
LICENCE_PROMPT_LABELS = {**PROMPT_LABELS, "breach_decision": "Recall decision due"}


# ---- policy ----

def policy_for(session: Session, team_id: int, family: str) -> rules.Policy:
    """The newest policy the team set for this family of orders, or the default."""
    row = session.exec(select(CompliancePolicy).where(CompliancePolicy.team_id == team_id,
                                                      CompliancePolicy.family == family)
                       .order_by(CompliancePolicy.id.desc())).first()
    if row is None:
        return rules.DEFAULT_POLICIES[family]
    return rules.Policy(family, row.warnings_before_breach, row.window_months, row.decision_working_days)


def set_policy(session: Session, supervisor: User, family: str, numbers: dict[str, int | None], *,
               now: datetime) -> CompliancePolicy:
    """A supervisor changes the numbers (a new row: the old ones stay, for what was decided under them)."""
    if supervisor.role != "supervisor" or family not in rules.DEFAULT_POLICIES:
        raise NotFound
    errors = {}
    for name, (low, high) in rules.LIMITS.items():
        value = numbers.get(name)
        if value is None or not low <= value <= high:
            errors[name] = f"Choose a whole number from {low} to {high}."
    if errors:
        raise ValidationError(errors)
    row = CompliancePolicy(team_id=supervisor.team_id, family=family, set_by_id=supervisor.id, set_at=now,
                           **{name: numbers[name] for name in rules.LIMITS})
    session.add(row)
    session.flush()
    return row


# ---- events ----

def events_for(session: Session, order_ids: list[int]) -> dict[int, list[ComplianceEvent]]:
    found: dict[int, list[ComplianceEvent]] = {oid: [] for oid in order_ids}
    if order_ids:
        for event in session.exec(select(ComplianceEvent).where(ComplianceEvent.order_id.in_(order_ids))
                                  .order_by(ComplianceEvent.occurred_on, ComplianceEvent.id)).all():
            found[event.order_id].append(event)
    return found


def events_between(session: Session, person: Person, start: date, end: date) -> list[ComplianceEvent]:
    """The person's compliance events on days from `start` to `end` (a report's period): only those
    are loaded, however long the record."""
    return list(session.exec(select(ComplianceEvent).where(
        ComplianceEvent.person_id == person.id, ComplianceEvent.team_id == person.team_id,
        ComplianceEvent.occurred_on >= start, ComplianceEvent.occurred_on <= end)
        .order_by(ComplianceEvent.occurred_on, ComplianceEvent.id)).all())


TIMELINE_KINDS = ("warning", "decision", "evidence_chased", "evidence_received")


def timeline_events(session: Session, person: Person, *, before: datetime | None, limit: int) -> list[ComplianceEvent]:
    """A page of the person's warnings, decisions and evidence steps for their timeline, newest
    first (outcomes are on it already, as the appointments' own entries)."""
    query = (select(ComplianceEvent).where(ComplianceEvent.person_id == person.id,
                                           ComplianceEvent.team_id == person.team_id,
                                           ComplianceEvent.kind.in_(TIMELINE_KINDS))
             .order_by(ComplianceEvent.recorded_at.desc(), ComplianceEvent.id.desc()).limit(limit))
    if before is not None:
        query = query.where(ComplianceEvent.recorded_at <= before)
    return list(session.exec(query).all())


def event_of(session: Session, order: Order, event_id: int | None) -> ComplianceEvent:
    """One of this order's compliance events (another order's, or none: 404)."""
    event = session.get(ComplianceEvent, event_id) if event_id else None
    if event is None or event.order_id != order.id:
        raise NotFound
    return event


def _answer(session: Session, order: Order, by: User, kind: str, responds_to: ComplianceEvent, on: date,
            now: datetime, **values) -> ComplianceEvent:
    event = ComplianceEvent(team_id=order.team_id, person_id=order.person_id, order_id=order.id,
                            requirement_id=responds_to.requirement_id, kind=kind, occurred_on=on,
                            responds_to_id=responds_to.id, recorded_by_id=by.id, recorded_at=now, **values)
    session.add(event)
    session.flush()
    return event


def _open_prompt(session: Session, order: Order, event_id: int, kinds: set[str], today: date) -> rules.Prompt:
    policy = policy_for(session, order.team_id, rules.family_of(order.kind))
    for prompt in rules.prompts(events_for(session, [order.id])[order.id], policy, today):
        if prompt.event_id == event_id and prompt.kind in kinds:
            return prompt
    raise ValidationError({"": "That failure has been dealt with already."})


def give_warning(session: Session, order: Order, failure_id: int, by: User, *, letter: str | None, now: datetime,
                 zone: ZoneInfo) -> ComplianceEvent:
    """Record a warning given today for an unacceptable failure, with the letter as given."""
    failure = event_of(session, order, failure_id)
    today = orders.local_today(now, zone)
    # A failure already at a breach decision is the supervisor's (a further warning is one answer).
    _open_prompt(session, order, failure.id, {"warning"}, today)
    letter = (letter or "").strip()
    if not letter:
        raise ValidationError({"letter": "The letter cannot be empty."})
    return _answer(session, order, by, "warning", failure, today, now, letter=letter)


def record_decision(session: Session, order: Order, failure_id: int, by: User, *, decision: str,
                    reason: str | None, now: datetime, zone: ZoneInfo) -> ComplianceEvent:
    """A supervisor's decision on a failure the rule put on the board."""
    if by.role != "supervisor":
        raise NotFound
    failure = event_of(session, order, failure_id)
    _open_prompt(session, order, failure.id, {"breach_decision", "warning"}, orders.local_today(now, zone))
    errors = {}
    if decision not in DECISIONS:
        errors["decision"] = "Choose the decision."
    reason = (reason or "").strip() or None
    if decision in ("further_warning", "no_action") and not reason:
        errors["reason"] = "Say why (a further warning or no action needs a reason on the record)."
    if errors:
        raise ValidationError(errors)
    return _answer(session, order, by, "decision", failure, orders.local_today(now, zone), now, decision=decision,
                   reason=reason)


def _absence_day(session: Session, order: Order, absence_id: int, on: date | None, field: str, now: datetime,
                 zone: ZoneInfo, what: str) -> ComplianceEvent:
    """The acceptable absence evidence is about (any other event: 404), with the day checked."""
    absence = event_of(session, order, absence_id)
    if absence.outcome != "acceptable_absence":
        raise NotFound
    if on is None:
        raise ValidationError({field: f"Say when the evidence was {what}."})
    if on < absence.occurred_on:
        raise ValidationError({field: f"Evidence cannot be {what} before the absence it explains."})
    if on > orders.local_today(now, zone):
        raise ValidationError({field: "That day has not come yet."})
    return absence


def record_evidence(session: Session, order: Order, absence_id: int, by: User, *, received_on: date | None,
                    note: str | None, now: datetime, zone: ZoneInfo) -> ComplianceEvent:
    absence = _absence_day(session, order, absence_id, received_on, "received_on", now, zone, "received")
    return _answer(session, order, by, "evidence_received", absence, received_on, now, reason=(note or "").strip() or None)


def record_evidence_chased(session: Session, order: Order, absence_id: int, by: User, *, chased_on: date | None,
                           how: str | None, note: str | None, now: datetime, zone: ZoneInfo) -> ComplianceEvent:
    """The officer asked for an absence's evidence (when, how): for the record and the breach pack."""
    absence = _absence_day(session, order, absence_id, chased_on, "chased_on", now, zone, "chased")
    if how not in orders.TOLD_HOW:
        raise ValidationError({"how": "Say how it was chased."})
    return _answer(session, order, by, "evidence_chased", absence, chased_on, now, how=how,
                   reason=(note or "").strip() or None)


def evidence_lines(events: list[ComplianceEvent], absence: ComplianceEvent) -> list[str]:
    """What happened to an absence's evidence, in words: each chase, then its arrival."""
    lines = []
    for e in events:
        if e.responds_to_id == absence.id and e.kind == "evidence_chased":
            lines.append(f"chased {e.occurred_on:%-d %b %Y} {orders.TOLD_HOW[e.how].lower()}"
                         + (f" ({e.reason})" if e.reason else ""))
        elif e.responds_to_id == absence.id and e.kind == "evidence_received":
            lines.append(f"received {e.occurred_on:%-d %b %Y}" + (f" ({e.reason})" if e.reason else ""))
    return lines


def warning_letter(order: Order, person: Person, failure: ComplianceEvent, officer: User, policy: rules.Policy,
                   today: date) -> str:
    """The letter drafted from the record: what the failure was, that it is unacceptable, and what
    another one within the window means."""
    what = orders.OUTCOME_LABELS.get(failure.outcome or "", "failure").lower()
    when = f"{failure.occurred_local:%A %-d %B %Y at %H:%M}" if failure.occurred_local else f"{failure.occurred_on:%-d %B %Y}"
    consequence = ("you may be recalled to prison" if policy.family == "licence"
                   else "you will be taken back to court for breach of your order")
    return (f"Dear {person.name},\n\n"
            f"You are under a {orders.ORDER_LABELS[order.kind].lower()} made by {order.made_by} on "
            f"{order.starts_on:%-d %B %Y}. You were instructed to attend an appointment on {when}. "
            f"The record shows: {what}" + (f" ({failure.reason})" if failure.reason else "") + ".\n\n"
            "This is unacceptable, and this letter is a formal warning. "
            f"If you fail to comply again within {policy.window_months} months of this warning "
            f"(before {today + relativedelta(months=policy.window_months):%-d %B %Y}), {consequence}.\n\n"
            f"Warning given on {today:%-d %B %Y}.\n\n{officer.name}\nResponsible officer")


# ---- the panel ----

@dataclass
class Progress:
    requirement: Requirement
    label: str
    line: str  # e.g. "12 of 20 days completed, 8 more booked"


@dataclass
class OrderPanel:
    order: Order
    label: str
    active: bool
    family: str
    policy: rules.Policy
    requirements: list[Progress]
    kept: int
    acceptable: int
    unacceptable: int
    live_warnings: list[tuple[ComplianceEvent, date]]
    prompts: list[rules.Prompt]
    breaches: list[ComplianceEvent]
    evidence_due: list[ComplianceEvent]
    events: list[ComplianceEvent]
    tone: str
    status: str

    def failure_answered(self, event: ComplianceEvent) -> ComplianceEvent | None:
        """The failure a warning or decision was about, to name it beside them on the record."""
        if event.kind not in ("warning", "decision") or event.responds_to_id is None:
            return None
        return next((e for e in self.events if e.id == event.responds_to_id), None)


def _progress(requirement: Requirement, events: list[ComplianceEvent], booked_minutes: dict[int, list[int]]) -> str:
    unit = orders.TARGET_UNITS.get(requirement.kind)
    kept = [e for e in rules.effective_outcomes(events)
            if e.requirement_id == requirement.id and e.outcome in rules.KEPT]
    booked = booked_minutes.get(requirement.id, [])
    if unit == "days":
        return f"{len({e.occurred_on for e in kept})} of {requirement.target} days completed, {len(booked)} more booked"
    if unit == "hours":
        done = sum(e.minutes or 0 for e in kept) / 60
        return f"{done:g} of {requirement.target} hours completed, {sum(booked) / 60:g} more booked"
    if kept:
        return f"{len(kept)} sessions kept"
    return requirement.detail or "no sessions recorded yet"


def booked_by_requirement(session: Session, found: list[Order], now: datetime, zone: ZoneInfo) -> dict[int, list[int]]:
    """The minutes of each enforceable occurrence still to come under the orders' requirements, from
    now to each order's end: what is booked towards what is left (two queries for any number of
    orders). Past ones are outcomes, kept or not, and never count as booked."""
    links = orders.links_for(session, [o.id for o in found])
    if not links:
        return {}
    now_local = now.astimezone(zone).replace(tzinfo=None)
    spans = {o.id: (max(datetime.combine(o.starts_on, time.min), now_local),
                    datetime.combine(o.expected_end_on or o.ends_on, time.max)) for o in found}
    spans = {order_id: span for order_id, span in spans.items() if span[0] <= span[1]}
    if not spans:
        return {}
    start, end = min(s for s, _ in spans.values()), max(e for _, e in spans.values())
    by_appointment = {a.id: link for link, a in links}
    booked: dict[int, list[int]] = {}
    for occurrence in appointments_service.occurrences(session, [a for _, a in links], start, end, zone):
        link = by_appointment[occurrence.appointment.id]
        first, last = spans.get(link.order_id, (None, None))
        if link.requirement_id and not occurrence.cancelled and first and first <= occurrence.starts_local <= last:
            booked.setdefault(link.requirement_id, []).append(occurrence.appointment.duration_minutes)
    return booked


def panels(session: Session, person: Person, now: datetime, zone: ZoneInfo,
           found: list[Order] | None = None) -> list[OrderPanel]:
    """Each of the person's orders (`found`, when loaded already) as the compliance panel shows it:
    one query when there is none, and a fixed number however many orders, outcomes and
    instructions there are."""
    today = orders.local_today(now, zone)
    found = orders.orders_for(session, person) if found is None else found
    if not found:
        return []
    ids = [o.id for o in found]
    requirements, events = orders.requirements_for(session, ids), events_for(session, ids)
    policies = {family: policy_for(session, person.team_id, family)
                for family in {rules.family_of(o.kind) for o in found}}
    booked = booked_by_requirement(session, found, now, zone)
    year_ago = today - relativedelta(months=12)
    out = []
    for order in found:
        family = rules.family_of(order.kind)
        policy = policies[family]
        mine = events[order.id]
        recent = [e for e in rules.effective_outcomes(mine) if e.occurred_on > year_ago]
        prompts = rules.prompts(mine, policy, today)
        evidence_in = {e.responds_to_id for e in mine if e.kind == "evidence_received"}
        breaches = [e for e in mine if e.kind == "decision" and e.decision == "breach"]
        live = [(w, rules.expires_on(w, policy)) for w in rules.live_warnings(mine, policy, today)]
        tone, status = _status(prompts, breaches, live, family)
        out.append(OrderPanel(
            order=order, label=orders.ORDER_LABELS[order.kind], active=orders.is_active(order, today), family=family,
            policy=policy,
            requirements=[Progress(r, orders.REQUIREMENT_LABELS[r.kind], _progress(r, mine, booked))
                          for r in requirements[order.id]],
            kept=sum(e.outcome in rules.KEPT for e in recent),
            acceptable=sum(e.outcome == "acceptable_absence" for e in recent),
            unacceptable=sum(e.outcome in rules.FAILURES for e in recent),
            live_warnings=live, prompts=prompts, breaches=breaches,
            evidence_due=[e for e in rules.effective_outcomes(mine) if e.outcome == "acceptable_absence"
                          and e.evidence_due_on and e.id not in evidence_in],
            events=mine, tone=tone, status=status))
    return out


def _status(prompts, breaches, live, family) -> tuple[str, str]:
    action = "Recall" if family == "licence" else "Breach"
    if any(p.kind == "breach_decision" for p in prompts):
        return "danger", f"{action} decision due"
    if breaches:
        return "danger", f"{action} in progress"
    if any(p.kind == "warning" for p in prompts):
        return "warn", "Warning due"
    if prompts:
        return "warn", "Evidence overdue"
    if live:
        return "warn", "Complying, on a warning"
    return "ok", "Complying"


def prompt_label(prompt: rules.Prompt, family: str) -> str:
    return (LICENCE_PROMPT_LABELS if family == "licence" else PROMPT_LABELS)[prompt.kind]


def decision_labels(family: str) -> dict[str, str]:
    return LICENCE_DECISION_LABELS if family == "licence" else DECISION_LABELS


# ---- appointments as instructions ----

def record_appointment_outcome(session: Session, appointment: Appointment, original_local: datetime, by: User, *,
                               outcome: str, reason: str | None, absence_reason: str | None,
                               evidence_due_on: date | None, now: datetime, zone: ZoneInfo) -> ComplianceEvent:
    """An enforceable appointment's outcome: into the compliance record, and the appointment's own
    outcome (attended / did not attend) so the diary and Today read it as before."""
    link = orders.enforceable_link(session, appointment.id)
    if link is None:
        raise NotFound
    order = session.get(Order, link.order_id)
    found = [o for o in appointments_service.occurrences(session, [appointment], original_local - timedelta(days=62),
                                                         original_local + timedelta(days=62), zone)
             if o.original_local == original_local]
    if not found or found[0].cancelled:
        raise NotFound
    occurrence = found[0]
    event = orders.record_enforceable_outcome(
        session, order=order, source=orders.appointment_source(appointment.id, original_local),
        occurred_local=occurrence.starts_local, outcome=outcome, by=by, now=now, zone=zone,
        requirement_id=link.requirement_id, minutes=appointment.duration_minutes, reason=reason,
        absence_reason=absence_reason, evidence_due_on=evidence_due_on)
    appointments_service.record_outcome(session, appointment, original_local, by,
                                        outcome=orders.APPOINTMENT_OUTCOME[outcome], note=reason, now=now)
    return event
