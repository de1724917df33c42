"""Team figures for a month or a quarter, beside the period before, and 12-month trends. Each
figure is one function's answer, checked by the tests against a hand count; the page and its CSV
are drawn from the same tables. Safety figures are here; casework figures (caseload, contact,
appointments, referrals, plans) in services/casework_figures.py; definitions in the README.

Safety definitions (a period is local midnight on its first day to local midnight after its last):
- Visits started: timed visits started in the period.
- Home visits covered by a timer: of the period's home-visit appointments not cancelled, the ones
  whose worker started a visit for that person from an hour before to the end (services/home_visit_cover.py).
- Alerts by kind: alerts raised in the period.
- Time to acknowledge: from raised to the first acknowledgement, over the period's alerts that were
  acknowledged; median, and p90 by nearest rank (the smallest time at least 90 % of them took no
  longer than).
- Resolved as false alarms: of the period's alerts that are resolved, the share whose outcome was
  "worker safe — false alarm".
Once a month has ended the worker keeps its tables (a snapshot); the page shows those from then on.
A worker sees their own casework figures only (their people, their appointments), never a snapshot.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal_column, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.models import (Alert, Appointment, AppointmentOccurrence, Contact, FigureSnapshot, Person, Referral,
                        RetainedCount, Team, Visit)
from app.services import casework_figures as casework
from app.services import home_visit_cover, safety, workload
from app.services.casework_figures import Scope
from app.services.housekeeping import ThreadedJob
from app.services.figure_parts import (Period, Table, as_csv, following, month, months_to, parse,  # noqa: F401
                                       previous, quarter)


def _count(session, query) -> int:
    return session.exec(query).one()


def visits_started(session: Session, team_id: int, period: Period) -> int:
    return _count(session, select(func.count()).select_from(Visit).where(
        Visit.team_id == team_id, Visit.started_at >= period.starts_at, Visit.started_at < period.ends_at))


@dataclass
class AlertFigures:
    by_kind: dict[str, int]
    median_ack_minutes: float | None
    p90_ack_minutes: float | None
    resolved: int
    false_alarms: int

    @property
    def false_alarm_share(self) -> float | None:
        return self.false_alarms / self.resolved if self.resolved else None


def nearest_rank(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def alert_figures(session: Session, team_id: int, period: Period) -> AlertFigures:
    rows = session.exec(select(Alert.kind, Alert.raised_at, Alert.acknowledged_at, Alert.state, Alert.outcome).where(
        Alert.team_id == team_id, Alert.raised_at >= period.starts_at, Alert.raised_at < period.ends_at)).all()
    by_kind = {kind: 0 for kind in safety.KIND_LABELS}
    waits = []
    resolved = false_alarms = 0
    for kind, raised_at, acknowledged_at, state, outcome in rows:
        by_kind[kind] = by_kind.get(kind, 0) + 1
        if acknowledged_at is not None:
            waits.append((acknowledged_at - raised_at).total_seconds() / 60)
        if state == "resolved":
            resolved += 1
            false_alarms += outcome == "false_alarm"
    return AlertFigures(by_kind, statistics.median(waits) if waits else None, nearest_rank(waits, 0.9), resolved,
                        false_alarms)


def _minutes(value: float | None) -> str:
    return "none" if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    return "none" if value is None else f"{round(100 * value)} %"


def safety_table(session: Session, team_id: int, period: Period, before: Period, zone: ZoneInfo) -> Table:
    now, then = alert_figures(session, team_id, period), alert_figures(session, team_id, before)
    home = home_visit_cover.home_visits_by_period(session, team_id, [period, before], zone)
    rows = [["Visits started", visits_started(session, team_id, period), visits_started(session, team_id, before)],
            ["Home visits covered by a timer", *(home_visit_cover.cover_words(found) for found in home)],
            ["Home visits not covered by a timer", *(sum(1 for v in found if not v.covered) for found in home)]]
    rows += [[f"Alerts: {label}", now.by_kind.get(kind, 0), then.by_kind.get(kind, 0)]
             for kind, label in safety.KIND_LABELS.items()]
    rows += [["Median minutes to acknowledge", _minutes(now.median_ack_minutes), _minutes(then.median_ack_minutes)],
             ["p90 minutes to acknowledge", _minutes(now.p90_ack_minutes), _minutes(then.p90_ack_minutes)],
             ["Resolved as false alarms", _share(now.false_alarm_share), _share(then.false_alarm_share)]]
    alerts = sum(now.by_kind.values())
    return Table("safety", "Safety", ["Figure", period.label, before.label], rows,
                 f"{rows[0][1]} visits started and {alerts} alert{'s' if alerts != 1 else ''} raised in "
                 f"{period.label}; {rows[1][1]} covered by a timer.",
                 ["visits", "home_visits.covered", "home_visits.uncovered",
                  *(f"alerts.{kind}" for kind in safety.KIND_LABELS), None, None, None])


def load_table(session: Session, team_id: int, now: datetime, zone: ZoneInfo) -> Table:
    loads = workload.team_loads(session, team_id, now, zone)
    rows = [[load.worker.name, load.people, load.points, f"{load.percent} %", workload.load_words(load.percent)[0]]
            for load in loads]
    over = sum(1 for load in loads if load.percent > 100)
    return Table("load", "Load by worker (now)", ["Worker", "Open people", "Points", "Load", "Capacity"], rows,
                 f"{over} of {len(loads)} over capacity now.")


def _per_month(session, months: list[Period], query, column, conditions=(), local: bool = False) -> list[list[int]]:
    """Counted in the database, grouped by month (one CASE a row) and by which of the mutually
    exclusive `conditions` it meets; a list of counts per condition, a count per month. `local`:
    the column is wall-clock time (appointments)."""
    def bounds(m):
        return m.local_bounds if local else (m.starts_at, m.ends_at)
    since, until = bounds(months[0])[0], bounds(months[-1])[1]
    bucket = case(*[(and_(column >= bounds(m)[0], column < bounds(m)[1]), index) for index, m in enumerate(months)],
                  else_=-1)
    which = case(*[(condition, index) for index, condition in enumerate(conditions)], else_=-1) if conditions \
        else literal_column("0")
    # Grouped outside, by name: PostgreSQL would not match a CASE's parameters written out twice.
    rows = query.with_only_columns(bucket.label("m"), which.label("c")).where(column >= since, column < until) \
        .subquery()
    found = [[0] * len(months) for _ in (conditions or (None,))]
    for month_index, condition_index, count in session.execute(
            select(rows.c.m, rows.c.c, func.count()).group_by(rows.c.m, rows.c.c)).all():
        if month_index >= 0 and condition_index >= 0:
            found[condition_index][month_index] = count
    return found


def _by_month(session, scope: Scope, months: list[Period], key: str, live) -> list[list]:
    """A trend's rows, [month, *counts]: a month that has its snapshot as that snapshot counted it
    (its own row of the same trend: a past report does not change, and is not counted again),
    the others from `live(months)`, a list of counts per column. A worker's own: all live."""
    kept = {}
    if scope.worker_id is None:
        for month_key, tables in session.exec(select(FigureSnapshot.month, FigureSnapshot.tables).where(
                FigureSnapshot.team_id == scope.team_id, FigureSnapshot.month.in_([m.key for m in months]))).all():
            table = next((t for t in tables if t.get("key") == key and t.get("rows")), None)
            if table is not None and table["rows"][-1][0] == next(m.label for m in months if m.key == month_key):
                kept[month_key] = table["rows"][-1][1:]
    missing = [m for m in months if m.key not in kept]
    columns = live(missing) if missing else []
    counted = {m.key: [column[index] for column in columns] for index, m in enumerate(missing)}
    return [[m.label, *(kept[m.key] if m.key in kept else counted[m.key])] for m in months]


