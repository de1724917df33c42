"""Group programmes: programmes and their plans, groups on a schedule, enrolment with a waiting
list, moving between groups, and completion by the programme's rule.

The completion rule is in services/group_completion.py; the register and starting a session in
services/group_sessions.py; who must be kept apart in services/non_association.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from app.db import built_once
from app.models import (Attendance, Enrolment, Group, GroupFacilitator, GroupSession, Person, Programme,
                        ProgrammeSession, User)
from app.models.groups import ACTIVE_STATES, GROUP_REPEATS
from app.services import ValidationError
from app.services.access import NotFound
from app.services.appointments import series_starts, to_utc
from app.services.group_completion import Completion, completion
from app.services.non_association import must_not_meet

MAX_SESSIONS = 60
STATE_LABELS = {"enrolled": "Enrolled", "waiting": "On the waiting list", "moved": "Moved to another group",
                "completed": "Completed", "not_completed": "Did not complete", "withdrawn": "Withdrawn"}


# ---- programmes ----

@dataclass
class Plan:
    topic: str
    aims: str | None = None
    facilitator_notes: str | None = None


@dataclass
class ProgrammeDetails:
    name: str
    session_count: int | None
    complete_percent: int | None = 80
    must_attend_first: bool = True
    must_attend_last: bool = True


def _check_programme(details: ProgrammeDetails) -> dict[str, str]:
    errors = {}
    if not details.name.strip():
        errors["name"] = "Give the programme a name."
    elif len(details.name.strip()) > 120:
        errors["name"] = "Keep the name under 120 characters."
    if details.session_count is None or not 1 <= details.session_count <= MAX_SESSIONS:
        errors["session_count"] = f"A programme has 1 to {MAX_SESSIONS} sessions."
    if details.complete_percent is None or not 1 <= details.complete_percent <= 100:
        errors["complete_percent"] = "Say what share of the sessions completes it, from 1 to 100 %."
    return errors


def create_programme(session: Session, author: User, details: ProgrammeDetails, *, now: datetime) -> Programme:
    errors = _check_programme(details)
    if errors:
        raise ValidationError(errors)
    programme = Programme(team_id=author.team_id, name=details.name.strip(), session_count=details.session_count,
                          complete_percent=details.complete_percent, must_attend_first=details.must_attend_first,
                          must_attend_last=details.must_attend_last, created_at=now)
    session.add(programme)
    session.flush()
    for number in range(1, details.session_count + 1):
        session.add(ProgrammeSession(programme_id=programme.id, number=number, topic=f"Session {number}"))
    session.flush()
    return programme


def update_plan(session: Session, programme: Programme, number: int, plan: Plan) -> ProgrammeSession:
    planned = session_plan(session, programme, number)
    errors = {}
    if not plan.topic.strip():
        errors["topic"] = "Say what the session is about."
    elif len(plan.topic.strip()) > 200:
        errors["topic"] = "Keep the topic under 200 characters."
    if errors:
        raise ValidationError(errors)
    planned.topic = plan.topic.strip()
    planned.aims = (plan.aims or "").strip() or None
    planned.facilitator_notes = (plan.facilitator_notes or "").strip() or None
    return planned


def session_plan(session: Session, programme: Programme, number: int) -> ProgrammeSession:
    planned = session.exec(select(ProgrammeSession).where(ProgrammeSession.programme_id == programme.id,
                                                          ProgrammeSession.number == number)).first()
    if planned is None:
        raise NotFound
    return planned


def plans(session: Session, programme_id: int) -> list[ProgrammeSession]:
    return list(session.exec(select(ProgrammeSession).where(ProgrammeSession.programme_id == programme_id)
                             .order_by(ProgrammeSession.number)).all())


def get_programme(session: Session, viewer: User, programme_id: int) -> Programme:
    programme = session.get(Programme, programme_id)
    if programme is None or viewer.team_id is None or programme.team_id != viewer.team_id:
        raise NotFound
    return programme


def programmes(session: Session, team_id: int) -> list[Programme]:
    return list(session.exec(select(Programme).where(Programme.team_id == team_id).order_by(Programme.name)).all())


# ---- groups ----

@dataclass
class GroupDetails:
    programme_id: int | None
    name: str
    venue: str
    starts_local: datetime | None
    duration_minutes: int | None
    repeat: str = "weekly"
    capacity: int | None = 12
    facilitator_ids: list[int] = field(default_factory=list)
    enforceable: bool = False


def schedule(group: Group, count: int) -> list[datetime]:
    """The first `count` sessions' local starts, by the appointments' recurrence rule."""
    step = timedelta(weeks=2 if group.repeat == "fortnightly" else 1)
    until = group.repeat_until
    group.repeat_until = None  # the rule's own end is what this works out
    try:
        starts = series_starts(group, group.starts_local, group.starts_local + step * count)
    finally:
        group.repeat_until = until
    return starts[:count]


def create_group(session: Session, author: User, details: GroupDetails, *, now: datetime) -> Group:
    errors = {}
    programme = session.get(Programme, details.programme_id) if details.programme_id else None
    if programme is None or programme.team_id != author.team_id:
        errors["programme_id"] = "Choose the programme this group runs."
    if not details.name.strip():
        errors["name"] = "Give the group a name (for example the day and the place)."
    if not details.venue.strip():
        errors["venue"] = "Say where the group meets."
    elif len(details.venue) > 300:
        errors["venue"] = "Keep the venue under 300 characters."
    if details.starts_local is None:
        errors["starts_local"] = "Say when the first session starts."
    if details.duration_minutes is None or not 15 <= details.duration_minutes <= 480:
        errors["duration_minutes"] = "A session lasts 15 to 480 minutes."
    if details.repeat not in GROUP_REPEATS:
        errors["repeat"] = "Choose how often it meets."
    if details.capacity is None or not 1 <= details.capacity <= 60:
        errors["capacity"] = "A group has room for 1 to 60 people."
    team_ids = {u.id for u in session.exec(select(User).where(User.team_id == author.team_id, User.active)).all()}
    if not details.facilitator_ids or not set(details.facilitator_ids) <= team_ids:
        errors["facilitator_ids"] = "Choose at least one facilitator from your team."
    if errors:
        raise ValidationError(errors)
    group = Group(team_id=author.team_id, programme_id=programme.id, name=details.name.strip(),
                  venue=details.venue.strip(), starts_local=details.starts_local.replace(second=0, microsecond=0),
                  duration_minutes=details.duration_minutes, repeat=details.repeat, capacity=details.capacity,
                  enforceable=details.enforceable, created_at=now)
    starts = schedule(group, programme.session_count)
    group.repeat_until = starts[-1].date()
    session.add(group)
    session.flush()
    for number, local in enumerate(starts, start=1):
        session.add(GroupSession(group_id=group.id, number=number, starts_local=local))
    for user_id in sorted(set(details.facilitator_ids)):
        session.add(GroupFacilitator(group_id=group.id, user_id=user_id))
    session.flush()
    return group


def get_group(session: Session, viewer: User, group_id: int) -> Group:
    group = session.get(Group, group_id)
    if group is None or viewer.team_id is None or group.team_id != viewer.team_id:
        raise NotFound
    return group


def groups(session: Session, team_id: int) -> list[Group]:
    return list(session.exec(select(Group).where(Group.team_id == team_id, Group.closed_at.is_(None))
                             .order_by(Group.starts_local)).all())


def facilitators(session: Session, group: Group) -> list[User]:
    return list(session.exec(select(User).join(GroupFacilitator, GroupFacilitator.user_id == User.id)
                             .where(GroupFacilitator.group_id == group.id).order_by(User.name)).all())


def sessions_of(session: Session, group: Group) -> list[GroupSession]:
    return list(session.exec(select(GroupSession).where(GroupSession.group_id == group.id)
                             .order_by(GroupSession.number)).all())


def session_window(meeting: GroupSession, group: Group, zone: ZoneInfo) -> tuple[datetime, datetime]:
    starts = to_utc(meeting.starts_local, zone)
    return starts, starts + timedelta(minutes=group.duration_minutes)


def sessions_between(session: Session, team_id: int, start: datetime, end: datetime, *,
                     facilitator_id: int | None = None) -> list[tuple[GroupSession, Group]]:
    """Sessions starting in [start, end) local, for a team's week or a facilitator's day: one query."""
    return list(session.exec(_sessions_between(facilitator_id is not None), params={
        "team_id": team_id, "start": start, "end": end, "facilitator_id": facilitator_id}).all())


@built_once
def _sessions_between(by_facilitator: bool):
    query = (select(GroupSession, Group).join(Group, Group.id == GroupSession.group_id)
             .where(Group.team_id == bindparam("team_id"), Group.closed_at.is_(None),
                    GroupSession.starts_local >= bindparam("start"), GroupSession.starts_local < bindparam("end")))
    if by_facilitator:
        query = query.join(GroupFacilitator, GroupFacilitator.group_id == Group.id).where(
            GroupFacilitator.user_id == bindparam("facilitator_id"))
    return query.order_by(GroupSession.starts_local, Group.id)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min)
    return start, start + timedelta(days=1)


# ---- enrolment ----

@dataclass
class Override:
    """A supervisor letting someone in despite a non-association."""
    by: User
    reason: str


class NeedsOverride(Exception):
    """Enrolling would put this person with someone they must not meet: a supervisor decides."""

    def __init__(self, conflicts: list[Person]):
        super().__init__(f"{len(conflicts)} non-association(s)")
        self.conflicts = conflicts


class AlreadyInProgramme(Exception):
    """The person is in another active group of the same programme: ask before enrolling them."""

    def __init__(self, group: Group):
        super().__init__("already in a group of this programme")
        self.group = group


def members(session: Session, group_id: int, states=ACTIVE_STATES) -> list[Enrolment]:
    return list(session.exec(select(Enrolment).where(Enrolment.group_id == group_id, Enrolment.state.in_(states))
                             .order_by(Enrolment.enrolled_at, Enrolment.id)).all())


def _other_group_of_programme(session: Session, group: Group, person_id: int) -> Group | None:
    return session.exec(select(Group).join(Enrolment, Enrolment.group_id == Group.id).where(
        Enrolment.person_id == person_id, Enrolment.state.in_(ACTIVE_STATES), Group.id != group.id,
        Group.programme_id == group.programme_id, Group.closed_at.is_(None))).first()


def enrol(session: Session, by: User, group: Group, person: Person, *, now: datetime, zone: ZoneInfo,
          override: Override | None = None, despite_other_group: bool = False) -> Enrolment:
    """Enrol someone (on the waiting list when the group is full). Raises NeedsOverride when they
    must not meet someone in the group and no supervisor's override with a reason is given, and
    AlreadyInProgramme unless `despite_other_group`."""
    if person.team_id != group.team_id or group.closed_at is not None:
        raise NotFound
    current = members(session, group.id)
    if any(e.person_id == person.id for e in current):
        raise ValidationError({"person_id": "They are already in this group (or on its waiting list)."})
    other_group = _other_group_of_programme(session, group, person.id)
    if other_group is not None and not despite_other_group:
        raise AlreadyInProgramme(other_group)
    barred = must_not_meet(session, person.id, {e.person_id for e in current}, now, zone)
    if barred:
        if override is None:
            raise NeedsOverride(list(session.exec(select(Person).where(Person.id.in_(barred))
                                                  .order_by(Person.name)).all()))
        errors = {}
        if override.by.role != "supervisor" or override.by.team_id != group.team_id:
            errors["override_reason"] = "Only a supervisor can enrol someone despite a non-association."
        elif not override.reason.strip():
            errors["override_reason"] = "Say why they may be in this group together."
        if errors:
            raise ValidationError(errors)
    enrolled = sum(1 for e in current if e.state == "enrolled")
    enrolment = Enrolment(team_id=group.team_id, group_id=group.id, person_id=person.id,
                          state="enrolled" if enrolled < group.capacity else "waiting", enrolled_at=now,
                          enrolled_by_id=by.id)
    if barred:
        enrolment.override_by_id, enrolment.override_reason = override.by.id, override.reason.strip()
    session.add(enrolment)
    session.flush()
    return enrolment


def _promote_waiting(session: Session, group: Group) -> Enrolment | None:
    """A place came free: the first on the waiting list takes it."""
    current = members(session, group.id)
    if sum(1 for e in current if e.state == "enrolled") >= group.capacity:
        return None
    waiting = next((e for e in current if e.state == "waiting"), None)
    if waiting is not None:
        waiting.state = "enrolled"
    return waiting


def get_enrolment(session: Session, viewer: User, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or viewer.team_id is None or enrolment.team_id != viewer.team_id:
        raise NotFound
    return enrolment


def move(session: Session, by: User, enrolment: Enrolment, to_group: Group, *, now: datetime, zone: ZoneInfo,
         override: Override | None = None) -> Enrolment:
    """Move someone to another group of the same programme; what they attended still counts."""
    source = session.get(Group, enrolment.group_id)
    if enrolment.state not in ACTIVE_STATES:
        raise ValidationError({"group_id": "Only someone enrolled or waiting can be moved."})
    if to_group.id == source.id or to_group.programme_id != source.programme_id:
        raise ValidationError({"group_id": "Choose another group running the same programme."})
    person = session.get(Person, enrolment.person_id)
    moved = enrol(session, by, to_group, person, now=now, zone=zone, override=override, despite_other_group=True)
    enrolment.state, enrolment.ended_at, enrolment.moved_to_group_id = "moved", now, to_group.id
    session.flush()
    _promote_waiting(session, source)
    return moved


# ---- completion ----

def finish(session: Session, by: User, enrolment: Enrolment, *, completed: bool, reason: str | None,
           now: datetime) -> Completion:
    """Record completion (only when the rule is met) or non-completion (with a reason)."""
    if enrolment.state != "enrolled":
        raise ValidationError({"": "Only someone enrolled in the group can complete it or not."})
    result = completion(session, enrolment)
    if completed and not result.met:
        raise ValidationError({"": f"The completion rule is not met yet: still needs {', '.join(result.missing)}."})
    if not completed and not (reason or "").strip():
        raise ValidationError({"reason": "Say why they did not complete the programme."})
    enrolment.state = "completed" if completed else "not_completed"
    enrolment.ended_at, enrolment.end_reason = now, (reason or "").strip() or None
    session.flush()
    _promote_waiting(session, session.get(Group, enrolment.group_id))
    return result


def counts(session: Session, group_ids: list[int]) -> dict[int, dict[str, int]]:
    """Enrolled and waiting per group, in one query."""
    found: dict[int, dict[str, int]] = {gid: {"enrolled": 0, "waiting": 0} for gid in group_ids}
    if group_ids:
        for gid, state, n in session.exec(select(Enrolment.group_id, Enrolment.state, func.count())
                                          .where(Enrolment.group_id.in_(group_ids),
                                                 Enrolment.state.in_(ACTIVE_STATES))
                                          .group_by(Enrolment.group_id, Enrolment.state)).all():
            found[gid][state] = n
    return found


# ---- on the person's record ----

def memberships(session: Session, person: Person) -> list[tuple[Enrolment, Group]]:
    """The person's enrolments with their groups, newest first (one query)."""
    return list(session.exec(_memberships_of(), params={"person_id": person.id, "team_id": person.team_id}).all())


