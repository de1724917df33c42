"""Logging contacts: quick to record, correctable by the author for 24 hours, then addenda only."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.db import built_once
from app.models import CONTACT_TYPES, NEEDS, Contact, ContactAddendum, ContactVersion, Person, Photo, User
from app.services import ValidationError
from app.services.access import NotFound
from app.services.people import get_person

CORRECTION_WINDOW = timedelta(hours=24)
TYPE_LABELS = {"face_to_face": "Face to face", "home_visit": "Home visit", "street_outreach": "Street outreach",
               "phone": "Phone", "video": "Video", "attempted": "Attempted — no answer"}
NEED_LABELS = {"housing": "Housing", "substance_use": "Substance use", "mental_health": "Mental health",
               "physical_health": "Physical health", "money": "Money and benefits", "work_learning": "Work and learning",
               "relationships": "Relationships and family", "offending": "Offending", "safety": "Safety"}
EDITABLE = ("contact_type", "happened_at", "duration_minutes", "location_text", "needs", "notes", "actions_agreed",
            "follow_up_on", "safeguarding_concern", "risk_changed")


@dataclass
class ContactEntry:
    person_id: int | None
    street_description: str | None
    contact_type: str
    happened_at: datetime | None
    duration_minutes: int | None = None
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    needs: list[str] = field(default_factory=list)
    notes: str = ""
    actions_agreed: str | None = None
    follow_up_on: date | None = None
    safeguarding_concern: bool = False
    risk_changed: bool = False


def _check(session: Session, author: User, entry: ContactEntry, now: datetime) -> dict[str, str]:
    errors = {}
    if entry.person_id is None and not (entry.street_description or "").strip():
        errors["person_id"] = "Choose the person, or describe a street contact whose name you don't know yet."
    if entry.person_id is not None:
        try:
            get_person(session, author, entry.person_id)
        except NotFound:
            errors["person_id"] = "Choose someone on your team's caseload."
    if entry.contact_type not in CONTACT_TYPES:
        errors["contact_type"] = "Choose the kind of contact."
    if entry.happened_at is None:
        errors["happened_at"] = "Say when it happened."
    elif entry.happened_at > now + timedelta(minutes=5):
        errors["happened_at"] = "A contact can't be in the future."
    elif entry.happened_at < now - timedelta(days=365):
        errors["happened_at"] = "That is more than a year ago: check the date."
    if entry.duration_minutes is not None and not 0 <= entry.duration_minutes <= 24 * 60:
        errors["duration_minutes"] = "The duration must be between 0 and 1440 minutes."
    if any(need not in NEEDS for need in entry.needs):
        errors["needs"] = "Choose needs from the list."
    if entry.contact_type != "attempted" and not entry.notes.strip():
        errors["notes"] = "Write a few words about what happened."
    if len(entry.notes) > 20000:
        errors["notes"] = "Keep the notes under 20,000 characters."
    if entry.follow_up_on and entry.happened_at and entry.follow_up_on < entry.happened_at.date():
        errors["follow_up_on"] = "The follow-up date must be after the contact."
    return errors


def log_contact(session: Session, author: User, entry: ContactEntry, *, now: datetime) -> Contact:
    errors = _check(session, author, entry, now)
    if errors:
        raise ValidationError(errors)
    contact = Contact(team_id=author.team_id, author_id=author.id, created_at=now, updated_at=now,
                      person_id=entry.person_id,
                      street_description=None if entry.person_id else entry.street_description.strip(),
                      contact_type=entry.contact_type, happened_at=entry.happened_at,
                      duration_minutes=entry.duration_minutes, location_text=(entry.location_text or "").strip() or None,
                      latitude=entry.latitude, longitude=entry.longitude, needs=sorted(set(entry.needs)),
                      notes=entry.notes.strip(), actions_agreed=(entry.actions_agreed or "").strip() or None,
                      follow_up_on=entry.follow_up_on, safeguarding_concern=entry.safeguarding_concern,
                      risk_changed=entry.risk_changed)
    session.add(contact)
    if entry.person_id is not None:
        _touch_person(session, entry.person_id, entry.happened_at)
    session.flush()
    return contact


def _touch_person(session: Session, person_id: int, happened_at: datetime) -> None:
    person = session.get(Person, person_id)
    if person.last_contact_at is None or happened_at > person.last_contact_at:
        person.last_contact_at = happened_at


def get_contact(session: Session, viewer: User, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or viewer.team_id is None or contact.team_id != viewer.team_id:
        raise NotFound
    if contact.deleted_at is not None and viewer.role != "supervisor":
        raise NotFound
    return contact


def can_correct(contact: Contact, user: User, now: datetime) -> bool:
    return contact.author_id == user.id and contact.deleted_at is None and now - contact.created_at <= CORRECTION_WINDOW


def _snapshot(contact: Contact) -> dict:
    return {name: (value.isoformat() if isinstance(value, (date, datetime)) else value)
            for name in EDITABLE for value in [getattr(contact, name)]}


def correct(session: Session, contact: Contact, user: User, entry: ContactEntry, *, now: datetime) -> list[str]:
    """The author fixes their own contact within 24 hours; the earlier version is kept."""
    if not can_correct(contact, user, now):
        raise ValidationError({"": "This contact can no longer be changed. Add an addendum instead."})
    entry.person_id, entry.street_description = contact.person_id, contact.street_description
    errors = _check(session, user, entry, now)
    if errors:
        raise ValidationError(errors)
    wanted = {name: getattr(entry, name) for name in EDITABLE}
    wanted["needs"] = sorted(set(entry.needs))
    wanted["notes"] = entry.notes.strip()
    changed = [name for name, value in wanted.items() if getattr(contact, name) != value]
    if changed:
        session.add(ContactVersion(contact_id=contact.id, version=contact.version, replaced_at=now,
                                   replaced_by_id=user.id, snapshot=_snapshot(contact)))
        for name in changed:
            setattr(contact, name, wanted[name])
        contact.version += 1
        contact.updated_at = now
        if contact.person_id:
            _touch_person(session, contact.person_id, contact.happened_at)
    return changed


def add_addendum(session: Session, contact: Contact, user: User, text: str, *, now: datetime) -> ContactAddendum:
    if not text.strip():
        raise ValidationError({"text": "Write the addendum."})
    addendum = ContactAddendum(contact_id=contact.id, at=now, author_id=user.id, text=text.strip())
    session.add(addendum)
    return addendum


def soft_delete(session: Session, contact: Contact, user: User, reason: str, *, now: datetime) -> None:
    if user.role != "supervisor":
        raise NotFound
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for removing this contact."})
    contact.deleted_at, contact.deleted_by_id, contact.delete_reason = now, user.id, reason.strip()


def match_to_person(session: Session, contact: Contact, user: User, person_id: int, *, now: datetime) -> None:
    """A street contact whose name is now known joins that person's record."""
    if contact.person_id is not None:
        raise ValidationError({"person_id": "This contact already belongs to someone."})
    try:
        person = get_person(session, user, person_id)
    except NotFound:
        raise ValidationError({"person_id": "Choose someone on your team's caseload."}) from None
    session.add(ContactVersion(contact_id=contact.id, version=contact.version, replaced_at=now, replaced_by_id=user.id,
                               snapshot={"street_description": contact.street_description, "person_id": None}))
    contact.person_id, contact.version, contact.updated_at = person.id, contact.version + 1, now
    _touch_person(session, person.id, contact.happened_at)


