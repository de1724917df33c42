"""The duty rota: who is duty supervisor at a moment, for any number of teams in two queries.

Who is on duty for a team at a moment (`on_duty`, a pure function of the stored rota):
1. a one-off change covering the moment (the latest entered, when two overlap); else
2. a weekly shift covering it in its own wall-clock time (the latest to start, when two overlap);
3. else no shift covers now: the team's fallback duty supervisor (Team.duty_supervisor_id), and the
   board warns. With no fallback either, level 1 goes to every supervisor of the team, so an alert
   always reaches someone.
A shift or change whose supervisor is no longer an active supervisor of the team is passed over.

The alarm path reads this twice: `raise_alert` stores the answer on the alert
(Alert.duty_supervisor_id, read by the ladder), and the worker's tick hands alerts still open at a
shift change to the next duty supervisor (`handover_open_alerts`, app/services/rota_handover.py),
which costs one query when no alert is open.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.models import RotaChange, RotaShift, Team, User
from app.services import ValidationError, leave
from app.services.access import NotFound
from app.services.periodic import Periodic

if TYPE_CHECKING:  # for annotations only; gap_notices imports it when it runs
    from app.services.delivery import Message

DAY_MINUTES = 24 * 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Cover:
    supervisor_id: int | None
    source: str  # "change" | "shift" | "fallback"

    @property
    def covered(self) -> bool:
        return self.source != "fallback"


@dataclass
class TeamRota:
    fallback_id: int | None
    shifts: list[RotaShift] = field(default_factory=list)
    changes: list[RotaChange] = field(default_factory=list)


def shift_length(shift: RotaShift) -> int:
    """Minutes; an end at or before the start runs into the next day (equal: 24 hours)."""
    return (shift.ends_minute - shift.starts_minute) % DAY_MINUTES or DAY_MINUTES


def _wall(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """`minutes` past midnight of `day`, on the wall clock of `zone`."""
    return (datetime.combine(day, time()) + timedelta(minutes=minutes)).replace(tzinfo=zone)


def shift_start_covering(shift: RotaShift, at: datetime) -> datetime | None:
    """When the occurrence of this weekly shift that covers `at` began (None: it doesn't cover it)."""
    zone = _zone(shift.zone)
    local = at.astimezone(zone)
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    end = shift.starts_minute + shift_length(shift)
    if local.weekday() == shift.weekday and shift.starts_minute <= minute < end:
        return _wall(local.date(), shift.starts_minute, zone)
    if (local.weekday() - 1) % 7 == shift.weekday and minute + DAY_MINUTES < end:
        return _wall(local.date() - timedelta(days=1), shift.starts_minute, zone)
    return None


def on_duty(rota: TeamRota, at: datetime) -> Cover:
    changes = [c for c in rota.changes if c.starts_at <= at < c.ends_at]
    if changes:
        return Cover(max(changes, key=lambda c: (c.created_at, c.id)).supervisor_id, "change")
    started = [(start, shift.id, shift) for shift in rota.shifts if (start := shift_start_covering(shift, at))]
    if started:
        return Cover(max(started, key=lambda s: (s[0], s[1]))[2].supervisor_id, "shift")
    return Cover(rota.fallback_id, "fallback")


@dataclass(frozen=True)
class Shift:
    """What the rules read of a weekly shift (a RotaShift row reads the same)."""
    id: int
    supervisor_id: int
    weekday: int
    starts_minute: int
    ends_minute: int
    zone: str


@dataclass(frozen=True)
class Change:
    id: int
    supervisor_id: int
    starts_at: datetime
    ends_at: datetime
    created_at: datetime


def _eligible(person, team_id, supervisor_id):
    """Join condition: the rota's supervisor is still an active supervisor of the team."""
    return and_(person.id == supervisor_id, person.team_id == team_id, person.active, person.role == "supervisor")


# Built once: the alarm path asks for every alert it raises, and building a statement with aliases
# costs several times more than running it.
_ON_ROTA, _CHANGER = aliased(User), aliased(User)
_TEAMS_AND_SHIFTS = (
    # Outer joins: a team with no rota still has its fallback.
    select(Team.id, Team.duty_supervisor_id, _ON_ROTA.id, RotaShift.id, RotaShift.supervisor_id, RotaShift.weekday,
           RotaShift.starts_minute, RotaShift.ends_minute, RotaShift.zone)
    .outerjoin(RotaShift, and_(RotaShift.team_id == Team.id, RotaShift.removed_at.is_(None)))
    .outerjoin(_ON_ROTA, _eligible(_ON_ROTA, Team.id, RotaShift.supervisor_id))
    .where(Team.id.in_(bindparam("team_ids", expanding=True)))
)
_CHANGES = (
    select(RotaChange.team_id, RotaChange.id, RotaChange.supervisor_id, RotaChange.starts_at, RotaChange.ends_at,
           RotaChange.created_at)
    .join(_CHANGER, _eligible(_CHANGER, RotaChange.team_id, RotaChange.supervisor_id))
    .where(RotaChange.team_id.in_(bindparam("team_ids", expanding=True)), RotaChange.removed_at.is_(None),
           RotaChange.ends_at > bindparam("since"), RotaChange.starts_at < bindparam("until"))
)


def rotas(session: Session, team_ids, since: datetime, until: datetime) -> dict[int, TeamRota]:
    """Each team's fallback, weekly shifts and the one-off changes overlapping [since, until):
    two queries however many teams."""
    ids = sorted(set(team_ids))
    if not ids:
        return {}
    found: dict[int, TeamRota] = {}
    connection = session.connection()  # Core: the ORM's per-statement work is most of the cost here
    for team_id, fallback_id, eligible, *shift in connection.execute(_TEAMS_AND_SHIFTS, {"team_ids": ids}):
        rota = found.setdefault(team_id, TeamRota(fallback_id))
        if shift[0] is not None and eligible is not None:
            rota.shifts.append(Shift(*shift))
    for team_id, *change in connection.execute(_CHANGES, {"team_ids": ids, "since": since, "until": until}):
        found[team_id].changes.append(Change(*change))
    return found


def covers(session: Session, team_ids, at: datetime) -> dict[int, Cover]:
    return {team_id: on_duty(rota, at)
            for team_id, rota in rotas(session, team_ids, at, at + timedelta(microseconds=1)).items()}


def duty_supervisor_ids(session: Session, team_ids, at: datetime) -> dict[int, int | None]:
    """Who is duty supervisor at `at` for each team (whoever stands in while the rota's one is on
    leave). At most three queries however many teams, and none for a team already asked about in
    the same database transaction and moment (a batch of alerts raised together shares one `now`)."""
    memo = session.info.setdefault("fieldline.duty_at", {})
    wanted = set(team_ids)
    missing = [team_id for team_id in wanted if (team_id, at) not in memo]
    if missing:
        on_duty = {team_id: cover.supervisor_id for team_id, cover in covers(session, missing, at).items()}
        away = leave.stand_in_ids(session, set(on_duty.values()), at)
        memo.update({(team_id, at): away.get(person, person) for team_id, person in on_duty.items()})
    return {team_id: memo[(team_id, at)] for team_id in wanted if (team_id, at) in memo}


# ---- cover over a period: the rota page, and gaps in the next 7 days ----

@dataclass(frozen=True)
class Segment:
    starts_at: datetime
    ends_at: datetime
    cover: Cover


def segments(rota: TeamRota, since: datetime, until: datetime) -> list[Segment]:
    """Who is on duty over [since, until), as runs of the same cover."""
    moments = {since, until}
    for shift in rota.shifts:
        zone = _zone(shift.zone)
        first = since.astimezone(zone).date() - timedelta(days=1)
        for offset in range((until - since).days + 3):
            day = first + timedelta(days=offset)
            if day.weekday() == shift.weekday:
                for minute in (shift.starts_minute, shift.starts_minute + shift_length(shift)):
                    moments.add(_wall(day, minute, zone).astimezone(since.tzinfo))
    for change in rota.changes:
        moments.update((change.starts_at, change.ends_at))
    edges = sorted(m for m in moments if since <= m <= until)
    runs: list[Segment] = []
    for start, end in zip(edges, edges[1:]):
        cover = on_duty(rota, start)
        if runs and runs[-1].cover == cover and runs[-1].ends_at == start:
            runs[-1] = Segment(runs[-1].starts_at, end, cover)
        else:
            runs.append(Segment(start, end, cover))
    return runs


def gaps(session: Session, team_id: int, since: datetime, until: datetime) -> list[Segment]:
    """Times in [since, until) that no shift or change covers (the fallback has them), for a team
    that keeps a rota (a team without one simply uses its duty supervisor, as it always has)."""
    return _uncovered(rotas(session, [team_id], since, until).get(team_id), since, until)


def _uncovered(rota: TeamRota | None, since: datetime, until: datetime) -> list[Segment]:
    if rota is None or not (rota.shifts or rota.changes):
        return []
    return [s for s in segments(rota, since, until) if not s.cover.covered]


GAP_DAYS = 7


@dataclass(frozen=True)
class CoverAhead:
    """What the board says of the rota: a warning when no shift covers now, and the gaps in cover
    over the next GAP_DAYS (who has them: the fallback, by name, or None for every supervisor)."""
    warning: str | None
    gaps: list[Segment]
    fallback_name: str | None


def cover_ahead(session: Session, team: Team, now: datetime, days: int = GAP_DAYS) -> CoverAhead:
    """The warning and the week's gaps from one read of the rota (its two queries, and the fallback's
    name only when there is a gap): the board asks every few seconds."""
    # A team keeps a rota when it has weekly shifts or a change in the coming week (a team without
    # one simply uses its duty supervisor, as it always has: no warning, no gaps).
    until = now + timedelta(days=days)
    found = _uncovered(rotas(session, [team.id], now, until).get(team.id), now, until)
    if not found:
        return CoverAhead(None, [], None)
    fallback = session.get(User, team.duty_supervisor_id) if team.duty_supervisor_id else None
    name = fallback.name if fallback is not None and fallback.active and fallback.team_id == team.id else None
    warning = None
    if found[0].starts_at <= now:  # the first run starts at `now`: nothing covers now
        warning = (f"No shift on the rota covers now: alerts go to the fallback duty supervisor, {name}." if name
                   else "No shift on the rota covers now, and there is no fallback: alerts go to every supervisor.")
    return CoverAhead(warning, found, name)


def uncovered_warning(session: Session, team: Team, now: datetime) -> str | None:
    """What the board says when the team keeps a rota and no shift on it covers now."""
    return cover_ahead(session, team, now).warning


def teams_keeping_a_rota(session: Session, now: datetime) -> set[int]:
    with_shifts = select(RotaShift.team_id).where(RotaShift.removed_at.is_(None)).distinct()
    with_changes = select(RotaChange.team_id).where(RotaChange.removed_at.is_(None), RotaChange.ends_at > now).distinct()
    return set(session.exec(with_shifts).all()) | set(session.exec(with_changes).all())


NOTICE_AHEAD = timedelta(days=1)


def gap_notices(session: Session, now: datetime, zone: ZoneInfo) -> list[tuple[Message, User]]:
    """The day before a gap in cover begins: a message to each of the team's supervisors (the
    event_ref names the gap's start, so each gap is told once however often this runs)."""
    from app.services.delivery import Message
    from app.services.safety import team_supervisors

    notices = []
    for team_id, team_rota in rotas(session, teams_keeping_a_rota(session, now), now, now + NOTICE_AHEAD).items():
        for gap in segments(team_rota, now, now + NOTICE_AHEAD):
            if gap.cover.covered or gap.starts_at <= now:  # one already begun was told the day before
                continue
            message = Message(kind="reminder", event_ref=f"rota-gap:{team_id}:{int(gap.starts_at.timestamp())}",
                              title="Gap in the duty rota",
                              body=f"From {gap.starts_at.astimezone(zone):%a %-d %b %H:%M} no shift covers: "
                                   "open the rota to fill it.", url="/rota")
            notices.extend((message, person) for person in team_supervisors(session, team_id))
    return notices


class GapNoticeJob(Periodic):
    """Worker job: tell supervisors of tomorrow's gaps in cover (every 10 minutes is plenty)."""

    def __init__(self, zone: ZoneInfo, every: timedelta = timedelta(minutes=10)):
        super().__init__(every)
        self.zone = zone

    def __call__(self, engine, now: datetime) -> None:
        if not self.due(now):
            return
        from app.db import unit_of_work
        from app.services import delivery

        with unit_of_work(engine) as session:
            for message, person in gap_notices(session, now, self.zone):
                delivery.enqueue(session, message, person, now=now)


# ---- reading and editing the rota (supervisors edit; everyone in the team reads) ----

MAX_CHANGE = timedelta(days=31)


def minute_label(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def team_shifts(session: Session, team_id: int) -> list[RotaShift]:
    return list(session.exec(select(RotaShift).where(RotaShift.team_id == team_id, RotaShift.removed_at.is_(None))
                             .order_by(RotaShift.weekday, RotaShift.starts_minute, RotaShift.id)).all())


def coming_changes(session: Session, team_id: int, now: datetime) -> list[RotaChange]:
    return list(session.exec(select(RotaChange).where(RotaChange.team_id == team_id, RotaChange.removed_at.is_(None),
                                                      RotaChange.ends_at > now)
                             .order_by(RotaChange.starts_at, RotaChange.id)).all())


def _supervisor(session: Session, team: Team, supervisor_id: int | None) -> User:
    person = session.get(User, supervisor_id) if supervisor_id else None
    if person is None or not person.active or person.team_id != team.id or person.role != "supervisor":
        raise ValidationError({"supervisor_id": "Choose a supervisor of this team."})
    return person


def add_shifts(session: Session, team: Team, actor: User, *, supervisor_id: int | None, weekdays: list[int],
               starts: time | None, ends: time | None, zone: str, now: datetime) -> list[RotaShift]:
    """The same shift on each chosen weekday (an end at or before the start runs past midnight)."""
    errors = {}
    try:
        _supervisor(session, team, supervisor_id)
    except ValidationError as error:
        errors.update(error.errors)
    if not weekdays or any(day not in range(7) for day in weekdays):
        errors["weekdays"] = "Choose at least one day."
    if starts is None:
        errors["starts"] = "Enter when the shift starts, like 09:00."
    if ends is None:
        errors["ends"] = "Enter when the shift ends, like 17:00."
    if errors:
        raise ValidationError(errors)
    shifts = [RotaShift(team_id=team.id, supervisor_id=supervisor_id, weekday=day,
                        starts_minute=starts.hour * 60 + starts.minute, ends_minute=ends.hour * 60 + ends.minute,
                        zone=zone, created_at=now, created_by_id=actor.id) for day in sorted(set(weekdays))]
    session.add_all(shifts)
    session.flush()
    return shifts


def add_change(session: Session, team: Team, actor: User, *, supervisor_id: int | None, starts_at: datetime | None,
               ends_at: datetime | None, now: datetime) -> RotaChange:
    errors = {}
    try:
        _supervisor(session, team, supervisor_id)
    except ValidationError as error:
        errors.update(error.errors)
    if starts_at is None:
        errors["starts_at"] = "Enter when the change starts."
    if ends_at is None:
        errors["ends_at"] = "Enter when the change ends."
    elif ends_at <= now:
        errors["ends_at"] = "That is in the past: enter a time still to come."
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "End after the start."
    elif starts_at is not None and ends_at - starts_at > MAX_CHANGE:
        errors["ends_at"] = "Keep a one-off change to 31 days at most; change the weekly shifts instead."
    if errors:
        raise ValidationError(errors)
    change = RotaChange(team_id=team.id, supervisor_id=supervisor_id, starts_at=starts_at, ends_at=ends_at,
                        created_at=now, created_by_id=actor.id)
    session.add(change)
    session.flush()
    return change


def remove(session: Session, team: Team, actor: User, model, item_id: int | None, *, now: datetime):
    """Take a shift or a change off the rota (the row is kept, marked removed)."""
    item = session.get(model, item_id) if item_id is not None else None
    if item is None or item.team_id != team.id or item.removed_at is not None:
        raise NotFound
    item.removed_at, item.removed_by_id = now, actor.id
    return item
