"""Retention: what is deleted when, by one path. The schedule per kind of record (admins may change
it), a legal hold on a person that stops everything, the daily job, and erasure on request.

Append-only tables refuse every change except inside this path's transaction, which first writes
a row to `retention_pass` (see app/migrations/append_only.py). What goes is counted into
`retained_count` (team, month, kind) so team figures for past months stay right, and the audit
says what kind, how many and when — never the content.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.models import (Alert, Allocation, Appointment, AppointmentOccurrence, Attendance, CaseEvent, ComplianceEvent,
                        Contact, ContactAddendum, ContactVersion, Delivery, EnforceableAppointment, Enrolment,
                        EvidencePack, GoalNote, IdempotencyRecord, KeepApart, MeasureResponse, Order, Person, Photo,
                        Plan, PlanAgreement, PlanGoal, PlanStep, PlanVersion, Referral, ReferralEvent, Requirement,
                        RequirementPerson, RiskChange, SafetyEvent, User, Visit)
from app.models.records import RetainedCount, RetainedPlan, RetentionPass, RetentionRule, SubjectAccessRequest
from app.models.reports import Report, ReportReview, ReportVersion
from app.services import ValidationError
from app.services import audit
from app.services.housekeeping import ThreadedJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    label: str
    default_days: int
    counted_from: str


KINDS = {
    "closed_cases": Kind("Closed cases (the whole record, photos with their contacts)", 6 * 365 + 2,
                         "after the case was closed"),
    "visit_locations": Kind("Location points of visits", 30, "after the visit ended, unless an alert was raised"),
    "delivery_logs": Kind("Delivery logs (messages sent, failed or cancelled)", 90, "after the message was made"),
}
FINISHED_DELIVERIES = ("sent", "failed", "cancelled", "skipped")
RETAINED_KINDS = ("contacts", "referrals", "orders", "compliance_events")  # kept as numbers per month


def schedule(session: Session) -> dict[str, int]:
    """Days kept per kind: the admins' choice where made, else the default."""
    chosen = {r.kind: r.keep_days for r in session.exec(select(RetentionRule))}
    return {kind: chosen.get(kind, spec.default_days) for kind, spec in KINDS.items()}


def set_rule(session: Session, admin: User, kind: str, days: int | None, *, now: datetime) -> None:
    if kind not in KINDS:
        raise ValidationError({kind: "Not a kind of record."})
    if days is None or not 1 <= days <= 36500:
        raise ValidationError({kind: "Enter a number of days from 1 to 36500."})
    rule = session.exec(select(RetentionRule).where(RetentionRule.kind == kind)).first() or RetentionRule(
        kind=kind, keep_days=days)
    rule.keep_days, rule.updated_by_id, rule.updated_at = days, admin.id, now
    session.add(rule)
    audit.record(session, "retention.rule", now=now, actor_id=admin.id, record_type="retention", record_id=kind,
                 detail=f"{days} days")


def set_legal_hold(session: Session, person: Person, admin: User, hold: bool, reason: str, *, now: datetime) -> None:
    if hold and not reason.strip():
        raise ValidationError({"reason": "Say why the record is on legal hold."})
    person.legal_hold, person.legal_hold_reason = hold, reason.strip()[:500] if hold else None
    session.add(person)
    audit.record(session, "person.legal_hold", now=now, actor_id=admin.id, record_type="person", record_id=person.id,
                 detail="on" if hold else "off")


# ---- the one path that deletes ----

def _open_pass(session: Session) -> RetentionPass:
    if session.get_bind().dialect.name == "postgresql":
        # One retention transaction at a time (several workers may run the job).
        session.execute(text("SELECT pg_advisory_xact_lock(727275)"))
    opened = RetentionPass()
    session.add(opened)
    session.flush()
    return opened


def _close_pass(session: Session, opened: RetentionPass) -> None:
    session.delete(opened)
    session.flush()


def _month(moment: datetime) -> date:
    return moment.date().replace(day=1)


