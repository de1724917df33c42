"""People on a team's caseload: records, risk and flags (with history), the caseload order."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, or_
from sqlmodel import Session, select

from app.db import built_once
from app.models import FLAGS, RISK_LEVELS, Allocation, Person, RiskChange, User
from app.models.types import UTCDateTime
from app.services import ValidationError
from app.services.access import NotFound
from app.services.phones import phone_problem

RISK_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "very_high": "Very high"}
RISK_TONES = {"low": "ok", "medium": "warn", "high": "danger", "very_high": "danger"}
FLAG_LABELS = {
    "violence": "History of violence", "weapons": "Weapons", "dog": "Aggressive dog",
    "not_alone": "Do not visit alone", "child_safeguarding": "Safeguarding — child at address",
    "substance_use": "Substance use", "infection": "Infection risk", "other": "Other",
}
# The flags that change how a worker approaches the door: shown apart, before the others.
DOOR_FLAGS = ("violence", "weapons", "dog", "not_alone")
CONSENT_LABELS = {"yes": "Yes", "no": "No", "not_asked": "Not yet asked"}
# Expected contact interval by risk level: beyond it a person is overdue for contact.
CONTACT_INTERVAL = {"very_high": timedelta(days=3), "high": timedelta(days=7), "medium": timedelta(days=14),
                    "low": timedelta(days=28)}


@dataclass
class PersonDetails:
    name: str
    known_as: str | None = None
    pronouns: str | None = None
    date_of_birth: date | None = None
    phone: str | None = None
    address: str | None = None
    status: str = "open"
    consent_to_share: str = "not_asked"
    consent_recorded_on: date | None = None
    sms_reminders: bool = False
    before_you_visit: str | None = None
    key_worker_id: int | None = None


@dataclass
class RiskUpdate:
    level: str
    flags: list[str] = field(default_factory=list)
    flag_other: str | None = None
    reason: str = ""


def get_person(session: Session, viewer: User, person_id: int) -> Person:
    """A person on the viewer's team, or NotFound (the one rule for every way in: URL, search, photo)."""
    person = session.get(Person, person_id)
    if person is None or viewer.team_id is None or person.team_id != viewer.team_id:
        raise NotFound
    return person


def _check_details(session: Session, details: PersonDetails, team_id: int, today: date,
                   stored: Person | None = None) -> dict[str, str]:
    """`stored`: the record as it is. Its number sent back unchanged is checked again only when
    texts are being turned on (phone_problem's `kept`)."""
    errors = {}
    if not details.name.strip():
        errors["name"] = "Enter a name. For someone whose name you don't know yet, log a street contact instead."
    if details.date_of_birth and not date(1900, 1, 1) <= details.date_of_birth <= today:
        errors["date_of_birth"] = "The date of birth must be in the past."
    if details.status not in ("open", "closed"):
        errors["status"] = "Choose open or closed."
    if details.consent_to_share not in CONSENT_LABELS:
        errors["consent_to_share"] = "Choose yes, no or not yet asked."
    elif details.consent_to_share != "not_asked" and details.consent_recorded_on is None:
        errors["consent_recorded_on"] = "Give the date consent was asked."
    if details.consent_recorded_on and details.consent_recorded_on > today:
        errors["consent_recorded_on"] = "The consent date can't be in the future."
    if details.sms_reminders and not (details.phone or "").strip():
        errors["phone"] = "Add a phone number to text reminders to."
    elif problem := phone_problem(details.phone, texted=details.sms_reminders, kept=None if stored is None or (
            details.sms_reminders and not stored.sms_reminders) else stored.phone):
        errors["phone"] = problem
    if details.key_worker_id is not None:
        worker = session.get(User, details.key_worker_id)
        if worker is None or worker.team_id != team_id:
            errors["key_worker_id"] = "Choose someone from your team."
    return errors


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def create_person(session: Session, author: User, details: PersonDetails, risk: RiskUpdate, *, now: datetime) -> Person:
    errors = _check_details(session, details, author.team_id, now.date())
    errors.update(_check_risk(risk, reason_required=False))
    if errors:
        raise ValidationError(errors)
    person = Person(team_id=author.team_id, created_at=now, updated_at=now, name=details.name.strip(),
                    **{k: _clean(v) if isinstance(v, str) else v for k, v in details.__dict__.items() if k != "name"})
    person.status = details.status
    person.consent_to_share = details.consent_to_share
    person.risk_level, person.flags, person.flag_other = risk.level, sorted(set(risk.flags)), _clean(risk.flag_other)
    person.risk_reason, person.risk_reviewed_at = _clean(risk.reason), now
    session.add(person)
    session.flush()
    session.add(RiskChange(person_id=person.id, at=now, by_id=author.id, old_level=None, new_level=risk.level,
                           old_flags=[], new_flags=person.flags, reason=_clean(risk.reason) or "First assessment"))
    return person


