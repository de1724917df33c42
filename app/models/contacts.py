"""Contacts (what happened when a worker met or tried to reach someone), their history and photos."""
from datetime import date, datetime

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

CONTACT_TYPES = ("face_to_face", "home_visit", "street_outreach", "phone", "video", "attempted")
NEEDS = ("housing", "substance_use", "mental_health", "physical_health", "money", "work_learning",
         "relationships", "offending", "safety")


class Contact(SQLModel, table=True):
    __table_args__ = (Index("ix_contact_person_when", "person_id", "happened_at"),
                      Index("ix_contact_team_when", "team_id", "happened_at"))

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    # None for a street contact whose name isn't known yet (matched to a person later).
    person_id: int | None = Field(default=None, foreign_key="person.id")
    street_description: str | None = Field(default=None, max_length=300)
    author_id: int = Field(foreign_key="user.id", index=True)
    contact_type: str = Field(max_length=16)
    happened_at: datetime = utc_field()
    duration_minutes: int | None = Field(default=None)
    location_text: str | None = Field(default=None, max_length=200)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    needs: list[str] = Field(default_factory=list, sa_type=JSON)
    notes: str = Field(default="", sa_type=Text)
    actions_agreed: str | None = Field(default=None, sa_type=Text)
    follow_up_on: date | None = Field(default=None)
    safeguarding_concern: bool = Field(default=False)
    risk_changed: bool = Field(default=False)
    version: int = Field(default=1)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)
    deleted_at: datetime | None = utc_field(default=None, nullable=True)
    deleted_by_id: int | None = Field(default=None, foreign_key="user.id")
    delete_reason: str | None = Field(default=None, max_length=500)


class ContactVersion(SQLModel, table=True):
    """A contact as it was before a correction, and who changed it. Append-only."""

    __tablename__ = "contact_version"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    version: int = Field()
    replaced_at: datetime = utc_field(default_factory=utcnow)
    replaced_by_id: int = Field(foreign_key="user.id")
    snapshot: dict = Field(default_factory=dict, sa_type=JSON)


class ContactAddendum(SQLModel, table=True):
    __tablename__ = "contact_addendum"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    at: datetime = utc_field(default_factory=utcnow)
    author_id: int = Field(foreign_key="user.id")
    text: str = Field(sa_type=Text)


class Photo(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    uploaded_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    # Random file names in the instance folder's uploads/, never under a public static URL.
    stored_as: str = Field(max_length=64, unique=True)
    thumb_stored_as: str = Field(max_length=64, unique=True)
    width: int = Field()
    height: int = Field()
    size_bytes: int = Field()