def _keep_counts(session: Session, team_id: int, kind: str, moments: list[datetime]) -> None:
    for month, count in Counter(_month(m) for m in moments).items():
        row = session.exec(select(RetainedCount).where(RetainedCount.team_id == team_id, RetainedCount.month == month,
                                                       RetainedCount.kind == kind)).first()
        row = row or RetainedCount(team_id=team_id, month=month, kind=kind, count=0)
        row.count += count
        session.add(row)


def _plans_and_orders(session: Session, person: Person, contact_ids: list[int],
                      appointment_ids: list[int]) -> list:
    """The statements that remove a person's plans (kept as anonymised RetainedPlan rows), orders
    and compliance record (kept as counts), allocations and group places, children first."""
    pid = person.id
    plans = list(session.exec(select(Plan).where(Plan.person_id == pid)))
    plan_ids = [p.id for p in plans] or [-1]
    outcomes = Counter(session.exec(select(PlanGoal.plan_id, PlanGoal.outcome).where(
        PlanGoal.plan_id.in_(plan_ids), PlanGoal.outcome.is_not(None))).all())
    for plan in plans:
        session.add(RetainedPlan(team_id=plan.team_id, opened_at=plan.created_at, closed_at=plan.closed_at,
                                 goals_achieved=outcomes[(plan.id, "achieved")],
                                 goals_partly=outcomes[(plan.id, "partly")],
                                 goals_not_achieved=outcomes[(plan.id, "not_achieved")]))
    order_ids = list(session.exec(select(Order.id).where(Order.person_id == pid))) or [-1]
    _keep_counts(session, person.team_id, "orders",
                 list(session.exec(select(Order.created_at).where(Order.person_id == pid))))
    _keep_counts(session, person.team_id, "compliance_events", list(session.exec(
        select(ComplianceEvent.recorded_at).where(ComplianceEvent.order_id.in_(order_ids)))))
    requirement_ids = select(Requirement.id).where(Requirement.order_id.in_(order_ids))
    return [
        delete(GoalNote).where(or_(GoalNote.plan_id.in_(plan_ids), GoalNote.contact_id.in_(contact_ids))),
        delete(PlanAgreement).where(PlanAgreement.plan_id.in_(plan_ids)),
        delete(PlanVersion).where(PlanVersion.plan_id.in_(plan_ids)),
        delete(PlanStep).where(PlanStep.plan_id.in_(plan_ids)),
        delete(PlanGoal).where(PlanGoal.plan_id.in_(plan_ids)),
        delete(Plan).where(Plan.person_id == pid),
        update(ComplianceEvent).where(ComplianceEvent.order_id.in_(order_ids)).values(responds_to_id=None),
        delete(ComplianceEvent).where(ComplianceEvent.order_id.in_(order_ids)),
        delete(EvidencePack).where(EvidencePack.order_id.in_(order_ids)),
        delete(EnforceableAppointment).where(or_(EnforceableAppointment.order_id.in_(order_ids),
                                                 EnforceableAppointment.appointment_id.in_(appointment_ids))),
        # Named in someone else's non-association requirement: the link goes, their order stays.
        delete(RequirementPerson).where(or_(RequirementPerson.requirement_id.in_(requirement_ids),
                                            RequirementPerson.person_id == pid)),
        delete(Requirement).where(Requirement.order_id.in_(order_ids)),
        delete(Order).where(Order.person_id == pid),
        delete(Allocation).where(Allocation.person_id == pid),
        delete(Attendance).where(Attendance.person_id == pid),
        delete(Enrolment).where(Enrolment.person_id == pid),
        delete(KeepApart).where(or_(KeepApart.person_id == pid, KeepApart.other_person_id == pid)),
    ]


