"""The team's casework figures for a period: caseload, contact, appointments (with orders' absences),
referrals, plans and outcomes. Definitions are in the README ("Team figures").

Every countable figure is the list of records behind it (`Behind`: a person and a line saying
what), and the number shown counts the same rows by the same rule (one predicate, such as
`_counts_as` or `_in_time`, for the count and the list; the count skips wording each record, and
appointments are counted in the database grouped by what the rule reads): the page links each
number to its list, so a figure reconciles to its records by construction. services/figures_behind.py
finds that list by a figure's key ("new", "seen.high", "sent.housing", ...), for the page's link and
the tests.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.models import (Appointment, AppointmentOccurrence, ComplianceEvent, Contact, Person, Plan, PlanVersion,
                        Referral, ReferralEvent, User)
from app.services import outcomes, people
from app.services.figure_parts import Period, Table
from app.services.referrals import ROUTE_TEMPLATES

ANSWERS = ("acknowledged", "accepted", "declined")  # the service answered
CANCELLED = ("cancelled_by_person", "cancelled_by_us")


@dataclass(frozen=True)
class Scope:
    team_id: int
    worker_id: int | None = None  # a worker's own figures: the people they hold, their appointments


@dataclass(frozen=True)
class Behind:
    person_id: int | None  # None: a visit or alert that names nobody on the caseload
    name: str
    what: str


def _in(column, period: Period):
    return (column >= period.starts_at) & (column < period.ends_at)


def _held(query, scope: Scope):
    query = query.where(Person.team_id == scope.team_id)
    return query.where(Person.key_worker_id == scope.worker_id) if scope.worker_id else query


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%-d %b %Y}"


# ---- caseload ----

def new_people(session: Session, scope: Scope, period: Period, zone: ZoneInfo) -> list[Behind]:
    rows = session.exec(_held(select(Person.id, Person.name, Person.created_at), scope)
                        .where(_in(Person.created_at, period)).order_by(Person.created_at)).all()
    return [Behind(pid, name, f"Added {_day(at, zone)}") for pid, name, at in rows]


def closed_people(session: Session, scope: Scope, period: Period, zone: ZoneInfo) -> list[Behind]:
    rows = session.exec(_held(select(Person.id, Person.name, Person.closed_at), scope)
                        .where(Person.status == "closed", _in(Person.closed_at, period))
                        .order_by(Person.closed_at)).all()
    return [Behind(pid, name, f"Closed {_day(at, zone)}") for pid, name, at in rows]


def open_people(session: Session, scope: Scope) -> list[tuple[int, str, str, int | None]]:
    """(id, name, risk level, key worker) of the open cases now."""
    return list(session.exec(_held(select(Person.id, Person.name, Person.risk_level, Person.key_worker_id), scope)
                             .where(Person.status == "open").order_by(Person.name)).all())


def caseload_table(session: Session, scope: Scope, period: Period, before: Period, zone: ZoneInfo) -> Table:
    now_open = open_people(session, scope)
    rows = [["New people", *(len(new_people(session, scope, p, zone)) for p in (period, before))],
            ["Closed", len(closed_people(session, scope, period, zone)),
             len(closed_people(session, scope, before, zone))]]
    links: list[str | None] = ["new", "closed"]
    for level, label in people.RISK_LABELS.items():
        rows.append([f"Open now: {label} risk", sum(1 for p in now_open if p[2] == level), ""])
        links.append(f"open.{level}")
    return Table("caseload", "Caseload", ["Figure", period.label, before.label], rows,
                 f"{rows[0][1]} new and {rows[1][1]} closed in {period.label}; {len(now_open)} open now.", links)


def by_worker_table(session: Session, scope: Scope, period: Period, zone: ZoneInfo) -> Table:
    """Open now, new and closed in the period, by key worker (the worker holding them now)."""
    workers = session.exec(select(User.id, User.name).where(User.team_id == scope.team_id, User.active,
                                                            User.role.in_(("worker", "supervisor")))
                           .order_by(User.name)).all()
    held = {pid: worker for pid, _, _, worker in open_people(session, scope)}
    worker_of = dict(session.exec(select(Person.id, Person.key_worker_id).where(Person.team_id == scope.team_id)).all())
    new = [worker_of.get(b.person_id) for b in new_people(session, scope, period, zone)]
    closed = [worker_of.get(b.person_id) for b in closed_people(session, scope, period, zone)]
    rows = [[name, sum(1 for w in held.values() if w == wid), new.count(wid), closed.count(wid)]
            for wid, name in workers]
    return Table("by_worker", "Caseload by worker", ["Worker", "Open now", f"New in {period.label}",
                                                     f"Closed in {period.label}"], rows,
                 f"{len(held)} open cases held by {sum(1 for r in rows if r[1])} of {len(rows)} workers now.",
                 [f"held.{wid}" for wid, _ in workers])


# ---- contact ----

def contact_state(session: Session, scope: Scope, period: Period, now: datetime):
    """At the period's end (or now, if sooner): each open case added by then, with its last contact
    before that moment. Returns (moment, [(id, name, risk, last contact or None)])."""
    moment = min(period.ends_at, now)
    # Each person's latest by their own index, newest first (not a team's two years grouped).
    last = (select(Contact.happened_at).where(Contact.person_id == Person.id, Contact.deleted_at.is_(None),
                                              Contact.happened_at < moment)
            .order_by(Contact.happened_at.desc()).limit(1).correlate(Person).scalar_subquery())
    rows = session.exec(_held(select(Person.id, Person.name, Person.risk_level, last), scope)
                        .where(Person.status == "open", Person.created_at < moment).order_by(Person.name)).all()
    return moment, list(rows)


def _seen(moment, risk, last) -> bool:
    return last is not None and moment - _aware(last) <= people.CONTACT_INTERVAL[risk]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def seen(session, scope, period, zone, now, level: str, *, within: bool) -> list[Behind]:
    moment, rows = contact_state(session, scope, period, now)
    return [Behind(pid, name, f"Last contact {_day(_aware(last), zone)}" if last else "No contact yet")
            for pid, name, risk, last in rows if risk == level and _seen(moment, risk, last) == within]


def contact_table(session: Session, scope: Scope, period: Period, before: Period, now: datetime) -> Table:
    states = [contact_state(session, scope, p, now) for p in (period, before)]
    rows, links = [], []
    for level, label in people.RISK_LABELS.items():
        days = people.CONTACT_INTERVAL[level].days
        rows.append([f"{label} risk: seen within {days} days"]
                    + [f"{sum(1 for r in found if r[2] == level and _seen(at, r[2], r[3]))} of "
                       f"{sum(1 for r in found if r[2] == level)}" for at, found in states])
        links.append(f"seen.{level}")
        rows.append([f"{label} risk: not seen within {days} days"]
                    + [sum(1 for r in found if r[2] == level and not _seen(at, r[2], r[3])) for at, found in states])
        links.append(f"unseen.{level}")
    for level, label in people.RISK_LABELS.items():
        medians = []
        for at, found in states:
            waits = [(at - _aware(r[3])).days for r in found if r[2] == level and r[3] is not None]
            medians.append(f"{statistics.median(waits):g}" if waits else "none")
        rows.append([f"{label} risk: median days since last contact", *medians])
        links.append(None)
    overdue = sum(row[1] for row in rows[1:8:2])
    return Table("contact", "Contact", ["Figure", period.label, before.label], rows,
                 f"{overdue} open case{'s' if overdue != 1 else ''} not seen within their risk's expected interval "
                 f"at the end of {period.label}.", links)


# ---- appointments ----

def _occurrence_rows(session: Session, scope: Scope, period: Period):
    """The occurrences with something recorded (an outcome, a cancellation) whose start, as moved,
    falls in the period (wall-clock time, as appointments are kept)."""
    start = func.coalesce(AppointmentOccurrence.starts_local, AppointmentOccurrence.original_local)
    low, high = period.local_bounds
    query = (select(Appointment.person_id, Person.name, start, AppointmentOccurrence.outcome,
                    AppointmentOccurrence.cancelled)
             .join(Appointment, Appointment.id == AppointmentOccurrence.appointment_id)
             .join(Person, Person.id == Appointment.person_id)
             .where(Appointment.team_id == scope.team_id, start >= low, start < high).order_by(start))
    if scope.worker_id:
        query = query.where(Appointment.worker_id == scope.worker_id)
    return session.exec(query).all()


def _counts_as(kind: str, outcome: str | None, cancelled) -> bool:
    """Whether an occurrence with this outcome counts as kept / dna / cancelled: the one rule for
    the figure and for its list."""
    if kind == "cancelled":
        return bool(cancelled) or outcome in CANCELLED
    return not cancelled and outcome == {"kept": "attended", "dna": "did_not_attend"}[kind]


def appointments(session, scope, period, kind: str) -> list[Behind]:
    """kind: kept / dna / cancelled."""
    return [Behind(pid, name, f"Appointment {when:%-d %b %Y, %H:%M}")
            for pid, name, when, outcome, cancelled in _occurrence_rows(session, scope, period)
            if _counts_as(kind, outcome, cancelled)]


def _occurrence_counts(session: Session, scope: Scope, periods: list[Period]) -> list[dict[str, int]]:
    """For each period, how many occurrences count as kept / dna / cancelled: the rows
    `_occurrence_rows` reads, counted in the database by (outcome, cancelled) in one query, and
    each group judged by the same rule as the list."""
    start = func.coalesce(AppointmentOccurrence.starts_local, AppointmentOccurrence.original_local)
    which = case(*[(and_(start >= p.local_bounds[0], start < p.local_bounds[1]), i) for i, p in enumerate(periods)],
                 else_=-1).label("p")
    query = (select(which, AppointmentOccurrence.outcome, AppointmentOccurrence.cancelled)
             .join(Appointment, Appointment.id == AppointmentOccurrence.appointment_id)
             .join(Person, Person.id == Appointment.person_id)
             .where(Appointment.team_id == scope.team_id, start >= min(p.local_bounds[0] for p in periods),
                    start < max(p.local_bounds[1] for p in periods)))
    if scope.worker_id:
        query = query.where(Appointment.worker_id == scope.worker_id)
    rows = query.subquery()  # grouped outside, by name (PostgreSQL would not match the CASE twice)
    found = [dict.fromkeys(("kept", "dna", "cancelled"), 0) for _ in periods]
    for index, outcome, cancelled, count in session.execute(
            select(rows.c.p, rows.c.outcome, rows.c.cancelled, func.count())
            .group_by(rows.c.p, rows.c.outcome, rows.c.cancelled)).all():
        if index >= 0:
            for kind in found[index]:
                found[index][kind] += count if _counts_as(kind, outcome, cancelled) else 0
    return found


def absences(session, scope, period, outcome: str, rows=None) -> list[Behind]:
    """Enforceable appointments under orders, as their outcome stands (the latest correction)."""
    standing = rows if rows is not None else _standing_outcomes(session, scope, period)
    return [Behind(pid, name, f"Absence on {on:%-d %b %Y}") for found, on, pid, name in standing if found == outcome]


def _standing_outcomes(session, scope, period) -> list:
    rows = session.exec(_held(select(ComplianceEvent.order_id, ComplianceEvent.source, ComplianceEvent.id,
                                     ComplianceEvent.outcome, ComplianceEvent.occurred_on, Person.id, Person.name),
                              scope).join(Person, Person.id == ComplianceEvent.person_id)
                        .where(ComplianceEvent.team_id == scope.team_id,
                               ComplianceEvent.kind.in_(("outcome", "correction")),
                               ComplianceEvent.occurred_on >= period.first_day,
                               ComplianceEvent.occurred_on < period.after).order_by(ComplianceEvent.id)).all()
    standing = {}
    for order_id, source, event_id, found, on, pid, name in rows:
        standing[(order_id, source or event_id)] = (found, on, pid, name)
    return list(standing.values())


def appointments_table(session: Session, scope: Scope, period: Period, before: Period) -> Table:
    figures = [("Kept (attended)", "kept"), ("Did not attend", "dna"), ("Cancelled", "cancelled")]
    counted = _occurrence_counts(session, scope, [period, before])
    rows = [[label, *(found[key] for found in counted)] for label, key in figures]
    standing = {p: _standing_outcomes(session, scope, p) for p in (period, before)}
    for label, outcome, key in (("Orders: acceptable absences", "acceptable_absence", "acceptable"),
                                ("Orders: unacceptable absences", "unacceptable_absence", "unacceptable")):
        rows.append([label, *(len(absences(session, scope, p, outcome, standing[p])) for p in (period, before))])
        figures.append((label, key))
    return Table("appointments", "Appointments", ["Figure", period.label, before.label], rows,
                 f"{rows[0][1]} kept, {rows[1][1]} did not attend and {rows[2][1]} cancelled in {period.label}.",
                 [key for _, key in figures])


# ---- referrals ----

def _in_time(route: str, sent_at, answered_at) -> bool:
    """Answered (acknowledged, accepted or declined) within the route's follow-up time."""
    return answered_at is not None and _aware(answered_at) - _aware(sent_at) <= ROUTE_TEMPLATES[route].follow_up_after


