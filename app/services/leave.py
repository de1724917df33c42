"""Leave and cover: a worker marked away for dates, and who stands in for them meanwhile.

Who stands in for someone away at a moment: their cover; if the cover is away too, the cover's
cover (and so on, never round in a circle). `stand_in_ids` answers that for any number of people
in one query, so the alarm path and the reminder jobs ask once for a whole batch.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.models import Leave, User
from app.services import ValidationError
from app.services.access import NotFound

MAX_LEAVE_DAYS = 366


def _away_at(at: datetime):
    return (Leave.removed_at.is_(None), Leave.starts_at <= at, Leave.ends_at > at)


# Everyone away at a moment, across the organisation (a handful of rows: a chain of covers is then
# followed to its end in memory). Built once, and run once per session and moment: the alarm path
# asks for every alert it raises, and a batch of alerts shares one `now`.
_AWAY_AT = (select(Leave.user_id, Leave.cover_id)
            .where(Leave.ends_at > bindparam("at"), Leave.starts_at <= bindparam("at"), Leave.removed_at.is_(None))
            .order_by(Leave.created_at, Leave.id))


def _covers_at(session: Session, at: datetime) -> dict[int, int]:
    memo = session.info.setdefault("fieldline.leave_at", {})
    if at not in memo:
        memo[at] = dict(session.connection().execute(_AWAY_AT, {"at": at}).all())  # the latest entered wins
    return memo[at]


def stand_in_ids(session: Session, user_ids, at: datetime) -> dict[int, int | None]:
    """For each of these people who is away at `at`: who stands in (None: nobody can, every
    cover in the chain is away). People not away are not in the answer. One query at most."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    cover_of = _covers_at(session, at)
    answer = {}
    for user_id in ids & cover_of.keys():
        seen, current = {user_id}, cover_of[user_id]
        while current in cover_of and current not in seen:
            seen.add(current)
            current = cover_of[current]
        answer[user_id] = None if current in seen or current in cover_of else current
    return answer


def standing_in(session: Session, user_id: int | None, at: datetime) -> int | None:
    """Who gets what is meant for this person at `at`: themself, or their stand-in while away."""
    if user_id is None:
        return None
    return stand_in_ids(session, [user_id], at).get(user_id, user_id)


def to_stand_ins(session: Session, messages: list[tuple], at: datetime) -> list[tuple]:
    """(message, user) pairs with each user away replaced by their stand-in (one query for all);
    someone away with nobody to stand in keeps their own message rather than lose it."""
    away = stand_in_ids(session, {user.id for _, user in messages}, at)
    if not away:
        return messages
    people = {u.id: u for u in session.exec(select(User).where(User.id.in_({i for i in away.values() if i})))}
    return [(message, people.get(away.get(user.id), user)) for message, user in messages]


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def add_leave(session: Session, team_id: int, actor: User, *, user_id: int | None, cover_id: int | None,
              starts_on: date | None, ends_on: date | None, zone: ZoneInfo, now: datetime) -> Leave:
    errors = {}
    away = session.get(User, user_id) if user_id else None
    cover = session.get(User, cover_id) if cover_id else None
    if away is None or away.team_id != team_id or not away.active:
        errors["user_id"] = "Choose someone in your team."
    if cover is None or cover.team_id != team_id or not cover.active:
        errors["cover_id"] = "Choose who covers, from your team."
    elif cover_id == user_id:
        errors["cover_id"] = "Choose someone else to cover."
    if starts_on is None:
        errors["starts_on"] = "Enter the first day away."
    if ends_on is None:
        errors["ends_on"] = "Enter the last day away."
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The last day is before the first."
    elif starts_on is not None and (ends_on - starts_on).days >= MAX_LEAVE_DAYS:
        errors["ends_on"] = "Mark at most a year at a time."
    elif day_start(ends_on + timedelta(days=1), zone) <= now:
        errors["ends_on"] = "That leave is over already."
    if errors:
        raise ValidationError(errors)
    leave = Leave(team_id=team_id, user_id=user_id, cover_id=cover_id, starts_on=starts_on, ends_on=ends_on,
                  starts_at=day_start(starts_on, zone), ends_at=day_start(ends_on + timedelta(days=1), zone),
                  created_at=now, created_by_id=actor.id)
    session.add(leave)
    session.flush()
    return leave


def remove_leave(session: Session, team_id: int, actor: User, leave_id: int, *, now: datetime) -> Leave:
    leave = session.get(Leave, leave_id)
    if leave is None or leave.team_id != team_id or leave.removed_at is not None:
        raise NotFound
    leave.removed_at, leave.removed_by_id = now, actor.id
    return leave


def team_leave(session: Session, team_id: int, now: datetime) -> list[Leave]:
    """Leave now and to come, soonest first."""
    return list(session.exec(select(Leave).where(Leave.team_id == team_id, Leave.removed_at.is_(None),
                                                 Leave.ends_at > now).order_by(Leave.starts_at, Leave.id)).all())


def now_and_next(session: Session, team_id: int, now: datetime) -> tuple[dict[int, Leave], dict[int, Leave]]:
    """Who in the team is away now (the latest entered leave, as `away_now`), and for everyone
    else their soonest leave to come: one query."""
    away, ahead = {}, {}
    for item in team_leave(session, team_id, now):  # soonest first
        if item.starts_at > now:
            ahead.setdefault(item.user_id, item)
        elif item.user_id not in away or (item.created_at, item.id) > (away[item.user_id].created_at,
                                                                       away[item.user_id].id):
            away[item.user_id] = item
    return away, {user_id: item for user_id, item in ahead.items() if user_id not in away}


def away_now(session: Session, team_id: int, now: datetime) -> dict[int, Leave]:
    """Who in the team is away now, with their leave (one query)."""
    return {leave.user_id: leave for leave in session.exec(
        select(Leave).where(Leave.team_id == team_id, *_away_at(now)).order_by(Leave.created_at, Leave.id)).all()}
