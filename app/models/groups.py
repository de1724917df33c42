"""Group programmes: a programme's sessions and materials, the groups that run it, who is enrolled,
each session's register, and "keep apart" flags between two people.

A group's schedule is kept as the appointments keep theirs (local wall-clock time, a repeating
rule), and each of its sessions is written down when the group is made, so a session has an id for
its register.
"""
from datetime import date, datetime

from sqlalchemy import DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from app.models.types import utc_field, utcnow

GROUP_REPEATS = ("weekly", "fortnightly")
# enrolled | waiting (the group is full) -> enrolled; then moved (to another group), completed,
# not_completed (with a reason) or withdrawn.
ENROLMENT_STATES = ("enrolled", "waiting", "moved", "completed", "not_completed", "withdrawn")
ACTIVE_STATES = ("enrolled", "waiting")
MARKS = ("attended", "late", "left_early", "acceptable_absence", "unacceptable_absence", "sent_home")


class Programme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str = Field(max_length=120)
    session_count: int = Field()
    # The completion rule: attend at least this share of the sessions, and these ones.
    complete_percent: int = Field(default=80)
    must_attend_first: bool = Field(default=True)
    must_attend_last: bool = Field(default=True)
    created_at: datetime = utc_field(default_factory=utcnow)


class ProgrammeSession(SQLModel, table=True):
    """One session of the programme's plan (not a meeting: a group's GroupSession is that)."""

    __tablename__ = "programme_session"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    number: int = Field()
    topic: str = Field(max_length=200)
    aims: str | None = Field(default=None, sa_type=Text)
    facilitator_notes: str | None = Field(default=None, sa_type=Text)


class ProgrammeMaterial(SQLModel, table=True):
    """A file for a session (worksheet, slides). Kept in the database: a few per programme, each
    checked and at most a few MB, and every web process sees them without a shared folder."""

    __tablename__ = "programme_material"

    id: int | None = Field(default=None, primary_key=True)
    programme_session_id: int = Field(foreign_key="programme_session.id", index=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=120)
    size_bytes: int = Field()
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # lists defer it
    uploaded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)


class Group(SQLModel, table=True):
    __tablename__ = "programme_group"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    name: str = Field(max_length=120)
    venue: str = Field(max_length=300)
    # The first session, local wall-clock time; the rest follow the rule (as appointments do).
    starts_local: datetime = Field(sa_type=DateTime(timezone=False))
    duration_minutes: int = Field()
    repeat: str = Field(default="weekly", max_length=12)
    # The final session's date (set from the programme's number of sessions).
    repeat_until: date | None = Field(default=None)
    capacity: int = Field()
    # Attendance counts towards the people's orders (their compliance record).
    enforceable: bool = Field(default=False)
    closed_at: datetime | None = utc_field(default=None, nullable=True)
    created_at: datetime = utc_field(default_factory=utcnow)


class GroupFacilitator(SQLModel, table=True):
    __tablename__ = "group_facilitator"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="programme_group.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)


class GroupSession(SQLModel, table=True):
    __tablename__ = "group_session"
    __table_args__ = (UniqueConstraint("group_id", "number"), Index("ix_group_session_when", "starts_local"))

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="programme_group.id", index=True)
    number: int = Field()
    starts_local: datetime = Field(sa_type=DateTime(timezone=False))
    started_at: datetime | None = utc_field(default=None, nullable=True)
    started_by_id: int | None = Field(default=None, foreign_key="user.id")
    # The facilitator's visit timer started with the session.
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    register_saved_at: datetime | None = utc_field(default=None, nullable=True)


class Enrolment(SQLModel, table=True):
    __table_args__ = (Index("ix_enrolment_group_state", "group_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    group_id: int = Field(foreign_key="programme_group.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    state: str = Field(default="enrolled", max_length=16)
    enrolled_at: datetime = utc_field(default_factory=utcnow)
    enrolled_by_id: int = Field(foreign_key="user.id")
    ended_at: datetime | None = utc_field(default=None, nullable=True)
    end_reason: str | None = Field(default=None, sa_type=Text)
    moved_to_group_id: int | None = Field(default=None, foreign_key="programme_group.id")
    # A supervisor let them in despite a non-association (who, and why).
    override_by_id: int | None = Field(default=None, foreign_key="user.id")
    override_reason: str | None = Field(default=None, sa_type=Text)


class Attendance(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("group_session_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_session_id: int = Field(foreign_key="group_session.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    mark: str = Field(max_length=24)
    reason: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, max_length=500)
    tell_key_worker: bool = Field(default=False)
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)


class KeepApart(SQLModel, table=True):
    """Two people who must not be in the same group (stored with the lower id first)."""

    __tablename__ = "keep_apart"
    __table_args__ = (Index("ix_keep_apart_pair", "person_id", "other_person_id"),
                      Index("ix_keep_apart_other", "other_person_id"))

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    person_id: int = Field(foreign_key="person.id")
    other_person_id: int = Field(foreign_key="person.id")
    reason: str = Field(sa_type=Text)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    ended_at: datetime | None = utc_field(default=None, nullable=True)