def trend_table(session: Session, team_id: int, period: Period, zone: ZoneInfo) -> Table:
    """Visits started and alerts raised in each of the 12 months to `period` (one query each)."""
    months = months_to(period, zone)

    def live(wanted):
        return [*_per_month(session, wanted, select(Visit.id).where(Visit.team_id == team_id), Visit.started_at),
                *_per_month(session, wanted, select(Alert.id).where(Alert.team_id == team_id), Alert.raised_at)]
    rows = _by_month(session, Scope(team_id), months, "trend", live)
    visits, alerts = [row[1] for row in rows], [row[2] for row in rows]
    busiest = max(range(len(months)), key=lambda i: (visits[i], i))
    return Table("trend", "Safety: the last 12 months", ["Month", "Visits started", "Alerts raised"], rows,
                 f"{sum(visits)} visits started and {sum(alerts)} alerts raised in the 12 months to {period.label}; "
                 f"the most visits in {months[busiest].label} ({visits[busiest]}).")


def casework_trend_table(session: Session, scope: Scope, period: Period, zone: ZoneInfo) -> Table:
    """New people, contacts logged and referrals sent in each of the 12 months (a worker: theirs)."""
    months = months_to(period, zone)
    new_people = select(Person.id).where(Person.team_id == scope.team_id)
    contacts = select(Contact.id).where(Contact.team_id == scope.team_id, Contact.deleted_at.is_(None))
    referrals = select(Referral.id).where(Referral.team_id == scope.team_id)
    if scope.worker_id:
        new_people = new_people.where(Person.key_worker_id == scope.worker_id)
        contacts = contacts.where(Contact.author_id == scope.worker_id)
        referrals = referrals.where(Referral.author_id == scope.worker_id)

    def live(wanted):
        added, = _per_month(session, wanted, new_people, Person.created_at)
        logged, = _per_month(session, wanted, contacts, Contact.happened_at)
        sent, = _per_month(session, wanted, referrals, Referral.sent_at)
        if scope.worker_id is None:  # what retention deleted still counts where it happened (team-wide counts)
            deleted = {(row.month, row.kind): row.count for row in session.exec(select(RetainedCount).where(
                RetainedCount.team_id == scope.team_id, RetainedCount.month.in_([m.first_day for m in wanted])))}
            logged = [n + deleted.get((m.first_day, "contacts"), 0) for n, m in zip(logged, wanted)]
            sent = [n + deleted.get((m.first_day, "referrals"), 0) for n, m in zip(sent, wanted)]
        return [added, logged, sent]
    rows = _by_month(session, scope, months, "casework_trend", live)
    added, logged, sent = ([row[i] for row in rows] for i in (1, 2, 3))
    return Table("casework_trend", "Casework: the last 12 months",
                 ["Month", "New people", "Contacts logged", "Referrals sent"], rows,
                 f"{sum(logged)} contacts logged, {sum(added)} people added and {sum(sent)} referrals sent in the 12 "
                 f"months to {months[-1].label}; {_change(logged)}.")


