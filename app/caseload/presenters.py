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
    mine: bool = False  # the viewer is their key worker


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


def caseload_row(found, now: datetime) -> PersonRow:
    """A row of people.caseload_page (its columns only; overdue already worked out by the query)."""
    return PersonRow(found.id, found.name, found.known_as, people.RISK_LABELS[found.risk_level],
                     people.RISK_TONES[found.risk_level], people.flag_labels(found),
                     _ago(found.last_contact_at, now), bool(found.overdue), found.address,
                     people.door_flag_labels(found), people.other_flag_labels(found), bool(found.mine))


def caseload_summary(found: people.CaseloadPage) -> str:
    """How many match, and which of them a page past the first shows (without script, one page at a time)."""
    total = f"{found.total} {'person' if found.total == 1 else 'people'}"
    return f"{total}, showing {found.first}–{found.last}" if found.page > 1 and found.rows else total


def more_label(found: people.CaseloadPage) -> str:
    left = found.total - found.last
    return f"Show {min(left, found.size)} more (of {left} not shown)"


def local_date(moment: datetime | None, zone: ZoneInfo, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    return moment.astimezone(zone).strftime(fmt) if moment else ""