def update_person(session: Session, person: Person, details: PersonDetails, *, now: datetime,
                  by: User | None = None) -> list[str]:
    """Edit the details; a new key worker (`by` made the change) goes into the allocation history,
    as Allocate's does."""
    errors = _check_details(session, details, person.team_id, now.date(), person)
    if errors:
        raise ValidationError(errors)
    previous_worker_id = person.key_worker_id
    changed = []
    for name, value in details.__dict__.items():
        value = value.strip() if name == "name" else (_clean(value) if isinstance(value, str) else value)
        if name in ("status", "consent_to_share"):
            value = getattr(details, name)
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    if changed:
        person.updated_at = now
    if "status" in changed:  # retention of a closed case counts from its closure
        person.closed_at = now if person.status == "closed" else None
    if "key_worker_id" in changed and person.key_worker_id is not None and by is not None:
        session.add(Allocation(team_id=person.team_id, person_id=person.id, worker_id=person.key_worker_id,
                               previous_worker_id=previous_worker_id, note=None, at=now, by_id=by.id))
    return changed


def _check_risk(risk: RiskUpdate, *, reason_required: bool) -> dict[str, str]:
    errors = {}
    if risk.level not in RISK_LEVELS:
        errors["risk_level"] = "Choose a risk level."
    if any(flag not in FLAGS for flag in risk.flags):
        errors["flags"] = "Choose flags from the list."
    if "other" in risk.flags and not _clean(risk.flag_other):
        errors["flag_other"] = "Say what the other risk is."
    if reason_required and not _clean(risk.reason):
        errors["reason"] = "Give the reason for this change: it is kept in the person's history."
    return errors


def change_risk(session: Session, person: Person, author: User, risk: RiskUpdate, *, now: datetime) -> bool:
    """Record a risk review. A change of level or flags needs a reason; returns whether anything changed."""
    flags = sorted(set(risk.flags))
    changed = risk.level != person.risk_level or flags != sorted(person.flags or []) or (
        _clean(risk.flag_other) != person.flag_other)
    errors = _check_risk(risk, reason_required=changed)
    if errors:
        raise ValidationError(errors)
    if changed:
        session.add(RiskChange(person_id=person.id, at=now, by_id=author.id, old_level=person.risk_level,
                               new_level=risk.level, old_flags=list(person.flags or []), new_flags=flags,
                               reason=risk.reason.strip()))
        person.risk_level, person.flags, person.flag_other = risk.level, flags, _clean(risk.flag_other)
        person.risk_reason = risk.reason.strip()
    person.risk_reviewed_at, person.updated_at = now, now
    return changed


def flag_labels(person: Person, only=None) -> list[str]:
    return [person.flag_other if flag == "other" and person.flag_other else FLAG_LABELS[flag]
            for flag in FLAGS if flag in (person.flags or []) and (only is None or only(flag))]


