"""The supervisor's console: the duty rota, leave and cover, allocations and weighted load."""
from datetime import date, datetime

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow


class RotaShift(SQLModel, table=True):
    """A weekly repeating shift: who is duty supervisor on this weekday, from `starts_minute` to
    `ends_minute` past local midnight, in the wall-clock time of `zone` (so 09:00 stays 09:00 across
    the clock change). An end at or before the start runs past midnight into the next day.
    Removing a shift keeps the row (removed_at), so the rota's history stays readable."""

    __tablename__ = "rota_shift"
    __table_args__ = (Index("ix_rota_shift_team", "team_id", "removed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    supervisor_id: int = Field(foreign_key="user.id")
    weekday: int = Field()  # 0 Monday ... 6 Sunday
    starts_minute: int = Field()  # 0..1439
    ends_minute: int = Field()  # 0..1439
    zone: str = Field(max_length=64)
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="user.id")
    removed_at: datetime | None = utc_field(default=None, nullable=True)
    removed_by_id: int | None = Field(default=None, foreign_key="user.id")


class RotaChange(SQLModel, table=True):
    """A one-off change: from starts_at to ends_at this supervisor is on duty, whatever the weekly
    pattern says (a swap, a bank holiday, sickness)."""

    __tablename__ = "rota_change"
    __table_args__ = (Index("ix_rota_change_team_ends", "team_id", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    supervisor_id: int = Field(foreign_key="user.id")
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field()
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="user.id")
    removed_at: datetime | None = utc_field(default=None, nullable=True)
    removed_by_id: int | None = Field(default=None, foreign_key="user.id")


class Leave(SQLModel, table=True):
    """A worker marked away from one local date to another (both included): their people show the
    cover worker, and their alerts and reminders go to the cover meanwhile. starts_at and ends_at
    are those dates' local midnights in UTC, so "away at t" is one indexed comparison."""

    __tablename__ = "leave"
    __table_args__ = (Index("ix_leave_ends", "ends_at"), Index("ix_leave_team_ends", "team_id", "ends_at"))

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    user_id: int = Field(foreign_key="user.id")
    cover_id: int = Field(foreign_key="user.id")
    starts_on: date = Field()
    ends_on: date = Field()
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field()
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="user.id")
    removed_at: datetime | None = utc_field(default=None, nullable=True)
    removed_by_id: int | None = Field(default=None, foreign_key="user.id")


class Allocation(SQLModel, table=True):
    """Each time a person was allocated (or reallocated) to a worker, with the handover note.
    Append-only (database trigger): Person.key_worker_id is the current one, this is the history."""

    __tablename__ = "allocation"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    worker_id: int = Field(foreign_key="user.id")
    previous_worker_id: int | None = Field(default=None, foreign_key="user.id")
    note: str | None = Field(default=None, sa_type=Text)
    at: datetime = utc_field(default_factory=utcnow)
    by_id: int = Field(foreign_key="user.id")


class TeamLoad(SQLModel, table=True):
    """A team's weighting of cases: points per person by risk level, and what a full-time worker carries."""

    __tablename__ = "team_load"

    team_id: int = Field(foreign_key="team.id", primary_key=True)
    points: dict = Field(default_factory=dict, sa_type=JSON)
    full_time_points: int = Field(default=30)
    updated_at: datetime = utc_field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class WorkerCapacity(SQLModel, table=True):
    """A worker's capacity: full time is 100 %, part time less."""

    __tablename__ = "worker_capacity"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    percent: int = Field(default=100)
    updated_at: datetime = utc_field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class FigureSnapshot(SQLModel, table=True):
    """A team's figures for a month as they stood when the month ended, so last year's report does
    not change when records are corrected later. Append-only (database trigger)."""

    __tablename__ = "figure_snapshot"
    __table_args__ = (UniqueConstraint("team_id", "month", name="uq_figure_snapshot_team_month"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    month: str = Field(max_length=7)  # "2026-11"
    taken_at: datetime = utc_field(default_factory=utcnow)
    tables: list = Field(default_factory=list, sa_type=JSON)
