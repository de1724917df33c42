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

from sqlalchemy import case, distinct, func
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


def _active_plans(team_id: int, since: datetime, until: datetime):
    return (Plan.team_id == team_id, Plan.created_at < until, (Plan.closed_at.is_(None)) | (Plan.closed_at >= since))


def _overdue_plans(team_id: int, today: date):
    return (Plan.team_id == team_id, Plan.status == "open", Plan.review_due_on < today)


def _goals_at_exit(team_id: int, since: datetime, until: datetime):
    return (Plan.team_id == team_id, Plan.status == "closed", Plan.closed_at >= since, Plan.closed_at < until,
            PlanGoal.outcome.is_not(None))


def figures(session: Session, team_id: int, start: date, end: date, *, today: date, zone) -> Figures:
    """Six queries for the whole team, however many people and responses it has."""
    since, until = _moment(start, zone), _moment(end + timedelta(days=1), zone)
    active = session.exec(select(func.count(distinct(Plan.person_id))).where(*_active_plans(team_id, since, until))).one()
    overdue = session.exec(select(Plan.person_id, Person.name, Plan.review_due_on)
                           .join(Person, Person.id == Plan.person_id)
                           .where(*_overdue_plans(team_id, today)).order_by(Plan.review_due_on)).all()
    at_exit = {"achieved": 0, "partly": 0, "not_achieved": 0}
    for outcome, count in session.exec(select(PlanGoal.outcome, func.count()).join(Plan, Plan.id == PlanGoal.plan_id)
                                       .where(*_goals_at_exit(team_id, since, until)).group_by(PlanGoal.outcome)).all():
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
    series = _series(session, team_id, since, until)
    return [InstrumentFigures(key, instrument.name, len(series[key]),
                              *(sum(1 for s in series[key] if s.verdict == v) for v in (IMPROVED, NO_CHANGE, DETERIORATED)),
                              tuple(s.person_id for s in series[key] if s.verdict == IMPROVED))
            for key, instrument in _validated().items()]


def _validated():
    return {key: i for key, i in INSTRUMENTS.items() if i.reliable_change is not None}


@dataclass(frozen=True)
class Series:
    """One person's first and latest current score on one instrument in the range, and the verdict."""
    person_id: int
    first: int
    latest: int
    verdict: str


def _series(session: Session, team_id: int, since: datetime, until: datetime) -> dict[str, list[Series]]:
    """Each person's first and latest current score per instrument: the scores in the range come in
    series order (two queries, read as plain rows: this page counts thousands of them)."""
    validated = _validated()
    connection = session.connection()
    response = MeasureResponse.__table__.c
    corrected = set(connection.execute(sa_select(response.supersedes_id).where(
        response.team_id == team_id, response.supersedes_id.is_not(None))).scalars())
    rows = connection.execute(sa_select(response.id, response.person_id, response.instrument, response.total)
                              .where(response.team_id == team_id, response.taken_at >= since,
                                     response.taken_at < until, response.total.is_not(None),
                                     response.instrument.in_(list(validated)))
                              .order_by(response.person_id, response.instrument, response.taken_at, response.id))
    found: dict[str, list[Series]] = {key: [] for key in validated}
    series_of, first = None, None
    last, count = None, 0

    def close_series():
        if count >= 2:
            found[series_of[1]].append(Series(series_of[0], first, last,
                                              change(validated[series_of[1]], first, last)))

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
    return found


# ---- the records behind each figure ----

GOAL_FIGURES = {"goals_achieved": "achieved", "goals_partly": "partly", "goals_not_achieved": "not_achieved"}
VERDICT_FIGURES = {"improved": IMPROVED, "no_change": NO_CHANGE, "deteriorated": DETERIORATED}


@dataclass(frozen=True)
class Behind:
    """The records one figure counts: a row (person id, name, what about them) per thing counted."""
    group: str
    name: str
    rows: list[tuple[int, str, str]]


