"""Plan work falling due across a caseload: reviews due or overdue, and the measures a plan needs
(at its start, with each review and at exit). Plain functions of stored state and `today`, all
by the organisation's calendar days: a score taken at 00:30 in London in summer is that day's.

The scores that belong to a plan are those from a month before it began (its start score) to a
month after it closed (its exit score): `window` says which, for the exit summary as for what is due.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from app.db import built_once
from app.models import MeasureResponse, Person, Plan, PlanGoal, User
from app.services.plans import DUE_SOON, review_state

START_BEFORE = timedelta(days=30)  # a score this soon before a plan began is its start score
EXIT_AFTER = timedelta(days=30)  # a closed plan's exit measures stay due this long (the person may be hard to find)


def reviews_due(session: Session, viewer: User, today: date, *, mine_only: bool) -> list[tuple[Plan, Person, str]]:
    """Open plans whose review is due or overdue (soonest first), with their person."""
    rows = session.exec(_reviews_due(mine_only), params={
        "team_id": viewer.team_id, "viewer_id": viewer.id, "by": today + DUE_SOON}).all()
    return [(plan, person, review_state(plan, today)) for plan, person in rows]


@built_once
def _reviews_due(mine_only: bool):
    query = (select(Plan, Person).join(Person, Person.id == Plan.person_id)
             .where(Plan.team_id == bindparam("team_id"), Plan.status == "open", Plan.review_due_on <= bindparam("by"))
             .order_by(Plan.review_due_on))
    return (query.where(Person.key_worker_id == bindparam("viewer_id")) if mine_only else query).limit(50)


def window(plan: Plan) -> tuple[datetime, datetime | None]:
    """From when to when a score counts for this plan (None: still open)."""
    return plan.created_at - START_BEFORE, (plan.closed_at + EXIT_AFTER if plan.closed_at else None)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The organisation's calendar day of a stored UTC moment."""
    return _as_utc(moment).astimezone(zone).date()


def ending_on(plan: Plan, zone: ZoneInfo) -> date | None:
    return local_day(plan.closed_at, zone) if plan.closed_at else None


def why_due(plan: Plan, last_day: date | None, today: date, zone: ZoneInfo, *,
            closing_on: date | None = None) -> str | None:
    """Why one instrument is due for a plan, given the day it was last taken: "start", "review",
    "exit" or None. A plan is at exit once it is closed, or while it is being closed (`closing_on`):
    a score from the two weeks before closing counts, and one can be taken up to a month after."""
    ending = closing_on or ending_on(plan, zone)
    began = local_day(plan.created_at, zone)
    if ending is not None:
        if today > ending + EXIT_AFTER:
            return None
        # The exit score is a later one than the start's: a short plan's first score is not its last.
        return "exit" if last_day is None or last_day < ending - DUE_SOON or last_day <= began else None
    if last_day is None or last_day < began - START_BEFORE:
        return "start"
    if review_state(plan, today) and last_day < plan.review_due_on - DUE_SOON:
        return "review"
    return None


def instruments_in_use(plan: Plan, goals: list[PlanGoal], last_taken: dict[str, date], zone: ZoneInfo, *,
                       closing: bool = False) -> set[str]:
    """The instruments a plan's goals name (active and future ones while it runs); at exit also any
    the goals no longer need, and any taken during the plan (so the exit score has a start to go with)."""
    at_exit = closing or plan.status == "closed"
    kept = ("active", "future", "achieved") if at_exit else ("active", "future")
    keys = {g.measure for g in goals if g.measure and g.status in kept}
    if at_exit:
        since = local_day(window(plan)[0], zone)
        keys |= {key for key, day in last_taken.items() if day >= since}
    return keys


def due_for_plan(plan: Plan, goals: list[PlanGoal], last_taken: dict[str, date], today: date, zone: ZoneInfo, *,
                 closing_on: date | None = None) -> list[tuple[str, str]]:
    """(instrument key, why) for each measure due on this plan, from state already loaded."""
    found = []
    for key in sorted(instruments_in_use(plan, goals, last_taken, zone, closing=closing_on is not None)):
        why = why_due(plan, last_taken.get(key), today, zone, closing_on=closing_on)
        if why:
            found.append((key, why))
    return found


def last_taken(responses: list[MeasureResponse], zone: ZoneInfo) -> dict[str, date]:
    """The day each instrument was last taken (or declined), from a person's loaded responses."""
    found: dict[str, date] = {}
    for response in responses:
        day = local_day(response.taken_at, zone)
        found[response.instrument] = max(day, found.get(response.instrument, day))
    return found


@dataclass(frozen=True)
class DueMeasure:
    person: Person
    instrument: str  # the instrument's key
    why: str  # "start", "review" or "exit" (see why_due)


def measures_due(session: Session, viewer: User, today: date, zone: ZoneInfo) -> list[DueMeasure]:
    """Measures due for the people on the viewer's caseload with an open plan, or one closed in the
    last month (and no open one since). Three queries however long the caseload is."""
    closed_since = datetime.combine(today - EXIT_AFTER, time.min, zone).astimezone(UTC)
    rows = session.exec(_plans_with_measures(), params={
        "team_id": viewer.team_id, "viewer_id": viewer.id, "closed_since": closed_since}).all()
    found: list[tuple[Plan, Person]] = []
    for plan, person in rows:  # each person's open plan, else their latest closed one
        if not found or found[-1][1].id != person.id:
            found.append((plan, person))
    if not found:
        return []
    goals: dict[int, list[PlanGoal]] = {}
    for goal in session.exec(_measured_goals(), params={"plan_ids": [p.id for p, _ in found]}).all():
        goals.setdefault(goal.plan_id, []).append(goal)
    latest: dict[int, dict[str, date]] = {}
    for person_id, key, moment in session.exec(_last_taken_by_person(), params={
            "person_ids": [person.id for _, person in found], "team_id": viewer.team_id}).all():
        latest.setdefault(person_id, {})[key] = local_day(moment, zone)
    return [DueMeasure(person, key, why) for plan, person in found
            for key, why in due_for_plan(plan, goals.get(plan.id, []), latest.get(person.id, {}), today, zone)]


@built_once
def _plans_with_measures():
    return (select(Plan, Person).join(Person, Person.id == Plan.person_id)
            .where(Plan.team_id == bindparam("team_id"), Person.key_worker_id == bindparam("viewer_id"),
                   Person.status == "open", (Plan.status == "open") | (Plan.closed_at >= bindparam("closed_since")))
            .order_by(Person.id, (Plan.status == "open").desc(), Plan.id.desc()))


@built_once
def _measured_goals():
    return select(PlanGoal).where(PlanGoal.plan_id.in_(bindparam("plan_ids", expanding=True)),
                                  PlanGoal.measure.is_not(None))


@built_once
def _last_taken_by_person():
    return (select(MeasureResponse.person_id, MeasureResponse.instrument, func.max(MeasureResponse.taken_at))
            .where(MeasureResponse.person_id.in_(bindparam("person_ids", expanding=True)),
                   MeasureResponse.team_id == bindparam("team_id"))
            .group_by(MeasureResponse.person_id, MeasureResponse.instrument))


def _as_utc(moment: datetime) -> datetime:
    """max() over a UTC column comes back as the database's own value (naive text on SQLite)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
