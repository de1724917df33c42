"""Crisis referrals of a person to a partner service, the directory of those services, and the
history of each referral."""
from datetime import datetime, time

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from app.models.types import utc_field, utcnow

ROUTES = ("mental_health", "safeguarding_adults", "safeguarding_children", "police", "substance_use", "housing",
          "domestic_abuse")
STATUSES = ("draft", "awaiting_approval", "sent", "acknowledged", "accepted", "declined", "closed")


class PartnerService(SQLModel, table=True):
    __tablename__ = "partner_service"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=150)
    route: str = Field(max_length=24, index=True)
    phone: str | None = Field(default=None, max_length=32)
    secure_email: str | None = Field(default=None, max_length=254)
    # Opening hours: the weekdays open (Monday=1 ... Sunday=7) and the hours; no hours means all day.
    open_days: str = Field(default="1234567", max_length=7)
    opens_at: time | None = Field(default=None)
    closes_at: time | None = Field(default=None)
    area: str | None = Field(default=None, max_length=150)
    active: bool = Field(default=True)
    created_at: datetime = utc_field(default_factory=utcnow)


class Referral(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    route: str = Field(max_length=24)
    partner_id: int | None = Field(default=None, foreign_key="partner_service.id")
    status: str = Field(default="draft", max_length=20)
    # The route's own questions (services/referrals checks them), and the summary sent with them.
    answers: dict = Field(default_factory=dict, sa_type=JSON)
    summary: str = Field(default="", sa_type=Text)
    # Lawful basis: "consent", or a reason to share without it (with its explanation).
    lawful_basis: str = Field(max_length=20)
    basis_reason: str | None = Field(default=None, sa_type=Text)
    approved_by_id: int | None = Field(default=None, foreign_key="user.id")
    approved_at: datetime | None = utc_field(default=None, nullable=True)
    # Domestic abuse: the 24 DASH answers ("yes" / "no" / "not_known"), the score, MARAC referral.
    dash: list[str] = Field(default_factory=list, sa_type=JSON)
    dash_score: int | None = Field(default=None)
    marac: bool = Field(default=False)
    sent_at: datetime | None = utc_field(default=None, nullable=True)
    # When to remind the author if the service has not answered.
    follow_up_at: datetime | None = utc_field(default=None, nullable=True, index=True)
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)


class ReferralEvent(SQLModel, table=True):
    """Every status change of a referral, with who and when. Append-only (database trigger)."""

    __tablename__ = "referral_event"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    at: datetime = utc_field(default_factory=utcnow)
    by_id: int | None = Field(default=None, foreign_key="user.id")
    status: str = Field(max_length=20)
    note: str | None = Field(default=None, sa_type=Text)