def _sent_rows(rows, route: str | None, answered_only: bool) -> list:
    """The referral rows a figure counts (by route, when given; answered within the route's time,
    when asked): the one rule for the figure and for its list."""
    return [row for row in rows if route in (None, row[2]) and (not answered_only or _in_time(*row[2:]))]


def referrals_sent(session, scope, period, zone, route: str | None = None, *, answered_only: bool = False
                   ) -> list[Behind]:
    """Sent in the period (by route, when given; answered within the route's time, when asked)."""
    return [Behind(pid, name, f"{ROUTE_TEMPLATES[kind].label}, sent {_day(_aware(sent_at), zone)}")
            for pid, name, kind, sent_at, _ in _sent_rows(_referral_rows(session, scope, period), route, answered_only)]


def _referral_rows(session, scope, period) -> list:
    answered = (select(ReferralEvent.referral_id, func.min(ReferralEvent.at).label("at"))
                .join(Referral, Referral.id == ReferralEvent.referral_id)
                .where(Referral.team_id == scope.team_id, _in(Referral.sent_at, period),
                       ReferralEvent.status.in_(ANSWERS)).group_by(ReferralEvent.referral_id).subquery())
    query = (select(Referral.person_id, Person.name, Referral.route, Referral.sent_at, answered.c.at)
             .join(Person, Person.id == Referral.person_id).outerjoin(answered, answered.c.referral_id == Referral.id)
             .where(Referral.team_id == scope.team_id, _in(Referral.sent_at, period)).order_by(Referral.sent_at))
    if scope.worker_id:
        query = query.where(Referral.author_id == scope.worker_id)
    return list(session.exec(query).all())