def door_flag_labels(person: Person) -> list[str]:
    return flag_labels(person, lambda flag: flag in DOOR_FLAGS)


def other_flag_labels(person: Person) -> list[str]:
    return flag_labels(person, lambda flag: flag not in DOOR_FLAGS)


def is_overdue_for_contact(person: Person, now: datetime) -> bool:
    reference = person.last_contact_at or person.created_at
    return person.status == "open" and now - reference > CONTACT_INTERVAL[person.risk_level]


@dataclass
class CaseloadFilter:
    mine_only: bool = False
    status: str = "open"
    risk: str | None = None
    overdue_only: bool = False
    query: str = ""


# The caseload shows this many people at a time ("Show more" asks for the next page).
PAGE_SIZE = 50
# The offline copy holds all of a worker's own people (a caseload is tens, this is a backstop).
OFFLINE_LIMIT = 500
# What a caseload row needs, and no more (not a Person's notes, phone or history).
ROW_COLUMNS = (Person.id, Person.name, Person.known_as, Person.address, Person.risk_level, Person.flags,
               Person.flag_other, Person.last_contact_at, Person.key_worker_id)


def _overdue():
    """is_overdue_for_contact as SQL: the interval depends on the level, so each level gets its own
    cut-off (the bindparams `cut_<level>`, given by _caseload)."""
    cut_off = case({level: bindparam(f"cut_{level}", type_=UTCDateTime()) for level in CONTACT_INTERVAL},
                   value=Person.risk_level)
    return and_(Person.status == "open", func.coalesce(Person.last_contact_at, Person.created_at) < cut_off)


@built_once
def _caseload_statement(columns: str, status: bool, mine_only: bool, risk: bool, overdue_only: bool, text: bool,
                        mine_first: bool):
    """The viewer's team's people matching one shape of filters, most in need of attention first:
    (the viewer's own people, when `mine_first`), highest risk, overdue for contact, longest without
    contact, name. `columns`: "people" (whole records), "rows" (ROW_COLUMNS with `overdue`, `mine`
    and the total as a window count) or "count". Every value is a bindparam (_caseload gives them)."""
    viewer_id = bindparam("viewer_id")
    query = {"people": select(Person), "count": select(func.count()).select_from(Person),
             "rows": select(*ROW_COLUMNS, _overdue().label("overdue"),
                            (Person.key_worker_id == viewer_id).label("mine"), func.count().over().label("total"))}[columns]
    query = query.where(Person.team_id == bindparam("team_id"))
    if status:
        query = query.where(Person.status == bindparam("status"))
    if mine_only:
        query = query.where(Person.key_worker_id == viewer_id)
    if risk:
        query = query.where(Person.risk_level == bindparam("risk"))
    if overdue_only:
        query = query.where(_overdue())
    if text:
        like = bindparam("like")
        query = query.where(or_(func.lower(Person.name).like(like), func.lower(Person.known_as).like(like),
                                func.lower(Person.address).like(like)))
    if columns == "count":
        return query
    risk_rank = case({level: rank for rank, level in enumerate(reversed(RISK_LEVELS))}, value=Person.risk_level)
    order = [risk_rank, case((_overdue(), 0), else_=1), func.coalesce(Person.last_contact_at, Person.created_at),
             Person.name, Person.id]
    if mine_first:
        order.insert(0, case((Person.key_worker_id == viewer_id, 0), else_=1))
    return query.order_by(*order).offset(bindparam("offset")).limit(bindparam("limit"))


def _caseload(session: Session, columns: str, viewer: User, filters: CaseloadFilter, now: datetime, *,
              mine_first: bool, offset: int = 0, limit: int = 0):
    """Run _caseload_statement for these filters."""
    text = filters.query.strip().lower()
    statement = _caseload_statement(columns, filters.status in ("open", "closed"), filters.mine_only,
                                    filters.risk in RISK_LEVELS, filters.overdue_only, bool(text), mine_first)
    params = {"team_id": viewer.team_id, "viewer_id": viewer.id, "status": filters.status, "risk": filters.risk,
              "like": f"%{text}%", "offset": offset, "limit": limit,
              **{f"cut_{level}": now - interval for level, interval in CONTACT_INTERVAL.items()}}
    return session.exec(statement, params=params)


