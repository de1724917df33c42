"""Appointments with people: a series (one-off or repeating) and what happened at each occurrence.

Times are kept as the organisation's local wall-clock time (naive) and turned into UTC only when
needed, so a weekly 10:00 appointment stays at 10:00 across a daylight-saving change.
"""
from datetime import date, datetime

from sqlalchemy import DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

APPOINTMENT_KINDS = ("home_visit", "office", "phone", "video", "group", "court", "multi_agency")
REPEATS = ("none", "weekly", "fortnightly", "monthly")
OUTCOMES = ("attended", "did_not_attend", "cancelled_by_person", "cancelled_by_us", "rescheduled")


class Appointment(SQLModel, table=True):
    __table_args__ = (Index("ix_appointment_worker", "worker_id", "cancelled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    worker_id: int = Field(foreign_key="user.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=16)
    # The first occurrence, local wall-clock time in the organisation's zone.
    starts_local: datetime = Field(sa_type=DateTime(timezone=False))
    duration_minutes: int = Field()
    place: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, sa_type=Text)
    repeat: str = Field(default="none", max_length=12)
    repeat_until: date | None = Field(default=None)
    cancelled_at: datetime | None = utc_field(default=None, nullable=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class AppointmentOccurrence(SQLModel, table=True):
    """One occurrence that differs from its series (moved, cancelled) or has an outcome."""

    __tablename__ = "appointment_occurrence"
    # The unique pair finds the changes to a window's own occurrences; this one finds those moved
    # into it (a week's look at 500 series read every outcome they ever had without it).
    __table_args__ = (UniqueConstraint("appointment_id", "original_local"),
                      Index("ix_appointment_occurrence_moved", "appointment_id", "starts_local"))

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointment.id", index=True)
    # The occurrence's start as the series would have it (its identity, even after a move).
    original_local: datetime = Field(sa_type=DateTime(timezone=False))
    starts_local: datetime | None = Field(default=None, sa_type=DateTime(timezone=False))
    place: str | None = Field(default=None, max_length=300)
    cancelled: bool = Field(default=False)
    outcome: str | None = Field(default=None, max_length=24)
    outcome_note: str | None = Field(default=None, sa_type=Text)
    outcome_at: datetime | None = utc_field(default=None, nullable=True)
    outcome_by_id: int | None = Field(default=None, foreign_key="user.id")
    # "Did not attend" asks for a follow-up on Today until the worker marks it done.
    follow_up_done_at: datetime | None = utc_field(default=None, nullable=True)