def referrals_table(session: Session, scope: Scope, period: Period, before: Period, zone: ZoneInfo) -> Table:
    read = [_referral_rows(session, scope, p) for p in (period, before)]
    # `_sent_rows`' rule, counted in one pass over each period's rows.
    by_route = [Counter(row[2] for row in found) for found in read]
    rows = [[f"Sent: {route.label}", *(counted[key] for counted in by_route)] for key, route in ROUTE_TEMPLATES.items()]
    links = [f"sent.{key}" for key in ROUTE_TEMPLATES]
    rows.append(["Sent in all", sum(r[1] for r in rows), sum(r[2] for r in rows)])
    rows.append(["Answered within the route's expected time",
                 *(sum(1 for row in found if _in_time(*row[2:])) for found in read)])
    links += ["sent", "answered"]
    return Table("referrals", "Referrals", ["Figure", period.label, before.label], rows,
                 f"{rows[-2][1]} referrals sent in {period.label}, {rows[-1][1]} answered within the expected time.",
                 links)


# ---- plans and outcomes ----

def _on_time(made_at, due, zone: ZoneInfo) -> bool:
    """A review made on or before the day it was due (as the version before it had it)."""
    return due is not None and _aware(made_at).astimezone(zone).date().isoformat() <= due


def plan_reviews(session, scope, period, zone, *, on_time_only: bool = False) -> list[Behind]:
    """Reviews made in the period; on time when made on or before the date the review was due (as
    the version before it had it)."""
    found = []
    for made_at, due, pid, name in _review_rows(session, scope, period):
        on_time = _on_time(made_at, due, zone)
        if on_time or not on_time_only:
            found.append(Behind(pid, name, f"Reviewed {_day(_aware(made_at), zone)}" + ("" if on_time else " (late)")))
    return found


