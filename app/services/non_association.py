"""Non-association: people who must not meet (a "keep apart" flag between two people on a team, or
an order's non-association requirement), asked wherever enrolment could bring them together, and
shown on the person's record."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_
from sqlmodel import Session, select

from app.db import built_once
from app.models import KeepApart, Person, User
from app.services import ValidationError
from app.services.access import NotFound


def keep_apart(session: Session, author: User, person: Person, other: Person, reason: str, *,
               now: datetime) -> KeepApart:
    errors = {}
    if other.team_id != person.team_id:
        raise NotFound
    if other.id == person.id:
        errors["other_person_id"] = "Choose someone else: a person can't be kept apart from themselves."
    if not reason.strip():
        errors["reason"] = "Say why they must be kept apart."
    elif len(reason) > 1000:
        errors["reason"] = "Keep the reason under 1,000 characters."
    if errors:
        raise ValidationError(errors)
    low, high = sorted((person.id, other.id))
    flag = KeepApart(team_id=person.team_id, person_id=low, other_person_id=high, reason=reason.strip(),
                     created_by_id=author.id, created_at=now)
    session.add(flag)
    session.flush()
    return flag


def keep_apart_ids(session: Session, person_id: int) -> set[int]:
    rows = session.exec(select(KeepApart.person_id, KeepApart.other_person_id).where(
        KeepApart.ended_at.is_(None),
        or_(KeepApart.person_id == person_id, KeepApart.other_person_id == person_id))).all()
    return {a if b == person_id else b for a, b in rows}


def must_not_meet(session: Session, person_id: int, other_ids: set[int] | list[int], now: datetime,
                  zone: ZoneInfo) -> set[int]:
    """Which of `other_ids` this person must not meet: a "keep apart" flag, or an order's
    non-association requirement. The one place enrolment asks."""
    others = set(other_ids) - {person_id}
    if not others:
        return set()
    from app.services import orders

    barred = keep_apart_ids(session, person_id) | orders.non_associated_person_ids(session, person_id, now, zone)
    return barred & others


def keep_apart_with_names(session: Session, person: Person) -> list[tuple[KeepApart, str]]:
    """The person's keep-apart flags with the other person's name (one query)."""
    return list(session.exec(_keep_apart_of(), params={"person_id": person.id, "team_id": person.team_id}).all())


@built_once
def _keep_apart_of():
    person_id = bindparam("person_id")
    other = Person.id == (KeepApart.person_id + KeepApart.other_person_id - person_id)
    return select(KeepApart, Person.name).join(Person, other).where(
        KeepApart.ended_at.is_(None), Person.team_id == bindparam("team_id"),
        or_(KeepApart.person_id == person_id, KeepApart.other_person_id == person_id))
