"""Managing the records themselves: subject-access requests, the retention schedule, the counts
kept of what retention deleted (so team figures stay right), and the pass that lets only the
retention job delete from append-only tables."""
from datetime import date, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow


class SubjectAccessRequest(SQLModel, table=True):
    __tablename__ = "subject_access_request"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    received_on: date = Field()
    due_on: date = Field()  # one month from receipt; an extension moves it (by up to two more months)
    extension_reason: str | None = Field(default=None, sa_type=Text)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    # The release: when, by whom, to whom (a category, never a name) and what went (counts, redactions).
    released_at: datetime | None = utc_field(default=None, nullable=True)
    released_by_id: int | None = Field(default=None, foreign_key="user.id")
    released_to: str | None = Field(default=None, max_length=20)
    release_detail: str | None = Field(default=None, max_length=500)


class RetentionRule(SQLModel, table=True):
    """How long a kind of record is kept (admins set it; the defaults are in services/retention)."""

    __tablename__ = "retention_rule"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24, unique=True)
    keep_days: int = Field()
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = utc_field(default_factory=utcnow)


class RetainedCount(SQLModel, table=True):
    """What retention deleted, as anonymised counts per team and month (what the figures count)."""

    __tablename__ = "retained_count"
    __table_args__ = (UniqueConstraint("team_id", "month", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    month: date = Field()  # the first day of the month the records were about
    kind: str = Field(max_length=24)
    count: int = Field(default=0)


class RetainedPlan(SQLModel, table=True):
    """A plan retention deleted, kept without the person: when it was open and how each goal ended
    (what the outcome figures count for any date range)."""

    __tablename__ = "retained_plan"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    opened_at: datetime = utc_field()
    closed_at: datetime | None = utc_field(default=None, nullable=True)
    goals_achieved: int = Field(default=0)
    goals_partly: int = Field(default=0)
    goals_not_achieved: int = Field(default=0)


class RetentionPass(SQLModel, table=True):
    """A row here, inside the retention job's own transaction, is what lets the database's
    append-only triggers allow a DELETE; nobody else's transaction can see it."""

    __tablename__ = "retention_pass"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = utc_field(default_factory=utcnow)
