"""Team figures for a month, beside the month before. Each figure is one function's answer, checked
by the tests against a hand count; the page and its CSV are drawn from the same tables.

Definitions (a month is local midnight on the 1st to local midnight on the next 1st):
- New people: people added to the caseload in the month.
- Open cases by risk, and load by worker: as they stand now (not per month).
- Visits started: timed visits started in the month.
- Alerts by kind: alerts raised in the month.
- Time to acknowledge: from raised to the first acknowledgement, over the month's alerts that were
  acknowledged; median, and p90 by nearest rank (the smallest time at least 90 % of them took no
  longer than).
- Resolved as false alarms: of the month's alerts that are resolved, the share whose outcome was
  "worker safe — false alarm".
Once a month has ended the worker keeps its tables (a snapshot); the page shows those from then on.
"""
from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.models import Alert, FigureSnapshot, Person, Team, Visit
from app.services import people, safety, workload


@dataclass(frozen=True)
class Period:
    first_day: date
    starts_at: datetime
    ends_at: datetime

    @property
    def label(self) -> str:
        return f"{self.first_day:%B %Y}"

    @property
    def key(self) -> str:
        return f"{self.first_day:%Y-%m}"


def month(first_day: date, zone: ZoneInfo) -> Period:
    first_day = first_day.replace(day=1)
    following = date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
    start = datetime.combine(first_day, time()).replace(tzinfo=zone)
    end = datetime.combine(following, time()).replace(tzinfo=zone)
    return Period(first_day, start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC")))


def previous(period: Period, zone: ZoneInfo) -> Period:
    day = period.first_day
    return month(date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1), zone)


def parse_month(text: str | None, today: date) -> date | None:
    """"2026-11" -> its first day; nothing given: this month; anything else: None."""
    if not text:
        return today.replace(day=1)
    try:
        year, number = (int(part) for part in text.split("-"))
        return date(year, number, 1) if 2000 <= year <= 2199 else None
    except ValueError:
        return None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    summary: str


def _count(session, query) -> int:
    return session.exec(query).one()


def new_people(session: Session, team_id: int, period: Period) -> int:
    return _count(session, select(func.count()).select_from(Person).where(
        Person.team_id == team_id, Person.created_at >= period.starts_at, Person.created_at < period.ends_at))


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


def safety_table(session: Session, team_id: int, period: Period, before: Period) -> Table:
    now, then = alert_figures(session, team_id, period), alert_figures(session, team_id, before)
    rows = [["Visits started", visits_started(session, team_id, period), visits_started(session, team_id, before)]]
    rows += [[f"Alerts: {label}", now.by_kind.get(kind, 0), then.by_kind.get(kind, 0)]
             for kind, label in safety.KIND_LABELS.items()]
    rows += [["Median minutes to acknowledge", _minutes(now.median_ack_minutes), _minutes(then.median_ack_minutes)],
             ["p90 minutes to acknowledge", _minutes(now.p90_ack_minutes), _minutes(then.p90_ack_minutes)],
             ["Resolved as false alarms", _share(now.false_alarm_share), _share(then.false_alarm_share)]]
    alerts = sum(now.by_kind.values())
    return Table("safety", "Safety", ["Figure", period.label, before.label], rows,
                 f"{rows[0][1]} visits started and {alerts} alert{'s' if alerts != 1 else ''} raised in {period.label}.")


def caseload_table(session: Session, team_id: int, period: Period, before: Period) -> Table:
    open_by_risk = dict(session.exec(select(Person.risk_level, func.count()).where(
        Person.team_id == team_id, Person.status == "open").group_by(Person.risk_level)).all())
    rows = [["New people", new_people(session, team_id, period), new_people(session, team_id, before)]]
    rows += [[f"Open now: {label} risk", open_by_risk.get(level, 0), ""] for level, label in people.RISK_LABELS.items()]
    total = sum(open_by_risk.values())
    return Table("caseload", "Caseload", ["Figure", period.label, before.label], rows,
                 f"{rows[0][1]} new in {period.label}; {total} open now.")


def load_table(session: Session, team_id: int, now: datetime) -> Table:
    loads = workload.team_loads(session, team_id, now)
    rows = [[load.worker.name, load.people, load.points, f"{load.percent} %", workload.load_words(load.percent)[0]]
            for load in loads]
    over = sum(1 for load in loads if load.percent > 100)
    return Table("load", "Load by worker (now)", ["Worker", "Open people", "Points", "Load", "Capacity"], rows,
                 f"{over} of {len(loads)} over capacity now.")


