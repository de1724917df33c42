"""Missed check-ins, a batch at a time: claim the overdue visits and raise their alerts together.

After a worker outage, a database failover or a deploy, hundreds of visits fall due at the same
instant. One alert at a time, each looked up its worker, team, buddy, supervisors and devices and
wrote its rows one by one (about 2.5 ms each, nearly all of it ORM work). Here a batch is claimed
with one conditional UPDATE, everything its alerts need is read with a handful of queries, and the
alerts, their events and their deliveries are written with one statement each, in the claim's
transaction: a crash still never leaves a missed check-in without its alert. The rules are the
single-alert ones (alarm_recipients.ladder, .alarm_message, .are_you_ok; delivery.enqueue_many).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, update
from sqlmodel import Session, select

from app.bulk import insert_rows
from app.db import built_once, claiming
from app.models import Alert, SafetyEvent, Team, User, Visit
from app.services import delivery as delivery_service
from app.services import alarm_recipients, leave, rota
from app.services import safety_rules as rules


@dataclass(frozen=True)
class Missed:
    """A visit this worker claimed as missed: what its alert needs."""
    visit_id: int
    worker_id: int
    team_id: int
    latitude: float | None
    longitude: float | None
    location_at: datetime | None


def claim(session: Session, *, now: datetime, limit: int) -> list[Missed]:
    """Move up to `limit` visits past their grace deadline to overdue, earliest first. However many
    workers run, each visit is claimed once: the claim re-checks the state it moves from, and
    PostgreSQL workers skip rows another worker holds instead of queueing on them."""
    statement = _claim_statement(session.get_bind().dialect.name)
    rows = session.execute(statement, {"claim_now": now, "claim_limit": limit}).all()
    return sorted((Missed(*row) for row in rows), key=lambda missed: missed.visit_id)


@built_once
def _claim_statement(dialect: str):
    """Built once, with the moment and the limit as parameters (as delivery's claim)."""
    due = (Visit.state == "active", Visit.overdue_at <= bindparam("claim_now", type_=Visit.__table__.c.overdue_at.type))
    candidates = select(Visit.id).where(*due).order_by(Visit.overdue_at).limit(bindparam("claim_limit", type_=Integer))
    return (
        update(Visit).where(claiming(dialect, Visit.id, candidates, *due))
        .values(state=rules.next_visit_state("active", "miss"), remind_at=None)
        .returning(Visit.id, Visit.worker_id, Visit.team_id, Visit.latitude, Visit.longitude, Visit.location_at)
        .execution_options(synchronize_session=False)
    )


def raise_all(session: Session, batch: list[Missed], *, now: datetime) -> list[int]:
    """The alert of each claimed visit, with its events and first deliveries, in the caller's
    transaction. Returns the new alerts' ids."""
    if not batch:
        return []
    workers = _by_id(session, User, {m.worker_id for m in batch})
    teams = _by_id(session, Team, {m.team_id for m in batch})
    # As raise_alert() has it: the rota's duty supervisor now, and whoever stands in for a buddy on
    # leave, each answered for the whole batch at once.
    duty = rota.duty_supervisor_ids(session, list(teams), now)
    away = leave.stand_in_ids(session, {w.buddy_id for w in workers.values() if w.buddy_id}, now)
    buddy_of = {w.id: away.get(w.buddy_id, w.buddy_id) if w.buddy_id else None for w in workers.values()}
    teammates = _by_id(session, User, set(buddy_of.values()) | set(duty.values()))
    supervisors: dict[int, list[User]] = {team_id: [] for team_id in teams}
    for person in session.exec(select(User).where(User.team_id.in_(teams), User.role == "supervisor",
                                                  User.active).order_by(User.id)).all():
        supervisors[person.team_id].append(person)

    def active_teammate(user_id: int | None, team_id: int) -> User | None:
        user = teammates.get(user_id) if user_id else None
        return user if user and user.active and user.team_id == team_id else None

    kind, level = "missed_check_in", rules.first_level("missed_check_in")
    # Core statements on the tables (the ORM's bulk insert splits rows by which values are None).
    connection = session.connection()
    alert_ids = dict(insert_rows(connection, Alert.__table__, [{
        "team_id": m.team_id, "worker_id": m.worker_id, "visit_id": m.visit_id, "kind": kind, "state": "open",
        "level": level, "repeats": 0, "raised_at": now,
        "duty_supervisor_id": duty.get(m.team_id), "buddy_id": buddy_of[m.worker_id],
        "next_escalation_at": now + timedelta(seconds=teams[m.team_id].escalation_seconds),
        "latitude": m.latitude, "longitude": m.longitude, "location_at": m.location_at,
    } for m in batch], returning=("visit_id", "id")))
    events, messages = [], []
    for m in batch:
        alert_id, worker, team = alert_ids[m.visit_id], workers[m.worker_id], teams[m.team_id]
        events.append(_event("overdue", now, m.visit_id, None, None, None, None))
        events.append(_event("alert_raised", now, m.visit_id, alert_id, f"{kind}, level {level}",
                             m.latitude, m.longitude))
        messages.append((alarm_recipients.are_you_ok(m.visit_id, alert_id), worker))
        alarm = alarm_recipients.alarm_message(_Raised(alert_id, kind), level, 0)
        for person in alarm_recipients.ladder(
                kind, level, worker=worker, buddy=active_teammate(buddy_of[worker.id], team.id),
                duty=active_teammate(duty.get(team.id), team.id),
                supervisors=lambda team_id=team.id: supervisors[team_id]):
            messages.append((alarm, person))
    insert_rows(connection, SafetyEvent.__table__, events)
    delivery_service.enqueue_many(session, messages, now=now)
    return [alert_ids[m.visit_id] for m in batch]


class _Raised(NamedTuple):
    """What the alarm's words need of a new alert (making an ORM Alert for each cost a fifth of
    raising a batch)."""

    id: int
    kind: str


def _by_id(session: Session, model, ids: set) -> dict:
    ids = {i for i in ids if i is not None}
    return {row.id: row for row in session.exec(select(model).where(model.id.in_(ids))).all()} if ids else {}


def _event(kind: str, at: datetime, visit_id: int, alert_id: int | None, detail: str | None,
           latitude: float | None, longitude: float | None) -> dict:
    return {"at": at, "made_at": None, "visit_id": visit_id, "alert_id": alert_id, "actor_id": None, "kind": kind,
            "detail": detail, "latitude": latitude, "longitude": longitude}
