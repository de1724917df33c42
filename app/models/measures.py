"""Outcome measures taken with a person, and the licences the organisation holds for them.

Both tables are append-only (the migration makes the database refuse updates and deletes): a
correction is a new response that supersedes the old one, with a reason; a licence given up is a
new row saying so.
"""
from datetime import datetime

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

ANSWERED = ("alone", "with_help")


class MeasureResponse(SQLModel, table=True):
    __tablename__ = "measure_response"
    __table_args__ = (Index("ix_measure_response_person_taken", "person_id", "taken_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    instrument: str = Field(max_length=40)  # a module's key in app/instruments (e.g. "phq9")
    instrument_version: str = Field(max_length=80)
    asked_by_id: int = Field(foreign_key="user.id")
    taken_at: datetime = utc_field()  # when it was asked (the phone's moment, for an offline send)
    answered: str = Field(default="alone", max_length=12)  # alone / with_help
    answers: dict = Field(default_factory=dict, sa_type=JSON)  # item key → the option's stored value
    total: float | None = Field(default=None)  # None when declined
    band: str | None = Field(default=None, max_length=40)
    declined_reason: str | None = Field(default=None, sa_type=Text)
    supersedes_id: int | None = Field(default=None, foreign_key="measure_response.id", index=True)
    correction_reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = utc_field(default_factory=utcnow)


class OrganisationLicence(SQLModel, table=True):
    __tablename__ = "organisation_licence"

    id: int | None = Field(default=None, primary_key=True)
    licence: str = Field(max_length=40, index=True)  # e.g. "wemwbs"
    held: bool = Field(default=True)
    note: str | None = Field(default=None, sa_type=Text)  # e.g. the licence's reference
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)


class TeamScale(SQLModel, table=True):
    """A team's own 0–10 question (e.g. "How settled is your housing?"): shown as not validated.
    Retired rather than deleted, so the scores taken with it keep their wording."""
    __tablename__ = "team_scale"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str = Field(max_length=80)
    question: str = Field(max_length=200)
    low_label: str = Field(max_length=60)
    high_label: str = Field(max_length=60)
    higher_is_worse: bool = Field(default=False)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    retired_at: datetime | None = utc_field(default=None, nullable=True)