def behind(session: Session, team_id: int, figure: str, start: date, end: date, *, today: date, zone) -> Behind | None:
    """The people (or goals) behind `figure` (a key of `keyed_lines`), with the same conditions
    `figures` counts with, so the list has exactly as many rows as the figure says. None for a key
    that is no figure."""
    since, until = _moment(start, zone), _moment(end + timedelta(days=1), zone)
    titles = {key: (group, name) for key, group, name in _keys(list(_validated().items()))}
    if figure not in titles:
        return None
    group, name = titles[figure]
    if figure == "active_plans":
        rows = session.exec(select(Person.id, Person.name).where(
            Person.team_id == team_id, Person.id.in_(select(Plan.person_id).where(*_active_plans(team_id, since, until))))
            .order_by(Person.name, Person.id)).all()
        return Behind(group, name, [(pid, who, "") for pid, who in rows])
    if figure == "reviews_overdue":
        rows = session.exec(select(Person.id, Person.name, Plan.review_due_on).join(Plan, Plan.person_id == Person.id)
                            .where(Person.team_id == team_id, *_overdue_plans(team_id, today))
                            .order_by(Plan.review_due_on, Person.id)).all()
        return Behind(group, name, [(pid, who, f"review was due {due:%-d %b %Y}") for pid, who, due in rows])
    if figure in GOAL_FIGURES:
        rows = session.exec(select(Person.id, Person.name, PlanGoal.wants).join(Plan, Plan.id == PlanGoal.plan_id)
                            .join(Person, Person.id == Plan.person_id)
                            .where(Person.team_id == team_id, *_goals_at_exit(team_id, since, until),
                                   PlanGoal.outcome == GOAL_FIGURES[figure])
                            .order_by(Person.name, PlanGoal.id)).all()
        return Behind(group, name, [(pid, who, f"“{wants}”") for pid, who, wants in rows])
    key, _, part = figure.partition(".")
    series = [s for s in _series(session, team_id, since, until)[key]
              if part == "people" or s.verdict == VERDICT_FIGURES[part]]
    names = dict(session.exec(select(Person.id, Person.name).where(
        Person.team_id == team_id, Person.id.in_([s.person_id for s in series] or [-1]))).all())
    rows = sorted(((s.person_id, names[s.person_id], f"{s.first} then {s.latest}") for s in series
                   if s.person_id in names), key=lambda row: (row[1], row[0]))
    return Behind(group, name, rows)


def _keys(instruments: list[tuple[str, object]]):
    """(key, group, figure) for every figure, in the page's order."""
    out = [("active_plans", "Plans", "People with an active plan"),
           ("reviews_overdue", "Plans", "Reviews overdue today"),
           ("goals_achieved", "Goals at exit", "Achieved"),
           ("goals_partly", "Goals at exit", "Partly achieved"),
           ("goals_not_achieved", "Goals at exit", "Not achieved")]
    for key, instrument in instruments:
        out += [(f"{key}.people", instrument.name, "People with a first and a latest score"),
                (f"{key}.improved", instrument.name, "Reliable improvement"),
                (f"{key}.no_change", instrument.name, "No reliable change"),
                (f"{key}.deteriorated", instrument.name, "Reliable deterioration")]
    return out


def keyed_lines(found: Figures) -> list[tuple[str, str, str, int]]:
    """Every figure as (key, group, figure, value): the key names the records behind it (`behind`)."""
    values = {"active_plans": found.active_plans, "reviews_overdue": found.reviews_overdue,
              "goals_achieved": found.goals_at_exit["achieved"], "goals_partly": found.goals_at_exit["partly"],
              "goals_not_achieved": found.goals_at_exit["not_achieved"]}
    for figures_of in found.instruments:
        values.update({f"{figures_of.key}.people": figures_of.people, f"{figures_of.key}.improved": figures_of.improved,
                       f"{figures_of.key}.no_change": figures_of.no_change,
                       f"{figures_of.key}.deteriorated": figures_of.deteriorated})
    instruments = [(f.key, INSTRUMENTS[f.key]) for f in found.instruments]
    return [(key, group, name, values[key]) for key, group, name in _keys(instruments)]


def lines(found: Figures) -> list[tuple[str, str, int]]:
    """Every figure as (group, figure, value): the page's tables and the CSV are both drawn from this."""
    return [(group, name, value) for _, group, name, value in keyed_lines(found)]


def as_csv(found: Figures) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["from", "to", "group", "figure", "value"])
    for group, name, value in lines(found):
        writer.writerow([found.start.isoformat(), found.end.isoformat(), group, name, value])
    return buffer.getvalue()


instrument_figures = _instrument_figures  # the team figures count reliable improvement with it too