def appointments_trend_table(session: Session, scope: Scope, period: Period, zone: ZoneInfo) -> Table:
    months = months_to(period, zone)
    start = func.coalesce(AppointmentOccurrence.starts_local, AppointmentOccurrence.original_local)
    query = (select(AppointmentOccurrence.id).join(Appointment, Appointment.id == AppointmentOccurrence.appointment_id)
             .where(Appointment.team_id == scope.team_id))
    if scope.worker_id:
        query = query.where(Appointment.worker_id == scope.worker_id)
    held = AppointmentOccurrence.cancelled.is_(False)

    def live(wanted):
        return _per_month(session, wanted, query, start, (
            and_(held, AppointmentOccurrence.outcome == "attended"),
            and_(held, AppointmentOccurrence.outcome == "did_not_attend"),
            or_(AppointmentOccurrence.cancelled.is_(True), AppointmentOccurrence.outcome.in_(casework.CANCELLED))),
            local=True)
    rows = _by_month(session, scope, months, "appointments_trend", live)
    kept, missed = [row[1] for row in rows], [row[2] for row in rows]
    offered = sum(kept) + sum(missed)
    return Table("appointments_trend", "Appointments: the last 12 months",
                 ["Month", "Kept", "Did not attend", "Cancelled"], rows,
                 f"{sum(kept)} appointments kept and {sum(missed)} not attended in the 12 months to {months[-1].label}"
                 f" ({round(100 * sum(kept) / offered) if offered else 0} % kept); {_change(kept, 'kept')}.")


def _change(values: list[int], what: str = "logged") -> str:
    """The latest month against the average of the eleven before it, in words."""
    earlier = values[:-1]
    average = sum(earlier) / len(earlier) if earlier else 0
    if values[-1] > average * 1.1:
        return f"more {what} in the latest month ({values[-1]}) than the monthly average before it ({average:.0f})"
    if values[-1] < average * 0.9:
        return f"fewer {what} in the latest month ({values[-1]}) than the monthly average before it ({average:.0f})"
    return f"about as many {what} in the latest month ({values[-1]}) as the monthly average before it ({average:.0f})"