def _delete_person(session: Session, person: Person) -> list[str]:
    """Everything about one person, children first. Answers the photo files to remove after commit."""
    pid = person.id
    contacts = list(session.exec(select(Contact).where(Contact.person_id == pid)))
    contact_ids = [c.id for c in contacts] or [-1]
    photos = list(session.exec(select(Photo).where(Photo.contact_id.in_(contact_ids))))
    files = [name for p in photos for name in (p.stored_as, p.thumb_stored_as)]
    _keep_counts(session, person.team_id, "contacts", [c.happened_at for c in contacts if c.deleted_at is None])
    referrals = list(session.exec(select(Referral).where(Referral.person_id == pid)))
    referral_ids = [r.id for r in referrals] or [-1]
    _keep_counts(session, person.team_id, "referrals", [r.created_at for r in referrals])
    report_ids = list(session.exec(select(Report.id).where(Report.person_id == pid))) or [-1]
    appointment_ids = list(session.exec(select(Appointment.id).where(Appointment.person_id == pid))) or [-1]
    for statement in (
        *_plans_and_orders(session, person, contact_ids, appointment_ids),
        delete(Photo).where(Photo.contact_id.in_(contact_ids)),
        delete(ContactAddendum).where(ContactAddendum.contact_id.in_(contact_ids)),
        delete(ContactVersion).where(ContactVersion.contact_id.in_(contact_ids)),
        delete(Contact).where(Contact.person_id == pid),
        delete(RiskChange).where(RiskChange.person_id == pid),
        delete(CaseEvent).where(CaseEvent.person_id == pid),
        delete(AppointmentOccurrence).where(AppointmentOccurrence.appointment_id.in_(appointment_ids)),
        delete(Appointment).where(Appointment.person_id == pid),
        delete(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids)),
        delete(Referral).where(Referral.person_id == pid),
        update(MeasureResponse).where(MeasureResponse.person_id == pid).values(supersedes_id=None),
        delete(MeasureResponse).where(MeasureResponse.person_id == pid),
        delete(ReportReview).where(ReportReview.report_id.in_(report_ids)),
        delete(ReportVersion).where(ReportVersion.report_id.in_(report_ids)),
        delete(Report).where(Report.person_id == pid),
        delete(SubjectAccessRequest).where(SubjectAccessRequest.person_id == pid),
        # The visit stays (it is the worker's safety record) but no longer says whom it was with.
        update(Visit).where(Visit.person_id == pid).values(person_id=None),
    ):
        session.execute(statement)
    session.delete(person)
    session.flush()
    return files


def _remove_files(uploads: Path | None, files: list[str]) -> None:
    for name in files:
        if uploads is not None:
            (uploads / name).unlink(missing_ok=True)


