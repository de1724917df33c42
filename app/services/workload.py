"""Weighted load and allocation.

A worker's load is the points of the open people they are key worker for: points by risk level
(team-configurable, default low 1, medium 2, high 3, very high 5) plus what other features add per
person (`extra_points`: an active order by its kind and requirements, an open plan). Their capacity
is the team's full-time points times their capacity percent (full time 100 %); load as a percentage of that, in words and colour.

Allocations are append-only history; Person.key_worker_id holds the current one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func
from sqlmodel import Session, select

from app.db import built_once
from app.models import Alert, Allocation, Leave, Person, Plan, TeamLoad, User, WorkerCapacity
from app.services import ValidationError, leave
from app.services.access import NotFound

DEFAULT_POINTS = {"low": 1, "medium": 2, "high": 3, "very_high": 5}
DEFAULT_FULL_TIME_POINTS = 30
NEAR_CAPACITY = 85  # percent
MAX_NOTE = 2000


PLAN_POINTS = 1  # an open plan to review and keep moving


def extra_points(session: Session, person_ids: set[int], now: datetime, zone: ZoneInfo) -> dict[int, int]:
    """THE HOOK for other features' weight: points each person adds beyond their risk level. Each
    feature adds its term here, batched for all `person_ids`: active orders (by kind, plus their
    requirements: services/orders.py) and an open plan (PLAN_POINTS)."""
    from app.services.orders import order_load_points

    extra = dict(order_load_points(session, person_ids, now, zone))
    if person_ids:
        for person_id in session.exec(select(Plan.person_id).where(Plan.person_id.in_(person_ids),
                                                                   Plan.status == "open")).all():
            extra[person_id] = extra.get(person_id, 0) + PLAN_POINTS
    return extra


@dataclass(frozen=True)
class Weighting:
    points: dict[str, int]
    full_time_points: int


def weighting(session: Session, team_id: int) -> Weighting:
    row = session.get(TeamLoad, team_id)
    if row is None:
        return Weighting(dict(DEFAULT_POINTS), DEFAULT_FULL_TIME_POINTS)
    return Weighting({**DEFAULT_POINTS, **(row.points or {})}, row.full_time_points)


def set_weighting(session: Session, team_id: int, actor: User, points: dict[str, int | None],
                  full_time_points: int | None, *, now: datetime) -> None:
    errors = {f"points_{level}": "Between 0 and 20 points." for level, value in points.items()
              if value is None or not 0 <= value <= 20}
    if full_time_points is None or not 1 <= full_time_points <= 1000:
        errors["full_time_points"] = "Between 1 and 1000 points."
    if errors:
        raise ValidationError(errors)
    row = session.get(TeamLoad, team_id) or TeamLoad(team_id=team_id)
    row.points, row.full_time_points, row.updated_at, row.updated_by_id = dict(points), full_time_points, now, actor.id
    session.add(row)


def person_points(person: Person, weights: Weighting, extra: dict[int, int]) -> int:
    return weights.points.get(person.risk_level, 0) + extra.get(person.id, 0)


def load_words(percent: int) -> tuple[str, str]:
    """(words, tone): always both, never colour alone."""
    if percent > 100:
        return "Over capacity", "danger"
    if percent >= NEAR_CAPACITY:
        return "Near capacity", "warn"
    return "Within capacity", "ok"


@dataclass
class WorkerLoad:
    worker: User
    people: int
    points: int
    capacity_percent: int
    capacity_points: float
    open_alerts: int
    away: Leave | None  # now
    leave_ahead: Leave | None = None  # the soonest to come, when not away now

    def percent_with(self, extra_points: int = 0) -> int:
        if self.capacity_points <= 0:
            return 999 if self.points + extra_points else 0
        return round(100 * (self.points + extra_points) / self.capacity_points)

    @property
    def percent(self) -> int:
        return self.percent_with(0)


def team_loads(session: Session, team_id: int, now: datetime, zone: ZoneInfo) -> list[WorkerLoad]:
    """Every active member of the team who can hold cases, with their load: a fixed number of
    queries however many people."""
    weights = weighting(session, team_id)
    members = list(session.exec(select(User).where(User.team_id == team_id, User.active,
                                                   User.role.in_(("worker", "supervisor"))).order_by(User.name)).all())
    ids = {m.id for m in members}
    held = session.exec(select(Person.id, Person.key_worker_id, Person.risk_level).where(
        Person.team_id == team_id, Person.status == "open", Person.key_worker_id.in_(ids))).all() if ids else []
    extra = extra_points(session, {pid for pid, _, _ in held}, now, zone)
    points: dict[int, int] = {}
    counts: dict[int, int] = {}
    for person_id, worker_id, risk in held:
        points[worker_id] = points.get(worker_id, 0) + weights.points.get(risk, 0) + extra.get(person_id, 0)
        counts[worker_id] = counts.get(worker_id, 0) + 1
    capacity = {c.user_id: c.percent for c in session.exec(
        select(WorkerCapacity).where(WorkerCapacity.user_id.in_(ids))).all()} if ids else {}
    alerts = dict(session.exec(select(Alert.worker_id, func.count()).where(
        Alert.team_id == team_id, Alert.state != "resolved").group_by(Alert.worker_id)).all())
    away, ahead = leave.now_and_next(session, team_id, now)
    return [WorkerLoad(m, counts.get(m.id, 0), points.get(m.id, 0), capacity.get(m.id, 100),
                       weights.full_time_points * capacity.get(m.id, 100) / 100, alerts.get(m.id, 0), away.get(m.id),
                       ahead.get(m.id))
            for m in members]


def set_capacity(session: Session, team_id: int, actor: User, user_id: int | None, percent: int | None, *,
                 now: datetime) -> None:
    member = session.get(User, user_id) if user_id else None
    if member is None or member.team_id != team_id:
        raise NotFound
    if percent is None or not 0 <= percent <= 100:
        raise ValidationError({"percent": "Between 0 and 100 %: full time is 100."})
    row = session.get(WorkerCapacity, user_id) or WorkerCapacity(user_id=user_id)
    row.percent, row.updated_at, row.updated_by_id = percent, now, actor.id
    session.add(row)


# ---- who needs allocating ----

@dataclass
class Unallocated:
    person: Person
    reason: str


def unallocated(session: Session, team_id: int, now: datetime) -> list[Unallocated]:
    """Open people with no key worker, or whose key worker left the team or is away now."""
    open_people = list(session.exec(select(Person).where(Person.team_id == team_id, Person.status == "open")
                                    .order_by(Person.created_at.desc(), Person.id.desc())).all())
    current = {u.id for u in session.exec(select(User).where(User.team_id == team_id, User.active)).all()}
    away = leave.away_now(session, team_id, now)
    found = []
    for person in open_people:
        if person.key_worker_id is None:
            found.append(Unallocated(person, "New: no key worker yet"))
        elif person.key_worker_id not in current:
            found.append(Unallocated(person, "Their worker has left"))
        elif person.key_worker_id in away:
            found.append(Unallocated(person, f"Their worker is away until {away[person.key_worker_id].ends_on:%a %-d %b}"))
    return found


def allocate(session: Session, person: Person, actor: User, *, worker_id: int | None, note: str | None,
             now: datetime) -> Allocation:
    worker = session.get(User, worker_id) if worker_id else None
    errors = {}
    if worker is None or worker.team_id != person.team_id or not worker.active or worker.role == "admin":
        errors["worker_id"] = "Choose a worker in your team."
    elif worker.id == person.key_worker_id:
        errors["worker_id"] = f"{person.name} is already allocated to {worker.name}."
    if note and len(note) > MAX_NOTE:
        errors["note"] = f"Keep the handover note under {MAX_NOTE} characters."
    if errors:
        raise ValidationError(errors)
    allocation = Allocation(team_id=person.team_id, person_id=person.id, worker_id=worker.id,
                            previous_worker_id=person.key_worker_id, note=(note or "").strip() or None, at=now,
                            by_id=actor.id)
    person.key_worker_id, person.updated_at = worker.id, now
    session.add(allocation)
    session.flush()
    return allocation


@built_once
def _history_and_cover():
    now = bindparam("now")
    return (select(Person.id, Allocation, Leave).select_from(Person)
            .outerjoin(Allocation, and_(Allocation.person_id == Person.id, Allocation.team_id == Person.team_id))
            .outerjoin(Leave, and_(Leave.user_id == Person.key_worker_id, Leave.removed_at.is_(None),
                                   Leave.starts_at <= now, Leave.ends_at > now))
            .where(Person.id == bindparam("person_id")))


def history_and_cover(session: Session, person: Person, now: datetime) -> tuple[list[Allocation], Leave | None]:
    """For the person's page, in one query: their allocations, newest first, and their key
    worker's leave now (the latest entered), if away."""
    rows = session.exec(_history_and_cover(), params={"person_id": person.id, "now": now}).all()
    allocations = {a.id: a for _, a, _ in rows if a is not None}
    leaves = [item for _, _, item in rows if item is not None]
    away = max(leaves, key=lambda item: (item.created_at, item.id)) if leaves else None
    return sorted(allocations.values(), key=lambda a: (a.at, a.id), reverse=True), away


def history(session: Session, person: Person) -> list[Allocation]:
    return list(session.exec(select(Allocation).where(Allocation.person_id == person.id,
                                                      Allocation.team_id == person.team_id)
                             .order_by(Allocation.at.desc(), Allocation.id.desc())).all())