TRENDS = {  # the table a chart draws, the column it draws, and what the column counts
    "trend": (1, "Visits started per month, last 12 months", "visits"),
    "casework_trend": (2, "Contacts logged per month, last 12 months", "contacts"),
    "appointments_trend": (1, "Appointments kept per month, last 12 months", "kept"),
}


def charts(tables: list[Table], period: Period, zone: ZoneInfo) -> dict:
    from app.charts import Point, line_chart

    months, drawn = months_to(period, zone), {}
    for table in tables:
        if table.key not in TRENDS:
            continue
        column, title, unit = TRENDS[table.key]
        points = [Point(m.starts_at, row[column], m.label, f"{row[column]} {unit}")
                  for m, row in zip(months, table.rows)]
        drawn[table.key] = line_chart(title=title, points=points, y_min=0, y_max=max([p.value for p in points] + [1]),
                                      chart_id=f"{table.key}-chart")
    return drawn


def period_tables(session: Session, scope: Scope, period: Period, zone: ZoneInfo, now: datetime) -> list[Table]:
    """Every table for the period worked out from the records as they are now. A worker's scope:
    their caseload, contact and appointments only. Load by worker is left to `tables` (always now)."""
    before = previous(period, zone)
    casework_tables = [casework.caseload_table(session, scope, period, before, zone)]
    if scope.worker_id is None:
        casework_tables.append(casework.by_worker_table(session, scope, period, zone))
    casework_tables += [casework.contact_table(session, scope, period, before, now),
                        casework.appointments_table(session, scope, period, before)]
    trends = [casework_trend_table(session, scope, period, zone),
              appointments_trend_table(session, scope, period, zone)]
    if scope.worker_id is not None:
        return casework_tables + trends
    return [*casework_tables, casework.referrals_table(session, scope, period, before, zone),
            casework.plans_table(session, scope, period, before, zone),
            safety_table(session, scope.team_id, period, before, zone), *trends,
            trend_table(session, scope.team_id, period, zone)]


def snapshot_for(session: Session, team_id: int, period: Period) -> FigureSnapshot | None:
    if period.is_quarter:
        return None  # months are kept; a quarter is worked out from the records
    return session.exec(select(FigureSnapshot).where(FigureSnapshot.team_id == team_id,
                                                     FigureSnapshot.month == period.key)).first()


def tables(session: Session, scope: Scope, period: Period, zone: ZoneInfo, now: datetime
           ) -> tuple[list[Table], FigureSnapshot | None]:
    """The period's tables: a team's month from its snapshot once taken, else from the records as
    they are now; a team's load by worker is always as it stands now."""
    snapshot = snapshot_for(session, scope.team_id, period) if scope.worker_id is None else None
    kept = [Table(**t) for t in snapshot.tables] if snapshot else period_tables(session, scope, period, zone, now)
    if scope.worker_id is not None:
        return kept, None
    return [kept[0], load_table(session, scope.team_id, now, zone), *kept[1:]], snapshot


def take_snapshots(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """After a month ends: keep every team's figures for it, once (a second worker's try is a no-op)."""
    ended = previous(month(now.astimezone(zone).date(), zone), zone)
    taken = 0
    for team_id in session.exec(select(Team.id)).all():
        if snapshot_for(session, team_id, ended) is not None:
            continue
        kept = [t.__dict__ for t in period_tables(session, Scope(team_id), ended, zone, now)]
        try:
            with session.begin_nested():
                session.add(FigureSnapshot(team_id=team_id, month=ended.key, taken_at=now, tables=kept))
            taken += 1
        except IntegrityError:  # another worker took it first
            pass
    return taken


class SnapshotJob(ThreadedJob):
    """Worker job: snapshot the month that ended, in a thread of its own (the safety loop never waits
    for a month's figures); checked every 10 minutes, one query a team once done."""
    name = "figure snapshots"

    def __init__(self, zone: ZoneInfo, every: timedelta = timedelta(minutes=10)):
        super().__init__(every)
        self.zone = zone

    def work(self, session: Session, now: datetime) -> None:
        take_snapshots(session, now, self.zone)
        session.commit()