def _review_rows(session, scope, period):
    prior = aliased(PlanVersion)
    # Only the date out of the version before (its snapshot is the whole plan as it then stood).
    due = prior.snapshot["review_due_on"].as_string()
    rows = session.exec(_held(select(PlanVersion.made_at, due, Person.id, Person.name), scope)
                        .join(Plan, Plan.id == PlanVersion.plan_id).join(Person, Person.id == Plan.person_id)
                        .outerjoin(prior, (prior.plan_id == PlanVersion.plan_id)
                                   & (prior.number == PlanVersion.number - 1))
                        .where(PlanVersion.team_id == scope.team_id, PlanVersion.kind == "review",
                               _in(PlanVersion.made_at, period)).order_by(PlanVersion.made_at)).all()
    return list(rows)


def improvement(session, scope, period) -> list:
    return outcomes.instrument_figures(session, scope.team_id, period.starts_at, period.ends_at)


def improved(session, scope, period, instrument: str) -> list[Behind]:
    found = next((f for f in improvement(session, scope, period) if f.key == instrument), None)
    if found is None:
        return []
    names = dict(session.exec(select(Person.id, Person.name).where(Person.id.in_(found.improved_people))).all())
    return [Behind(pid, names[pid], f"{found.name}: reliable improvement") for pid in found.improved_people]


def plans_table(session: Session, scope: Scope, period: Period, before: Period, zone: ZoneInfo) -> Table:
    read = {p: _review_rows(session, scope, p) for p in (period, before)}
    rows = [["Plan reviews", *(len(read[p]) for p in (period, before))],
            ["Reviewed on time", *(sum(1 for made_at, due, _, _ in read[p] if _on_time(made_at, due, zone))
                                   for p in (period, before))]]
    links = ["reviews", "reviews_on_time"]
    for now_of, then_of in zip(improvement(session, scope, period), improvement(session, scope, before)):
        rows.append([f"{now_of.name}: reliable improvement", f"{now_of.improved} of {now_of.people}",
                     f"{then_of.improved} of {then_of.people}"])
        links.append(f"improved.{now_of.key}")
    return Table("plans", "Plans and outcomes", ["Figure", period.label, before.label], rows,
                 f"{rows[1][1]} of {rows[0][1]} plan reviews in {period.label} were on time.", links)
