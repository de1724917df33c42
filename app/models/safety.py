"""Visits (safety sessions), the alerts they raise, and the append-only log of what happened."""
from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow


class Visit(SQLModel, table=True):
    """A worker's timed visit. The server's deadline is the truth; the phone only displays it."""

    __table_args__ = (
        Index("ix_visit_watch", "state", "overdue_at"),
        Index("ix_visit_remind", "state", "remind_at"),
        Index("ix_visit_worker_state", "worker_id", "state"),
        # The board: a team's running visits by deadline (a team keeps years of ended ones).
        Index("ix_visit_team_state", "team_id", "state", "due_at"),
        # Team figures: the visits a team started in a month (started_at never changes after).
        Index("ix_visit_team_started", "team_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    worker_id: int = Field(foreign_key="user.id")
    team_id: int = Field(foreign_key="team.id", index=True)
    # active -> ended, or active -> overdue (an alert was raised) -> ended
    state: str = Field(default="active", max_length=10)
    place: str = Field(max_length=300)
    # The person visited, when the visit was started for someone on the caseload (their flags go
    # on the emergency card).
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    started_at: datetime = utc_field(default_factory=utcnow)
    planned_end_at: datetime = utc_field()
    check_in_every_minutes: int | None = Field(default=None)
    # The next moment we expect to hear from the worker, and that plus the team's grace period.
    due_at: datetime = utc_field()
    grace_seconds: int = Field()
    overdue_at: datetime = utc_field()
    # When to push "Check in due soon" (cleared once sent, set again when due_at moves).
    remind_at: datetime | None = utc_field(default=None, nullable=True)
    last_check_in_at: datetime | None = utc_field(default=None, nullable=True)
    ended_at: datetime | None = utc_field(default=None, nullable=True)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    location_accuracy_m: float | None = Field(default=None)
    location_at: datetime | None = utc_field(default=None, nullable=True)
    # Who is there, car registration...: shown to nobody unless an alert fires.
    sealed_notes: str | None = Field(default=None, sa_type=Text)
    # Wrong PINs in a row on this visit; after a run of them, PINs are refused until pin_paused_until.
    pin_failures: int = Field(default=0)
    pin_paused_until: datetime | None = utc_field(default=None, nullable=True)


class Alert(SQLModel, table=True):
    __table_args__ = (Index("ix_alert_escalation", "state", "next_escalation_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    worker_id: int = Field(foreign_key="user.id", index=True)
    visit_id: int | None = Field(default=None, foreign_key="visit.id", index=True)
    # missed_check_in | panic | duress
    kind: str = Field(max_length=16)
    # open -> acknowledged -> resolved (open -> resolved is allowed too)
    state: str = Field(default="open", max_length=12)
    level: int = Field(default=1)
    raised_at: datetime = utc_field(default_factory=utcnow)
    next_escalation_at: datetime | None = utc_field(default=None, nullable=True)
    repeats: int = Field(default=0)
    acknowledged_at: datetime | None = utc_field(default=None, nullable=True)
    acknowledged_by_id: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = utc_field(default=None, nullable=True)
    resolved_by_id: int | None = Field(default=None, foreign_key="user.id")
    outcome: str | None = Field(default=None, max_length=32)
    resolution_note: str | None = Field(default=None, sa_type=Text)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    location_at: datetime | None = utc_field(default=None, nullable=True)
    # Whose alert it is at level 1 when the worker has no buddy: the rota's duty supervisor when it
    # was raised, handed to the next one at a shift change (services/rota.py). None: every supervisor.
    duty_supervisor_id: int | None = Field(default=None)
    # The worker's buddy when it was raised, or whoever covers for the buddy while they are away
    # (services/leave.py). None: no buddy (level 1 goes to the duty supervisor).
    buddy_id: int | None = Field(default=None)


class SafetyEvent(SQLModel, table=True):
    """Every step of a visit or alert, with who, when and where. Append-only (database trigger)."""

    __tablename__ = "safety_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(default_factory=utcnow)
    # When the worker did it, if different (a check-in queued offline arrives later).
    made_at: datetime | None = utc_field(default=None, nullable=True)
    visit_id: int | None = Field(default=None, foreign_key="visit.id", index=True)
    alert_id: int | None = Field(default=None, foreign_key="alert.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    kind: str = Field(max_length=24)
    detail: str | None = Field(default=None, max_length=300)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
