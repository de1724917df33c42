"""The supervisor's console: the duty rota, leave and cover."""
from datetime import datetime

from sqlalchemy import Index
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
