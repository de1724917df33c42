"""The people a team works with (service users), their risk and its history."""
from datetime import date, datetime

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

RISK_LEVELS = ("low", "medium", "high", "very_high")
FLAGS = ("violence", "weapons", "dog", "not_alone", "child_safeguarding", "substance_use", "infection", "other")


class Person(SQLModel, table=True):
    __table_args__ = (Index("ix_person_team_status", "team_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    key_worker_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    name: str = Field(max_length=120)
    known_as: str | None = Field(default=None, max_length=120)
    pronouns: str | None = Field(default=None, max_length=40)
    date_of_birth: date | None = Field(default=None)
    phone: str | None = Field(default=None, max_length=32)
    # An address, or where to find them (rough sleepers have no address).
    address: str | None = Field(default=None, max_length=300)
    status: str = Field(default="open", max_length=8)
    consent_to_share: str = Field(default="not_asked", max_length=10)
    consent_recorded_on: date | None = Field(default=None)
    # Agreed to be texted appointment reminders (no sensitive content: see services/appointment_reminders).
    sms_reminders: bool = Field(default=False)
    before_you_visit: str | None = Field(default=None, sa_type=Text)
    risk_level: str = Field(default="low", max_length=10)
    risk_reason: str | None = Field(default=None, max_length=1000)
    risk_reviewed_at: datetime | None = utc_field(default=None, nullable=True)
    flags: list[str] = Field(default_factory=list, sa_type=JSON)
    flag_other: str | None = Field(default=None, max_length=200)
    last_contact_at: datetime | None = utc_field(default=None, nullable=True)
    # When the case closed (retention counts from here), and a legal hold that stops all deletion.
    closed_at: datetime | None = utc_field(default=None, nullable=True)
    legal_hold: bool = Field(default=False)
    legal_hold_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class RiskChange(SQLModel, table=True):
    """Every change of risk level or flags, with its reason. Append-only."""

    __tablename__ = "risk_change"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    at: datetime = utc_field(default_factory=utcnow)
    by_id: int = Field(foreign_key="user.id")
    old_level: str | None = Field(default=None, max_length=10)
    new_level: str = Field(max_length=10)
    old_flags: list[str] = Field(default_factory=list, sa_type=JSON)
    new_flags: list[str] = Field(default_factory=list, sa_type=JSON)
    reason: str = Field(max_length=1000)


CLOSE_REASONS = ("goals_achieved", "moved_away", "transferred", "disengaged", "in_custody", "died", "other")


class CaseEvent(SQLModel, table=True):
    """A case closed or reopened, with who, when and why. Append-only: the person's status and
    closed_at say where the case is now, these rows say how it got there."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=8)  # closed / reopened
    at: datetime = utc_field(default_factory=utcnow)
    by_id: int = Field(foreign_key="user.id")
    reason: str | None = Field(default=None, max_length=16)  # one of CLOSE_REASONS (a close only)
    note: str | None = Field(default=None, max_length=1000)  # a reopen's reason is its note
    # How many future appointments (series) the close cancelled or ended.
    cancelled_appointments: int = Field(default=0)
