"""The manager's figures: are the team's people better off? One function computes every figure
(the page and its CSV both show what it returns), from the records, for a date range.

- People with an active plan: plans open at some time in the range.
- Reviews overdue: open plans whose review date has passed (today, not the range: it is a to-do).
- Goals at exit: the outcome of each goal of the plans closed in the range.
- Per validated instrument: people with a first and a latest score in the range (two current, not
  declined, responses at least), and how many of them reliably improved, did not reliably change,
  or reliably deteriorated (the instrument's published threshold, `app.instruments.change`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from app.instruments import DETERIORATED, IMPROVED, INSTRUMENTS, NO_CHANGE, change
from app.models import MeasureResponse, Person, Plan, PlanGoal, RetainedPlan
from app.services import ValidationError

LONGEST_RANGE = timedelta(days=3660)


@dataclass(frozen=True)
class InstrumentFigures:
    key: str
    name: str
    people: int  # with a first and a latest score in the range
    improved: int
    no_change: int
    deteriorated: int
    improved_people: tuple[int, ...] = ()  # who reliably improved: the records behind `improved`


@dataclass
class Figures:
    start: date
    end: date
    active_plans: int
    reviews_overdue: int
    goals_at_exit: dict[str, int]  # achieved / partly / not_achieved
    instruments: list[InstrumentFigures] = field(default_factory=list)
    overdue_people: list[tuple[int, str, date]] = field(default_factory=list)  # the records behind the count


def date_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The range asked for, or the last 12 months; a range the wrong way round is refused."""
    end = end or today
    start = start or date(end.year - 1, end.month, min(end.day, 28))
    if start > end:
        raise ValidationError({"start": "The start must be on or before the end."})
    if end - start > LONGEST_RANGE:
        raise ValidationError({"start": "Choose at most ten years."})
    return start, end


def _moment(day: date, zone) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def figures(session: Session, team_id: int, start: date, end: date, *, today: date, zone) -> Figures:
    """Six queries for the whole team, however many people and responses it has."""
    since, until = _moment(start, zone), _moment(end + timedelta(days=1), zone)
    active = session.exec(select(func.count()).select_from(Plan).where(
        Plan.team_id == team_id, Plan.created_at < until,
        (Plan.closed_at.is_(None)) | (Plan.closed_at >= since))).one()
    overdue = session.exec(select(Plan.person_id, Person.name, Plan.review_due_on)
                           .join(Person, Person.id == Plan.person_id)
                           .where(Plan.team_id == team_id, Plan.status == "open", Plan.review_due_on < today)
                           .order_by(Plan.review_due_on)).all()
    at_exit = {"achieved": 0, "partly": 0, "not_achieved": 0}
    for outcome, count in session.exec(select(PlanGoal.outcome, func.count()).join(Plan, Plan.id == PlanGoal.plan_id)
                                       .where(Plan.team_id == team_id, Plan.status == "closed",
                                              Plan.closed_at >= since, Plan.closed_at < until,
                                              PlanGoal.outcome.is_not(None)).group_by(PlanGoal.outcome)).all():
        at_exit[outcome] = count
    active += _add_retained(session, team_id, since, until, at_exit)
    return Figures(start, end, active, len(overdue), at_exit, _instrument_figures(session, team_id, since, until),
                   [(person_id, name, due) for person_id, name, due in overdue])


def _add_retained(session: Session, team_id: int, since: datetime, until: datetime, at_exit: dict[str, int]) -> int:
    """Plans retention has deleted still count (kept without the person): one query. Answers how
    many were active in the range; adds their goals' outcomes at exit to `at_exit`."""
    was_active = (RetainedPlan.opened_at < until) & (RetainedPlan.closed_at.is_(None)
                                                     | (RetainedPlan.closed_at >= since))
    closed_in = (RetainedPlan.closed_at >= since) & (RetainedPlan.closed_at < until)
    ended = [func.coalesce(func.sum(case((closed_in, column), else_=0)), 0) for column in (
        RetainedPlan.goals_achieved, RetainedPlan.goals_partly, RetainedPlan.goals_not_achieved)]
    active, *ended = session.exec(select(func.count(case((was_active, 1))), *ended)
                                  .where(RetainedPlan.team_id == team_id)).one()
    for outcome, count in zip(("achieved", "partly", "not_achieved"), ended):
        at_exit[outcome] += count
    return active


def _instrument_figures(session: Session, team_id: int, since: datetime, until: datetime) -> list[InstrumentFigures]:
    """Each person's first and latest current score per instrument: the scores in the range come in
    series order (two queries, read as plain rows: this page counts thousands of them)."""
    validated = {key: i for key, i in INSTRUMENTS.items() if i.reliable_change is not None}
    connection = session.connection()
    response = MeasureResponse.__table__.c
    corrected = set(connection.execute(sa_select(response.supersedes_id).where(
        response.team_id == team_id, response.supersedes_id.is_not(None))).scalars())
    rows = connection.execute(sa_select(response.id, response.person_id, response.instrument, response.total)
                              .where(response.team_id == team_id, response.taken_at >= since,
                                     response.taken_at < until, response.total.is_not(None),
                                     response.instrument.in_(list(validated)))
                              .order_by(response.person_id, response.instrument, response.taken_at, response.id))
    verdicts: dict[str, list[str]] = {key: [] for key in validated}
    improved: dict[str, list[int]] = {key: [] for key in validated}
    series_of, first = None, None
    last, count = None, 0

    def close_series():
        if count >= 2:
            verdict = change(validated[series_of[1]], first, last)
            verdicts[series_of[1]].append(verdict)
            if verdict == IMPROVED:
                improved[series_of[1]].append(series_of[0])

    for response_id, person_id, key, total in rows.all():  # plain tuples: the fastest way to read them
        if response_id in corrected:
            continue
        if (person_id, key) != series_of:
            if series_of is not None:
                close_series()
            series_of, first, count = (person_id, key), total, 0
        last, count = total, count + 1
    if series_of is not None:
        close_series()
    return [InstrumentFigures(key, instrument.name, len(verdicts[key]), verdicts[key].count(IMPROVED),
                              verdicts[key].count(NO_CHANGE), verdicts[key].count(DETERIORATED), tuple(improved[key]))
            for key, instrument in validated.items()]


def lines(found: Figures) -> list[tuple[str, str, int]]:
    """Every figure as (group, figure, value): the page's tables and the CSV are both drawn from this."""
    out = [("Plans", "People with an active plan", found.active_plans),
           ("Plans", "Reviews overdue today", found.reviews_overdue),
           ("Goals at exit", "Achieved", found.goals_at_exit["achieved"]),
           ("Goals at exit", "Partly achieved", found.goals_at_exit["partly"]),
           ("Goals at exit", "Not achieved", found.goals_at_exit["not_achieved"])]
    for figures_of in found.instruments:
        out += [(figures_of.name, "People with a first and a latest score", figures_of.people),
                (figures_of.name, "Reliable improvement", figures_of.improved),
                (figures_of.name, "No reliable change", figures_of.no_change),
                (figures_of.name, "Reliable deterioration", figures_of.deteriorated)]
    return out


def as_csv(found: Figures) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["from", "to", "group", "figure", "value"])
    for group, name, value in lines(found):
        writer.writerow([found.start.isoformat(), found.end.isoformat(), group, name, value])
    return buffer.getvalue()


instrument_figures = _instrument_figures  # the team figures count reliable improvement with it too