def contacts_for(session: Session, person: Person, *, include_deleted: bool = False,
                 before: datetime | None = None, limit: int | None = None) -> list[Contact]:
    """Newest first; `before` and `limit` give a page of the timeline (at or before that moment)."""
    return list(session.exec(_contacts_page(include_deleted, limit is not None, before is not None),
                             params={"person_id": person.id, "limit": limit, "before": before}).all())


@built_once
def _contacts_page(include_deleted: bool, limited: bool, paged: bool):
    query = select(Contact).where(Contact.person_id == bindparam("person_id")).order_by(Contact.happened_at.desc())
    if limited:
        query = query.limit(bindparam("limit"))
    if not include_deleted:
        query = query.where(Contact.deleted_at.is_(None))
    return query.where(Contact.happened_at <= bindparam("before")) if paged else query


def unmatched_street_contacts(session: Session, viewer: User, limit: int = 50) -> list[Contact]:
    return list(session.exec(select(Contact).where(Contact.team_id == viewer.team_id, Contact.person_id.is_(None),
                                                   Contact.deleted_at.is_(None))
                             .order_by(Contact.happened_at.desc()).limit(limit)).all())


def photos_for(session: Session, contact_ids: list[int]) -> dict[int, list[Photo]]:
    found: dict[int, list[Photo]] = {}
    if contact_ids:
        for photo in session.exec(_photos_of(), params={"ids": contact_ids}).all():
            found.setdefault(photo.contact_id, []).append(photo)
    return found


@built_once
def _photos_of():
    return select(Photo).where(Photo.contact_id.in_(bindparam("ids", expanding=True))).order_by(Photo.id)


def get_photo(session: Session, viewer: User, photo_id: int) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound
    get_contact(session, viewer, photo.contact_id)  # the photo is as visible as its contact
    return photo


def recent_people(session: Session, user: User, limit: int = 6) -> list[Person]:
    """The people this worker logged most recently, for one-tap choice on Log contact."""
    rows = session.exec(select(Contact.person_id).where(Contact.author_id == user.id, Contact.person_id.is_not(None),
                                                        Contact.deleted_at.is_(None))
                        .order_by(Contact.created_at.desc()).limit(50)).all()
    ordered = list(dict.fromkeys(rows))[:limit]
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ordered))).all()} if ordered else {}
    return [people[i] for i in ordered if i in people and people[i].team_id == user.team_id]
