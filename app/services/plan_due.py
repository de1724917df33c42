"""Plan work falling due across a caseload: reviews due or overdue, and the measures a plan needs
(at its start and with each review). Plain functions of stored state and `today`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import MeasureResponse, Person, Plan, PlanGoal, User
from app.services.plans import DUE_SOON, review_state


def reviews_due(session: Session, viewer: User, today: date, *, mine_only: bool) -> list[tuple[Plan, Person, str]]:
    """Open plans whose review is due or overdue (soonest first), with their person."""
    query = (select(Plan, Person).join(Person, Person.id == Plan.person_id)
             .where(Plan.team_id == viewer.team_id, Plan.status == "open", Plan.review_due_on <= today + DUE_SOON)
             .order_by(Plan.review_due_on))
    if mine_only:
        query = query.where(Person.key_worker_id == viewer.id)
    return [(plan, person, review_state(plan, today)) for plan, person in session.exec(query.limit(50)).all()]


@dataclass(frozen=True)
class DueMeasure:
    person: Person
    instrument: str  # the instrument's key
    why: str  # "start" (no score since the plan began) or "review" (none since the review fell due)


def measures_due(session: Session, viewer: User, today: date, *, since_plan: timedelta = timedelta(days=30)
                 ) -> list[DueMeasure]:
    """Measures due for the people on the viewer's caseload with an open plan: each instrument a goal
    names falls due at the start (none taken since a month before the plan began) and with each
    review (none since two weeks before it fell due). Three queries however long the caseload is."""
    found = session.exec(select(Plan, Person).join(Person, Person.id == Plan.person_id)
                         .where(Plan.team_id == viewer.team_id, Plan.status == "open",
                                Person.key_worker_id == viewer.id, Person.status == "open")).all()
    if not found:
        return []
    plan_ids = [plan.id for plan, _ in found]
    wanted: dict[int, list[str]] = {}
    for plan_id, key in session.exec(select(PlanGoal.plan_id, PlanGoal.measure).where(
            PlanGoal.plan_id.in_(plan_ids), PlanGoal.measure.is_not(None),
            PlanGoal.status.in_(("active", "future"))).distinct()).all():
        wanted.setdefault(plan_id, []).append(key)
    latest = {(person_id, key): moment for person_id, key, moment in session.exec(
        select(MeasureResponse.person_id, MeasureResponse.instrument, func.max(MeasureResponse.taken_at))
        .where(MeasureResponse.person_id.in_([person.id for _, person in found]),
               MeasureResponse.team_id == viewer.team_id)
        .group_by(MeasureResponse.person_id, MeasureResponse.instrument)).all()}
    due = []
    for plan, person in found:
        for key in sorted(set(wanted.get(plan.id, []))):
            last = latest.get((person.id, key))
            last_day = _as_utc(last).date() if last else None
            if last_day is None or last_day < plan.created_at.date() - since_plan:
                due.append(DueMeasure(person, key, "start"))
            elif review_state(plan, today) and last_day < plan.review_due_on - DUE_SOON:
                due.append(DueMeasure(person, key, "review"))
    return due


def _as_utc(moment: datetime) -> datetime:
    """max() over a UTC column comes back as the database's own value (naive text on SQLite)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
