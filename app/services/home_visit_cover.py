"""Home visits covered by a timer: of a period's home-visit appointments (occurrences, not
cancelled), the ones whose worker started a visit timer for that same person between an hour before
the start and its end. Uncovered home visits are the lone-working a supervisor cannot see.

A bounded number of queries whatever the team's size: the period's home-visit series, their changed
occurrences, the team's visits in the window, and the names.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlmodel import Session, select

from app.models import Appointment, Person, User, Visit
from app.services import appointments
from app.services.figure_parts import Period

KIND = "home_visit"
EARLY = timedelta(minutes=60)  # a timer started up to an hour before the appointment covers it
CANCELLED = ("cancelled_by_person", "cancelled_by_us")
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class HomeVisit:
    person_id: int
    name: str
    worker: str
    starts_local: datetime
    covered: bool


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def home_visits(session: Session, team_id: int, period: Period, zone: ZoneInfo,
                worker_id: int | None = None) -> list[HomeVisit]:
    """The period's home visits (by their start, as moved, local time) in time order, each covered or not."""
    return home_visits_by_period(session, team_id, [period], zone, worker_id)[0]


def home_visits_by_period(session: Session, team_id: int, periods: list[Period], zone: ZoneInfo,
                          worker_id: int | None = None) -> list[list[HomeVisit]]:
    """`home_visits` for each of these periods, read once over the time they span."""
    window = (min(p.local_bounds[0] for p in periods), max(p.local_bounds[1] for p in periods))
    found = _home_visits(session, team_id, window, zone, worker_id)
    return [[v for v in found if low <= v.starts_local < high] for low, high in (p.local_bounds for p in periods)]


def _home_visits(session: Session, team_id: int, window: tuple[datetime, datetime], zone: ZoneInfo,
                 worker_id: int | None) -> list[HomeVisit]:
    series = [s for s in appointments.series_for_team(session, team_id, window, KIND)
              if worker_id is None or s.worker_id == worker_id]
    held = [o for o in appointments.occurrences(session, series, *window, zone)
            if not o.cancelled and o.outcome not in CANCELLED]
    if not held:
        return []
    timers: dict[tuple[int, int], list[datetime]] = {}
    visited = sorted({o.appointment.person_id for o in held})
    # Only the timers of a home visit series' worker with that series' person: a team's visits over
    # a quarter are thousands, those that could cover a home visit a few hundred. (Joined to the
    # series by id: a (worker, person) IN list is slow on PostgreSQL, a join to the series'
    # conditions slow on SQLite.)
    pairs = (select(Appointment.worker_id, Appointment.person_id)
             .where(Appointment.id.in_(sorted({o.appointment.id for o in held}))).distinct().subquery())
    for visit_worker, person_id, started_at in session.exec(
            select(Visit.worker_id, Visit.person_id, Visit.started_at)
            .join(pairs, and_(pairs.c.worker_id == Visit.worker_id, pairs.c.person_id == Visit.person_id))
            .where(Visit.team_id == team_id, Visit.started_at >= min(o.starts_at for o in held) - EARLY,
                   Visit.started_at <= max(o.ends_at for o in held))).all():
        timers.setdefault((visit_worker, person_id), []).append(_aware(started_at))
    names = dict(session.exec(select(Person.id, Person.name).where(Person.id.in_(visited))).all())
    workers = dict(session.exec(select(User.id, User.name).where(
        User.id.in_({o.appointment.worker_id for o in held}))).all())
    found = []
    for occurrence in held:
        series_of = occurrence.appointment
        started = timers.get((series_of.worker_id, series_of.person_id), [])
        covered = any(occurrence.starts_at - EARLY <= moment <= occurrence.ends_at for moment in started)
        found.append(HomeVisit(series_of.person_id, names.get(series_of.person_id, ""),
                               workers.get(series_of.worker_id, ""), occurrence.starts_local, covered))
    return found


def cover_words(found: list[HomeVisit]) -> str:
    """"N of M home visits (P %)"."""
    covered = sum(1 for visit in found if visit.covered)
    share = f" ({round(100 * covered / len(found))} %)" if found else ""
    return f"{covered} of {len(found)} home visits{share}"