def _cut_off(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


def due_cases(session: Session, now: datetime, days: int) -> list[Person]:
    closed_on = func.coalesce(Person.closed_at, Person.updated_at)
    return list(session.exec(select(Person).where(Person.status == "closed", ~Person.legal_hold,
                                                  closed_on < _cut_off(days, now))))


BATCH = 200  # rows per transaction: on SQLite the safety loop's writes wait for each one


def _in_passes(session: Session, find, change) -> int:
    """Apply `change` to the ids `find` answers, a batch per transaction, each inside the pass."""
    done = 0
    while ids := list(session.exec(find().limit(BATCH))):
        opened = _open_pass(session)
        change(ids)
        _close_pass(session, opened)
        session.commit()
        done += len(ids)
    return done


def _blank_visit_locations(session: Session, now: datetime, days: int) -> int:
    raised = select(Alert.visit_id).where(Alert.visit_id.is_not(None))
    held = select(Person.id).where(Person.legal_hold)

    def find():
        return select(Visit.id).where(
            Visit.ended_at.is_not(None), Visit.ended_at < _cut_off(days, now), Visit.id.not_in(raised),
            or_(Visit.person_id.is_(None), Visit.person_id.not_in(held)),
            or_(Visit.latitude.is_not(None), Visit.id.in_(select(SafetyEvent.visit_id).where(
                SafetyEvent.latitude.is_not(None))))).order_by(Visit.id)

    def blank(ids):
        session.execute(update(Visit).where(Visit.id.in_(ids)).values(
            latitude=None, longitude=None, location_accuracy_m=None, location_at=None))
        session.execute(update(SafetyEvent).where(SafetyEvent.visit_id.in_(ids), SafetyEvent.latitude.is_not(None))
                        .values(latitude=None, longitude=None))

    return _in_passes(session, find, blank)


def _delete_delivery_logs(session: Session, now: datetime, days: int) -> int:
    def find():
        return select(Delivery.id).where(Delivery.status.in_(FINISHED_DELIVERIES),
                                         Delivery.created_at < _cut_off(days, now)).order_by(Delivery.id)

    return _in_passes(session, find, lambda ids: session.execute(delete(Delivery).where(Delivery.id.in_(ids))))


def _delete_case(session: Session, person_id: int) -> list[str] | None:
    """One closed case in one transaction; None when it is gone already (another worker) or some
    record this path does not know still refers to it (kept, and logged by number)."""
    person = session.get(Person, person_id)
    if person is None or person.legal_hold:
        session.rollback()
        return None
    opened = _open_pass(session)
    try:
        files = _delete_person(session, person)
        _close_pass(session, opened)
        session.commit()
    except IntegrityError:
        session.rollback()
        log.error("retention kept closed case %s: a record still refers to it", person_id)
        return None
    return files


def apply(session: Session, now: datetime, uploads: Path | None = None) -> dict[str, int]:
    """Delete what the schedule says is due at `now` (nothing on legal hold): each case, and each
    batch of other rows, in a transaction of its own, so no write waits long behind it. Photo
    files go once their rows have (a failure leaves files for the photo sweep, never rows)."""
    days = schedule(session)
    cases, photos = 0, 0
    for person_id in [p.id for p in due_cases(session, now, days["closed_cases"])]:
        files = _delete_case(session, person_id)
        if files is not None:
            cases, photos = cases + 1, photos + len(files) // 2
            _remove_files(uploads, files)
    done = {"closed_cases": cases, "photos": photos,
            "visit_locations": _blank_visit_locations(session, now, days["visit_locations"]),
            "delivery_logs": _delete_delivery_logs(session, now, days["delivery_logs"])}
    for kind, count in done.items():
        if count:
            audit.record(session, "retention.delete", now=now, record_type="retention", record_id=kind,
                         detail=f"{kind}: {count} on {now:%Y-%m-%d}")
    session.commit()
    return done


def erase(session: Session, person: Person, admin: User, reason: str, *, now: datetime,
          uploads: Path | None = None) -> None:
    """A person's record erased on request, through the same path (refused on legal hold)."""
    if person.legal_hold:
        raise ValidationError({"reason": "This record is on legal hold: it cannot be erased."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is being erased."})
    opened = _open_pass(session)
    person_id = person.id
    _forget_answers(session)
    files = _delete_person(session, person)
    _close_pass(session, opened)
    audit.record(session, "person.erase", now=now, actor_id=admin.id, record_type="person", record_id=person_id,
                 detail=f"erased on request ({len(files) // 2} photos): {reason.strip()}")
    session.commit()
    _remove_files(uploads, files)


def _forget_answers(session: Session) -> None:
    """The answers kept for replaying a request sent twice (app/services/idempotency.py, up to 8
    days) may show the person: a page, a message with their name, a subject access export. Which
    ones cannot be told apart (any admin acts on any team; staff move teams), so every stored answer
    is forgotten: a replay then answers only "done" (as for a request whose answer was never
    stored), and its key still stops the work being done twice. Erasure is rare; a replay rarer."""
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.state == "done").values(
        state="committed", status_code=None, location=None, content_type=None, body=None, flashes=None,
    ).execution_options(synchronize_session=False))


def monthly_contacts(session: Session, team_id: int, month: date) -> int:
    """A team's contacts in a month: those still held plus those retention has deleted since."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)  # months are counted in UTC, as kept
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    held = session.exec(select(func.count()).select_from(Contact).where(
        Contact.team_id == team_id, Contact.deleted_at.is_(None), Contact.happened_at >= start,
        Contact.happened_at < end)).one()
    kept = session.exec(select(func.coalesce(func.sum(RetainedCount.count), 0)).where(
        RetainedCount.team_id == team_id, RetainedCount.kind == "contacts", RetainedCount.month == month)).one()
    return held + kept


class RetentionJob(ThreadedJob):
    """Worker job: apply the schedule once a day, in a thread of its own (the safety loop never
    waits for it); several workers take turns (an advisory lock on PostgreSQL, the write lock on
    SQLite)."""
    name = "retention"
    wait_seconds = 60.0

    def __init__(self, uploads: Path | None, every: timedelta = timedelta(days=1)):
        super().__init__(every)
        self.uploads = uploads

    def work(self, session: Session, now: datetime) -> None:
        apply(session, now, self.uploads)
