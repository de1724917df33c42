"""Appointments: recurrence, the day's agenda, clashes, booking, moving and outcomes (reminders are in
services/appointment_reminders.py, the private calendar feed in services/calendar_feed.py).

Series are stored in local wall-clock time and expanded with dateutil's rrule in local time, then
turned into UTC with the organisation's zone: a weekly 10:00 stays at 10:00 when the clocks change.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, rrule
from sqlalchemy import and_, bindparam, or_
from sqlmodel import Session, select

from app.db import built_once
from app.models import Appointment, AppointmentOccurrence, Person, User
from app.models.appointments import APPOINTMENT_KINDS, OUTCOMES, REPEATS
from app.services import ValidationError
from app.services.access import NotFound

KIND_LABELS = {"home_visit": "Home visit", "office": "Office", "phone": "Phone call", "video": "Video call",
               "group": "Group session", "court": "Court or panel", "multi_agency": "Multi-agency meeting"}
REPEAT_LABELS = {"none": "Does not repeat", "weekly": "Every week", "fortnightly": "Every fortnight",
                 "monthly": "Every month"}
OUTCOME_LABELS = {"attended": "Attended", "did_not_attend": "Did not attend", "cancelled_by_person":
                  "Cancelled by the person", "cancelled_by_us": "Cancelled by us", "rescheduled": "Rescheduled"}
_RULES = {"weekly": (WEEKLY, 1), "fortnightly": (WEEKLY, 2), "monthly": (MONTHLY, 1)}
# How far ahead the next occurrence of a series is looked for.
HORIZON = timedelta(days=400)
# One occurrence moves at most this far from where its series put it, so a look at a window of
# time only has to expand series this much further either side to find what moved into it.
MOVE_LIMIT = timedelta(days=31)


@dataclass
class Details:
    person_id: int | None
    kind: str
    starts_local: datetime | None
    duration_minutes: int | None
    place: str | None = None
    notes: str | None = None
    repeat: str = "none"
    repeat_until: date | None = None


@dataclass
class Occurrence:
    appointment: Appointment
    original_local: datetime
    starts_local: datetime
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    place: str | None
    cancelled: bool
    outcome: str | None
    record: AppointmentOccurrence | None


_UTC = ZoneInfo("UTC")


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(_UTC)


def series_starts(appointment: Appointment, start: datetime, end: datetime) -> list[datetime]:
    """The series' local starts in [start, end) (local, naive)."""
    if appointment.repeat == "none":
        return [appointment.starts_local] if start <= appointment.starts_local < end else []
    frequency, interval = _RULES[appointment.repeat]
    first = appointment.starts_local
    # No end date: it repeats until cancelled (the window bounds the work, not the series' age).
    until = datetime.combine(appointment.repeat_until, time.max) if appointment.repeat_until else datetime.max
    if frequency == WEEKLY:
        # Whole steps of wall-clock time from the first (what rrule gives, at a fraction of the cost:
        # a team's week expands hundreds of series).
        step = timedelta(weeks=interval)
        moment, found = first + max(0, -((first - start) // step)) * step, []
        while moment < end and moment <= until:
            found.append(moment)
            moment += step
        return found
    # rrule counts from its first date: start it near the window (in whole steps, so the same dates
    # come out) instead of walking years of months to get there on every look.
    months = max(0, (start.year - first.year) * 12 + start.month - first.month) // interval * interval
    # From the 1st of a later month, with the day of the month said outright (a series on the
    # 31st skips shorter months, as it does when rrule infers the day from its first date).
    rule = rrule(MONTHLY, interval=interval, dtstart=first.replace(day=1) + relativedelta(months=months),
                 bymonthday=first.day, until=until if appointment.repeat_until else None)
    return [moment for moment in rule.between(start, end, inc=True) if first <= moment < end]


def occurrences(session: Session, appointments: list[Appointment], start: datetime, end: datetime,
                zone: ZoneInfo, *, team_id: int | None = None) -> list[Occurrence]:
    """Every occurrence starting in [start, end) local, with its changes applied, in time order.
    `team_id`: the appointments are that team's (a team's week, hundreds of series): their changes
    are looked up by the team, not by a list of hundreds of ids (4 times the CPU on PostgreSQL)."""
    if not appointments:
        return []
    by_id = {appointment.id: appointment for appointment in appointments}
    window = {"start": start, "end": end}
    if team_id is None:
        records = session.exec(_changes_of(by_team=False), params={**window, "ids": list(by_id)}).all()
    else:
        records = [record for record in session.exec(_changes_of(by_team=True), params={**window, "team_id": team_id})
                   if record.appointment_id in by_id]
    changed = {(r.appointment_id, r.original_local): r for r in records}
    starts = [(appointment, original) for appointment in appointments
              for original in series_starts(appointment, start, end)]
    # Moved in from outside the window (as far as one can move): those come from the records, not
    # from expanding every series over two more months to find the few.
    for record in records:
        appointment, original = by_id[record.appointment_id], record.original_local
        if (not start <= original < end and start - MOVE_LIMIT <= original < end + MOVE_LIMIT
                and series_starts(appointment, original, original + timedelta(microseconds=1)) == [original]):
            starts.append((appointment, original))
    found = []
    for appointment, original in starts:
        record = changed.get((appointment.id, original))
        local = (record.starts_local if record and record.starts_local else original)
        if not start <= local < end:
            continue
        starts_at = to_utc(local, zone)
        found.append(Occurrence(appointment, original, local, starts_at,
                                starts_at + timedelta(minutes=appointment.duration_minutes),
                                (record.place if record and record.place else appointment.place),
                                bool(record and record.cancelled), record.outcome if record else None, record))
    return sorted(found, key=lambda o: (o.starts_at, o.appointment.id))


@built_once
def _changes_of(by_team: bool):
    """The changes that can matter in [start, end): to an occurrence the series puts in the window
    (moved out, cancelled, its outcome), or one moved into it. Not a series' years of outcomes."""
    start, end = bindparam("start"), bindparam("end")
    in_window = or_(and_(AppointmentOccurrence.original_local >= start, AppointmentOccurrence.original_local < end),
                    and_(AppointmentOccurrence.starts_local >= start, AppointmentOccurrence.starts_local < end))
    if not by_team:
        return select(AppointmentOccurrence).where(
            AppointmentOccurrence.appointment_id.in_(bindparam("ids", expanding=True)), in_window)
    return (select(AppointmentOccurrence).join(Appointment, Appointment.id == AppointmentOccurrence.appointment_id)
            .where(Appointment.team_id == bindparam("team_id"), in_window))


def _live(query):
    return query.where(Appointment.cancelled_at.is_(None))


def _may_fall_in(query, between: tuple[datetime, datetime] | None):
    """Only the series that can put an occurrence into [start, end) local (or move one into it), not
    a team's years of past one-offs and ended series; `None`: all of them."""
    if between is None:
        return query
    early, late = between[0] - MOVE_LIMIT, between[1] + MOVE_LIMIT
    return query.where(_starts_between(early, late, early.date()))


def _starts_between(early, late, early_day):
    """_may_fall_in's condition; its bounds are values, or bindparams in a statement built once."""
    return and_(Appointment.starts_local < late, or_(
        and_(Appointment.repeat == "none", Appointment.starts_local >= early),
        and_(Appointment.repeat != "none",
             or_(Appointment.repeat_until.is_(None), Appointment.repeat_until >= early_day))))


def for_worker(session: Session, worker_id: int, between: tuple[datetime, datetime] | None = None) -> list[Appointment]:
    if between is None:
        return list(session.exec(_live(select(Appointment).where(Appointment.worker_id == worker_id))).all())
    early, late = between[0] - MOVE_LIMIT, between[1] + MOVE_LIMIT
    return list(session.exec(_worker_series_between(), params={
        "worker_id": worker_id, "early": early, "early_day": early.date(), "late": late}).all())


@built_once
def _worker_series_between():
    """_may_fall_in for one worker's series, its window bound (for_worker: every Today runs it)."""
    return _live(select(Appointment).where(Appointment.worker_id == bindparam("worker_id"))).where(
        _starts_between(bindparam("early"), bindparam("late"), bindparam("early_day")))


def for_team(session: Session, team_id: int, between: tuple[datetime, datetime] | None = None) -> list[Appointment]:
    return list(session.exec(_may_fall_in(_live(select(Appointment).where(Appointment.team_id == team_id)),
                                          between)).all())


# What expanding a series and listing its occurrences reads of it.
_SERIES_COLUMNS = (Appointment.id, Appointment.team_id, Appointment.worker_id, Appointment.person_id,
                   Appointment.kind, Appointment.starts_local, Appointment.duration_minutes, Appointment.place,
                   Appointment.repeat, Appointment.repeat_until)


# A series as plain values: its attributes read in a few nanoseconds, where a result row's by name
# take about a microsecond each, and a team's week reads thousands of them.
Series = namedtuple("Series", [column.key for column in _SERIES_COLUMNS])


def series_for_team(session: Session, team_id: int, between: tuple[datetime, datetime],
                    kind: str | None = None) -> list[Series]:
    """for_team() as plain values of the columns a week's list reads (attribute access as on an
    Appointment, read-only): a team's week expands hundreds of series, and making each an ORM
    object cost more than the rest of the page. `kind`: of that kind only."""
    query = select(*_SERIES_COLUMNS).where(Appointment.team_id == team_id)
    if kind is not None:
        query = query.where(Appointment.kind == kind)
    return [Series(*row) for row in session.execute(_may_fall_in(_live(query), between))]


def next_occurrence(session: Session, appointment: Appointment, today: date, zone: ZoneInfo) -> Occurrence | None:
    """Its first occurrence from today on that is not cancelled (None if there is none left)."""
    start = datetime.combine(today, time.min)
    return next((o for o in occurrences(session, [appointment], start, start + HORIZON, zone) if not o.cancelled),
                None)


def agenda(session: Session, worker: User, day: date, zone: ZoneInfo) -> list[Occurrence]:
    start = datetime.combine(day, time.min)
    end = start + timedelta(days=1)
    return occurrences(session, for_worker(session, worker.id, (start, end)), start, end, zone)


def get_appointment(session: Session, viewer: User, appointment_id: int) -> Appointment:
    """The one access rule: the viewer's team's appointments only (another team: 404)."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or viewer.team_id is None or appointment.team_id != viewer.team_id:
        raise NotFound
    return appointment


def _check(session: Session, worker: User, details: Details) -> dict[str, str]:
    errors = {}
    person = session.get(Person, details.person_id) if details.person_id else None
    if person is None or person.team_id != worker.team_id:
        errors["person_id"] = "Choose the person the appointment is with."
    if details.kind not in APPOINTMENT_KINDS:
        errors["kind"] = "Choose the kind of appointment."
    if details.starts_local is None:
        errors["starts_local"] = "Say when it starts."
    if details.duration_minutes is None or not 5 <= details.duration_minutes <= 480:
        errors["duration_minutes"] = "The length must be between 5 and 480 minutes."
    if details.repeat not in REPEATS:
        errors["repeat"] = "Choose how it repeats."
    if details.repeat_until and details.repeat == "none":
        # A last date typed for an appointment that does not repeat is a question, never dropped.
        errors["repeat_until"] = "It does not repeat: choose how often it repeats, or clear the last date."
    elif details.repeat_until and details.starts_local and details.repeat_until < details.starts_local.date():
        errors["repeat_until"] = "The last date must be after the first appointment."
    if details.place and len(details.place) > 300:
        errors["place"] = "Keep the place under 300 characters."
    return errors


def clashes(session: Session, worker_id: int, appointment: Appointment, zone: ZoneInfo,
            *, weeks: int = 12) -> list[Occurrence]:
    """The worker's other appointments overlapping this one's occurrences in the coming weeks."""
    start = appointment.starts_local - timedelta(hours=12)
    end = start + timedelta(weeks=weeks)
    mine = [o for o in occurrences(session, [appointment], start, end, zone) if not o.cancelled]
    others = [o for o in occurrences(session, [a for a in for_worker(session, worker_id) if a.id != appointment.id],
                                     start, end, zone) if not o.cancelled]
    return [other for other in others if any(o.starts_at < other.ends_at and other.starts_at < o.ends_at
                                             for o in mine)]


def create(session: Session, worker: User, details: Details, *, now: datetime) -> Appointment:
    errors = _check(session, worker, details)
    if errors:
        raise ValidationError(errors)
    appointment = Appointment(team_id=worker.team_id, worker_id=worker.id, person_id=details.person_id,
                              kind=details.kind, starts_local=details.starts_local.replace(second=0, microsecond=0),
                              duration_minutes=details.duration_minutes, place=(details.place or "").strip() or None,
                              notes=(details.notes or "").strip() or None, repeat=details.repeat,
                              repeat_until=details.repeat_until if details.repeat != "none" else None,
                              created_at=now, updated_at=now)
    session.add(appointment)
    session.flush()
    return appointment


def update_series(session: Session, appointment: Appointment, worker: User, details: Details, *,
                  now: datetime) -> None:
    errors = _check(session, worker, details)
    if errors:
        raise ValidationError(errors)
    appointment.person_id, appointment.kind = details.person_id, details.kind
    appointment.starts_local = details.starts_local.replace(second=0, microsecond=0)
    appointment.duration_minutes, appointment.place = details.duration_minutes, (details.place or "").strip() or None
    appointment.notes = (details.notes or "").strip() or None
    appointment.repeat = details.repeat
    appointment.repeat_until = details.repeat_until if details.repeat != "none" else None
    appointment.updated_at = now


def cancel_series(appointment: Appointment, *, now: datetime) -> None:
    appointment.cancelled_at = now


def _record(session: Session, appointment: Appointment, original_local: datetime) -> AppointmentOccurrence:
    if original_local not in series_starts(appointment, original_local, original_local + timedelta(minutes=1)):
        raise NotFound  # not an occurrence of this series
    record = session.exec(select(AppointmentOccurrence).where(
        AppointmentOccurrence.appointment_id == appointment.id,
        AppointmentOccurrence.original_local == original_local)).first()
    if record is None:
        record = AppointmentOccurrence(appointment_id=appointment.id, original_local=original_local)
        session.add(record)
    return record


def move_occurrence(session: Session, appointment: Appointment, original_local: datetime, *,
                    starts_local: datetime | None, place: str | None, cancelled: bool = False) -> AppointmentOccurrence:
    """Change one occurrence only; the rest of the series is untouched."""
    if starts_local is None and not cancelled:
        raise ValidationError({"starts_local": "Say when this one starts."})
    if starts_local is not None and abs(starts_local - original_local) > MOVE_LIMIT:
        raise ValidationError({"starts_local": f"Move it by {MOVE_LIMIT.days} days at most. For a bigger change, "
                                               "cancel this one and make a new appointment."})
    record = _record(session, appointment, original_local)
    record.cancelled = cancelled
    if starts_local is not None:
        record.starts_local = starts_local.replace(second=0, microsecond=0)
    record.place = (place or "").strip() or None
    return record


def record_outcome(session: Session, appointment: Appointment, original_local: datetime, by: User, *,
                   outcome: str, note: str | None, now: datetime) -> AppointmentOccurrence:
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": "Choose what happened."})
    record = _record(session, appointment, original_local)
    record.outcome, record.outcome_note = outcome, (note or "").strip() or None
    record.outcome_at, record.outcome_by_id = now, by.id
    return record


def follow_ups(session: Session, worker: User) -> list[tuple[AppointmentOccurrence, Appointment]]:
    """Did-not-attend occurrences the worker has not followed up yet (shown on Today)."""
    return list(session.exec(_follow_ups_of(), params={"worker_id": worker.id}).all())


@built_once
def _follow_ups_of():
    return (select(AppointmentOccurrence, Appointment)
            .join(Appointment, Appointment.id == AppointmentOccurrence.appointment_id)
            .where(Appointment.worker_id == bindparam("worker_id"), AppointmentOccurrence.outcome == "did_not_attend",
                   AppointmentOccurrence.follow_up_done_at.is_(None))
            .order_by(AppointmentOccurrence.original_local))


def outcomes_for(session: Session, person: Person, *, before_local: datetime | None = None,
                 limit: int | None = None) -> list[tuple[AppointmentOccurrence, Appointment]]:
    """Recorded outcomes for a person's timeline (the compliance record), newest first; `before_local`
    and `limit` give a page of it."""
    return list(session.exec(_outcomes_page(limit is not None, before_local is not None), params={
        "person_id": person.id, "team_id": person.team_id, "limit": limit, "before": before_local}).all())


@built_once
def _outcomes_page(limited: bool, paged: bool):
    query = (select(AppointmentOccurrence, Appointment)
             .join(Appointment, Appointment.id == AppointmentOccurrence.appointment_id)
             .where(Appointment.person_id == bindparam("person_id"), Appointment.team_id == bindparam("team_id"),
                    AppointmentOccurrence.outcome.is_not(None))
             .order_by(AppointmentOccurrence.original_local.desc()))
    if limited:
        query = query.limit(bindparam("limit"))
    return query.where(AppointmentOccurrence.original_local <= bindparam("before")) if paged else query