def months_to(period: Period, zone: ZoneInfo, count: int = 12) -> list[Period]:
    """The `count` months ending with `period`, oldest first."""
    months = [period]
    while len(months) < count:
        months.insert(0, previous(months[0], zone))
    return months


def trend_table(session: Session, team_id: int, period: Period, zone: ZoneInfo) -> Table:
    """Visits started and alerts raised in each of the 12 months to `period` (one query each)."""
    months = months_to(period, zone)
    since, until = months[0].starts_at, months[-1].ends_at

    def per_month(model, column, team_column) -> list[int]:
        """Counted in the database: one row of twelve sums, not a year of rows."""
        sums = [func.coalesce(func.sum(case((and_(column >= m.starts_at, column < m.ends_at), 1), else_=0)), 0)
                for m in months]
        return [int(n) for n in session.exec(select(*sums).select_from(model).where(
            team_column == team_id, column >= since, column < until)).one()]

    visits = per_month(Visit, Visit.started_at, Visit.team_id)
    alerts = per_month(Alert, Alert.raised_at, Alert.team_id)
    rows = [[m.label, v, a] for m, v, a in zip(months, visits, alerts)]
    busiest = max(range(len(months)), key=lambda i: (visits[i], i))
    return Table("trend", "Safety: the last 12 months", ["Month", "Visits started", "Alerts raised"], rows,
                 f"{sum(visits)} visits started and {sum(alerts)} alerts raised in the 12 months to {period.label}; "
                 f"the most visits in {months[busiest].label} ({visits[busiest]}).")


def trend_chart(table: Table, months: list[Period]):
    from app.charts import Point, line_chart

    points = [Point(m.starts_at, row[1], m.label, f"{row[1]} visits") for m, row in zip(months, table.rows)]
    top = max([p.value for p in points] + [1])
    return line_chart(title="Visits started per month, last 12 months", points=points, y_min=0, y_max=top,
                      chart_id="trend-chart")


def month_tables(session: Session, team_id: int, period: Period, zone: ZoneInfo) -> list[Table]:
    """What a month-end snapshot keeps (load by worker is always as it stands now)."""
    before = previous(period, zone)
    return [caseload_table(session, team_id, period, before), safety_table(session, team_id, period, before),
            trend_table(session, team_id, period, zone)]


def snapshot_for(session: Session, team_id: int, period: Period) -> FigureSnapshot | None:
    return session.exec(select(FigureSnapshot).where(FigureSnapshot.team_id == team_id,
                                                     FigureSnapshot.month == period.key)).first()


def tables(session: Session, team_id: int, period: Period, zone: ZoneInfo, now: datetime
           ) -> tuple[list[Table], FigureSnapshot | None]:
    """The month's tables: from its snapshot once taken, else from the records as they are now."""
    snapshot = snapshot_for(session, team_id, period)
    kept = [Table(**t) for t in snapshot.tables] if snapshot else month_tables(session, team_id, period, zone)
    return [kept[0], load_table(session, team_id, now), *kept[1:]], snapshot


def take_snapshots(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """After a month ends: keep every team's figures for it, once (a second worker's try is a no-op)."""
    ended = previous(month(now.astimezone(zone).date(), zone), zone)
    taken = 0
    for team_id in session.exec(select(Team.id)).all():
        if snapshot_for(session, team_id, ended) is not None:
            continue
        kept = [t.__dict__ for t in month_tables(session, team_id, ended, zone)]
        try:
            with session.begin_nested():
                session.add(FigureSnapshot(team_id=team_id, month=ended.key, taken_at=now, tables=kept))
            taken += 1
        except IntegrityError:  # another worker took it first
            pass
    return taken


class SnapshotJob:
    """Worker job: snapshot the month that ended (checked every 10 minutes; one query when done)."""

    def __init__(self, zone: ZoneInfo, every: timedelta = timedelta(minutes=10)):
        self.zone, self.every, self.last_run = zone, every, None

    def __call__(self, engine, now: datetime) -> None:
        if self.last_run is not None and now - self.last_run < self.every:
            return
        self.last_run = now
        from app.db import unit_of_work

        with unit_of_work(engine) as session:
            take_snapshots(session, now, self.zone)


def _cell(value):
    """A spreadsheet must not run a name as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([[_cell(value) for value in row] for row in table.rows])
    return out.getvalue()
