"""A person's plan: goals by area of need, the steps towards them, the person's agreement, reviews
and the versions the plan went through.

`Plan`, `PlanGoal` and `PlanStep` hold the plan as it stands now. Every change also writes a
`PlanVersion` (a snapshot of the whole plan and a line saying what changed): the migration makes
versions, agreements and goal notes append-only, so the history cannot be rewritten.
"""
from datetime import date, datetime

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

AREAS = ("accommodation", "work", "finance", "family", "drugs_alcohol", "health", "thinking", "safety")
GOAL_STATUSES = ("active", "future", "achieved", "not_needed")
STEP_OWNERS = ("person", "worker", "service", "other")
STEP_STATUSES = ("not_started", "in_progress", "done", "cannot_yet", "not_needed")
AGREEMENTS = ("agrees", "does_not_agree", "could_not_answer")
EXIT_OUTCOMES = ("achieved", "partly", "not_achieved")


class Plan(SQLModel, table=True):
    __table_args__ = (Index("ix_plan_team_status", "team_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    status: str = Field(default="open", max_length=8)  # open / closed
    version: int = Field(default=0)  # the latest PlanVersion's number
    review_due_on: date
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    closed_at: datetime | None = utc_field(default=None, nullable=True)
    closed_by_id: int | None = Field(default=None, foreign_key="user.id")
    # The relapse-prevention plan written at exit.
    warning_signs: str | None = Field(default=None, sa_type=Text)
    what_helps: str | None = Field(default=None, sa_type=Text)
    who_to_contact: str | None = Field(default=None, sa_type=Text)
    signposted: str | None = Field(default=None, sa_type=Text)


class PlanGoal(SQLModel, table=True):
    __tablename__ = "plan_goal"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    area: str = Field(max_length=20)
    wants: str = Field(sa_type=Text)  # what the person wants to achieve, in their words
    how_we_know: str = Field(sa_type=Text)  # the measure, or a plain-words test
    measure: str | None = Field(default=None, max_length=40)  # an instrument's key, when one shows it
    target_on: date
    related_areas: list[str] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(default="active", max_length=12)
    status_reason: str | None = Field(default=None, sa_type=Text)
    outcome: str | None = Field(default=None, max_length=12)  # at exit: achieved / partly / not_achieved
    outcome_note: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = utc_field(default_factory=utcnow)


class PlanStep(SQLModel, table=True):
    __tablename__ = "plan_step"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="plan_goal.id", index=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    what: str = Field(sa_type=Text)
    owner: str = Field(max_length=10)  # person / worker / service / other
    owner_name: str | None = Field(default=None, max_length=120)  # the service or person, when named
    owner_id: int | None = Field(default=None, foreign_key="user.id")  # the worker, for "me"
    due_on: date | None = Field(default=None)
    status: str = Field(default="not_started", max_length=12)
    created_at: datetime = utc_field(default_factory=utcnow)


class PlanVersion(SQLModel, table=True):
    __tablename__ = "plan_version"
    __table_args__ = (Index("ix_plan_version_plan_number", "plan_id", "number", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    team_id: int = Field(foreign_key="team.id")
    number: int
    kind: str = Field(max_length=10)  # change / review / close
    change: str = Field(sa_type=Text)  # what changed, in words
    snapshot: dict = Field(default_factory=dict, sa_type=JSON)  # the whole plan as it then stood
    made_by_id: int = Field(foreign_key="user.id")
    made_at: datetime = utc_field(default_factory=utcnow)


class PlanAgreement(SQLModel, table=True):
    """The person's answer to the plan as it stood at `version` (the whole plan, or that change)."""
    __tablename__ = "plan_agreement"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    version: int
    answer: str = Field(max_length=20)
    why: str | None = Field(default=None, sa_type=Text)
    comment: str | None = Field(default=None, sa_type=Text)  # the person's own words
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)


class GoalNote(SQLModel, table=True):
    """Progress on a goal: from a contact that worked on it, or a review. Appended, never edited."""
    __tablename__ = "goal_note"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="plan_goal.id", index=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    kind: str = Field(max_length=10)  # contact / review
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    text: str = Field(sa_type=Text)
    by_id: int = Field(foreign_key="user.id")
    at: datetime = utc_field(default_factory=utcnow)