@built_once
def _memberships_of():
    return (select(Enrolment, Group).join(Group, Group.id == Enrolment.group_id)
            .where(Enrolment.person_id == bindparam("person_id"), Group.team_id == bindparam("team_id"))
            .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc()))


def marks_of(session: Session, person: Person, *, limit: int, before_local: datetime | None = None
             ) -> list[tuple[Attendance, GroupSession, Group]]:
    """The person's newest `limit` attendance marks at sessions starting at or before
    `before_local` (naive local time; None: the newest of all), with their sessions and groups:
    one query, however many sessions they have been to."""
    return list(session.exec(_marks_page(before_local is not None), params={
        "person_id": person.id, "team_id": person.team_id, "limit": limit, "before": before_local}).all())


@built_once
def _marks_page(paged: bool):
    query = (select(Attendance, GroupSession, Group)
             .join(GroupSession, GroupSession.id == Attendance.group_session_id)
             .join(Group, Group.id == GroupSession.group_id)
             .where(Attendance.person_id == bindparam("person_id"), Group.team_id == bindparam("team_id")))
    if paged:
        query = query.where(GroupSession.starts_local <= bindparam("before"))
    return query.order_by(GroupSession.starts_local.desc(), Attendance.id.desc()).limit(bindparam("limit"))