def caseload(session: Session, viewer: User, filters: CaseloadFilter, *, now: datetime, limit: int = 500) -> list[Person]:
    """The first `limit` people of the caseload, most in need of attention first, as whole records."""
    return list(_caseload(session, "people", viewer, filters, now, mine_first=False, limit=limit).all())


@dataclass
class CaseloadPage:
    rows: list  # rows of ROW_COLUMNS with `overdue` and `mine`
    total: int  # everyone matching, on every page
    page: int
    size: int

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1

    @property
    def more(self) -> bool:
        return self.last < self.total


def caseload_page(session: Session, viewer: User, filters: CaseloadFilter, *, now: datetime, page: int = 1,
                  size: int = PAGE_SIZE) -> CaseloadPage:
    """One page of the caseload, the viewer's own people first, in one query (the total rides along
    as a window count); only the columns a row shows."""
    rows = _caseload(session, "rows", viewer, filters, now, mine_first=True, offset=(page - 1) * size,
                     limit=size).all()
    if rows:
        total = rows[0].total
    elif page > 1:  # past the end: the window count came back with no rows
        total = _caseload(session, "count", viewer, filters, now, mine_first=False).one()
    else:
        total = 0
    return CaseloadPage(list(rows), total, page, size)


def visit_choices(session: Session, viewer: User) -> list[Person]:
    """The open caseload of the viewer's team by name, for picking whom a visit is to."""
    return list(session.exec(select(Person).where(Person.team_id == viewer.team_id, Person.status == "open")
                             .order_by(Person.name)).all())


def names(session: Session, viewer: User, person_ids: set[int]) -> dict[int, str]:
    """The names of these people on the viewer's team (one query, names only)."""
    if not person_ids:
        return {}
    return dict(session.exec(select(Person.id, Person.name).where(Person.team_id == viewer.team_id,
                                                                  Person.id.in_(person_ids))).all())


def team_names(session: Session, viewer: User) -> dict[int, str]:
    """The names of everyone on the viewer's team, for a page that names most of them (the team's
    week): one plain query, cheaper than naming hundreds of ids."""
    return dict(session.execute(select(Person.id, Person.name).where(Person.team_id == viewer.team_id)).all())


def risk_history(session: Session, person: Person, *, before: datetime | None = None,
                 limit: int | None = None) -> list[RiskChange]:
    """Newest first; `before` and `limit` give a page of the timeline."""
    return list(session.exec(_risk_page(limit is not None, before is not None),
                             params={"person_id": person.id, "limit": limit, "before": before}).all())


@built_once
def _risk_page(limited: bool, paged: bool):
    query = (select(RiskChange).where(RiskChange.person_id == bindparam("person_id"))
             .order_by(RiskChange.at.desc(), RiskChange.id.desc()))
    if limited:
        query = query.limit(bindparam("limit"))
    return query.where(RiskChange.at <= bindparam("before")) if paged else query


def team_workers(session: Session, team_id: int) -> list[User]:
    return list(session.exec(select(User).where(User.team_id == team_id, User.active).order_by(User.name)).all())


def team_worker_names(session: Session, team_id: int, *, active_only: bool = True) -> dict[int, str]:
    """team_workers()' names by id, as plain values: a daily page names them, it needs no accounts.
    `active_only=False`: those who have left too (their past appointments still name them)."""
    return dict(session.execute(_worker_names(active_only), {"team_id": team_id}).all())


@built_once
def _worker_names(active_only: bool):
    query = select(User.id, User.name).where(User.team_id == bindparam("team_id"))
    return query.where(User.active) if active_only else query
