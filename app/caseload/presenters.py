"""What caseload pages show about a person: labels and tones computed here, not in templates."""
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from app.models import Person
from app.services import people


@dataclass
class PersonRow:
    id: int
    name: str
    known_as: str | None
    risk_label: str
    risk_tone: str
    flags: list[str]
    last_contact: str
    overdue: bool
    address: str | None
    door_flags: list[str] = field(default_factory=list)  # "Approach with care": change how to go to the door
    other_flags: list[str] = field(default_factory=list)


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "no contact yet"
    days = (now - moment).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def row(person: Person, now: datetime) -> PersonRow:
    return PersonRow(person.id, person.name, person.known_as, people.RISK_LABELS[person.risk_level],
                     people.RISK_TONES[person.risk_level], people.flag_labels(person),
                     _ago(person.last_contact_at, now), people.is_overdue_for_contact(person, now), person.address,
                     people.door_flag_labels(person), people.other_flag_labels(person))


def local_date(moment: datetime | None, zone: ZoneInfo, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    return moment.astimezone(zone).strftime(fmt) if moment else ""
